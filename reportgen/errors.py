"""reportgen's errors: the shared hierarchy from ``converters.errors``.

Re-exported here so reportgen code names one module; see that module for the
contract (one line, a file, a member, a reason, a sysexits code).  ``ConfigError``
is reportgen's own: only ``reportgen build --config`` reads a config file.
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

EXIT_CONFIG = 78  # sysexits EX_CONFIG


class ConfigError(ToolError):
    """A config file (``build --config``) is not one reportgen accepts: ``member`` names the key."""

    exit_code = EXIT_CONFIG
