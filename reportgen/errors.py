"""reportgen's errors: the shared hierarchy from ``converters.errors``.

Re-exported here so reportgen code names one module; see that module for the
contract (one line, a file, a member, a reason, a sysexits code).
"""

from converters.errors import (  # noqa: F401  (re-exports)
    EXIT_CANTCREAT,
    EXIT_DATAERR,
    EXIT_IOERR,
    EXIT_NOINPUT,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGPIPE,
    EXIT_SIGTERM,
    EXIT_SOFTWARE,
    EXIT_TEMPFAIL,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    BadInputError,
    InputMissingError,
    LockedError,
    OutputError,
    ToolError,
    ToolMissingError,
    UsageError,
    WriteError,
)
