"""The one error hierarchy of reportgen and converters.

It lives here, on the lower floor, because ``converters`` must never import
``reportgen`` while ``reportgen`` may import ``converters``.  Libraries raise
these; only the CLI catches them and turns each into one line::

    reportgen: error: 'archive.zip':'nodes/../x': unsafe member name

The exit codes follow sysexits(3), see ``docs/exit-codes.md``.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 64
EXIT_DATAERR = 65
EXIT_NOINPUT = 66
EXIT_UNAVAILABLE = 69
EXIT_SOFTWARE = 70
EXIT_CANTCREAT = 73
EXIT_IOERR = 74
EXIT_TEMPFAIL = 75
EXIT_SIGINT = 130
EXIT_SIGPIPE = 141  # the reader of stdout went away; as a shell reports a process SIGPIPE ended
EXIT_SIGTERM = 143


class ToolError(Exception):
    """Base of every error we raise on purpose: a file, a member and a reason."""

    exit_code = EXIT_SOFTWARE

    def __init__(self, file: object, reason: str, member: str = "") -> None:
        self.file = str(file) if file is not None else ""
        self.member = member
        self.reason = reason
        super().__init__(self.describe())

    def __reduce__(self):
        """Pickled by its arguments: an error raised in a worker process reaches the parent whole
        (the default pickling passes the one message to ``__init__``, and unpickling fails)."""
        return (type(self), (self.file, self.reason, self.member))

    def describe(self) -> str:
        """``'<file>'[:'<member>']: <reason>`` with names shown by repr()."""
        where = repr(self.file)
        if self.member:
            where += ":" + repr(self.member)
        return f"{where}: {self.reason}"


class UsageError(ToolError):
    """The command line asks for something impossible."""

    exit_code = EXIT_USAGE


class BadInputError(ToolError):
    """Input is malformed, unsafe or over a budget."""

    exit_code = EXIT_DATAERR


class InputMissingError(ToolError):
    """Input does not exist or cannot be opened."""

    exit_code = EXIT_NOINPUT


class ToolMissingError(ToolError):
    """A program reportgen needs is not installed (``git`` not on PATH): ``file`` names it."""

    exit_code = EXIT_UNAVAILABLE


class OutputError(ToolError):
    """The output cannot be created: it exists, or it overlaps the input."""

    exit_code = EXIT_CANTCREAT


class WriteError(ToolError):
    """An I/O error while writing (disk full, EIO)."""

    exit_code = EXIT_IOERR


class LockedError(ToolError):
    """Another process holds the output's lock."""

    exit_code = EXIT_TEMPFAIL
