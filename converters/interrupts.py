"""SIGTERM and SIGINT as exceptions, and the one place that remembers them.

The CLI installs ``on_signal`` for both signals: it raises ``Terminated`` (or
``KeyboardInterrupt``) in the main thread, so that every ``finally`` removes
its temporary files and the output is left as it was.

Python drops such an exception, with an "Exception ignored in" line, when it
lands in code Python runs on its own behalf: an at-fork hook (each worker a
process pool forks runs logging's), a ``__del__``, a weakref callback.  A
SIGTERM that arrived while the site build forked its workers was lost that
way: the build went on and published a complete site with exit 0.  So the
handler also records the signal, and each place that publishes an output calls
``check`` just before its rename (the CLI calls it once more at the end): a
dropped signal still stops the run before anything is published.  Python also
prints such a dropped exception with its traceback; ``install_unraisable_hook``
keeps it quiet, so the run's one error line is all that shows.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable


class Terminated(BaseException):
    """SIGTERM, raised where the main thread is, so that cleanup code runs (exit 143)."""


_received: int | None = None


def on_signal(signum: int, frame: object) -> None:
    """The handler of SIGTERM and SIGINT: remember the signal, then raise it as an exception."""
    global _received
    _received = signum
    raise _as_exception(signum)


def check() -> None:
    """Raise the stop a signal asked for, if one came (its own exception may have been dropped)."""
    if _received is not None:
        raise _as_exception(_received)


_previous_hook: Callable | None = None


def install_unraisable_hook() -> None:
    """Put ``quiet_unraisable`` in front of ``sys.unraisablehook`` (once; the CLI calls this
    with the signal handlers)."""
    global _previous_hook
    if sys.unraisablehook is not quiet_unraisable:
        _previous_hook, sys.unraisablehook = sys.unraisablehook, quiet_unraisable


def quiet_unraisable(unraisable: object) -> None:
    """``sys.unraisablehook``: say nothing about the exception of a signal ``on_signal`` took
    (``check`` raises it again where it can be handled, and the CLI prints its one line);
    anything else goes to the hook that was there before."""
    value = getattr(unraisable, "exc_value", None)
    if _received is not None and type(value) is type(_as_exception(_received)):
        return
    (_previous_hook or sys.__unraisablehook__)(unraisable)


def clear() -> None:
    """Forget a signal already handled (a new run of the CLI in the same process starts clean)."""
    global _received
    _received = None


def _as_exception(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated()
