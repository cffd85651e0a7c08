"""A signal whose exception Python drops prints no traceback.

A SIGTERM that lands in logging's at-fork hook while the worker pool starts used to
print "Exception ignored in ..." and a traceback before ``reportgen: error:
terminated``.  The CLI now puts ``interrupts.quiet_unraisable`` in front of
``sys.unraisablehook``: it says nothing about the tool's own ``Terminated`` /
``KeyboardInterrupt`` of a signal it took, and hands everything else on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from converters import interrupts
from reportgen.errors import EXIT_SIGTERM


def _real_unraisable(exc: BaseException):
    """A real ``UnraisableHookArgs``, as Python builds it for an exception in ``__del__``."""
    got = []
    previous, sys.unraisablehook = sys.unraisablehook, got.append

    class _Raises:
        def __del__(self) -> None:
            raise exc

    try:
        _Raises()
    finally:
        sys.unraisablehook = previous
    return got[0]


@pytest.fixture
def quiet_hook(monkeypatch):
    """The hook installed over a recording one; the recorded reports are returned."""
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    monkeypatch.setattr(interrupts, "_previous_hook", None)
    interrupts.clear()
    interrupts.install_unraisable_hook()
    interrupts.install_unraisable_hook()  # twice, as two runs of the CLI in one process do: still one layer
    yield seen
    interrupts.clear()


@pytest.mark.parametrize(("signum", "exc"), [(signal.SIGTERM, interrupts.Terminated()), (signal.SIGINT, KeyboardInterrupt())])
def test_the_exception_of_a_signal_taken_is_not_reported(quiet_hook, signum, exc):
    interrupts._received = signum  # as on_signal leaves it
    unraisable = _real_unraisable(exc)
    sys.unraisablehook(unraisable)
    assert quiet_hook == []


def test_anything_else_goes_to_the_previous_hook(quiet_hook):
    interrupts._received = signal.SIGTERM
    others = [_real_unraisable(ValueError("a bug")), _real_unraisable(KeyboardInterrupt())]
    for unraisable in others:  # a KeyboardInterrupt that is not the signal taken is not ours
        sys.unraisablehook(unraisable)
    interrupts.clear()
    lone = _real_unraisable(interrupts.Terminated())  # no signal came: not one of ours either
    sys.unraisablehook(lone)
    assert quiet_hook == [*others, lone]


def test_without_an_earlier_hook_the_default_one_prints(capsys, monkeypatch):
    monkeypatch.setattr(interrupts, "_previous_hook", None)
    interrupts.quiet_unraisable(_real_unraisable(ValueError("a bug")))
    assert "ValueError: a bug" in capsys.readouterr().err


# ---------------------------------------------------------------- the real CLI, a signal in an at-fork hook
_FORK_TERM = textwrap.dedent("""
    import os, signal, sys
    from reportgen import cli

    sent = []

    def term_once():  # runs in the parent after each fork, where logging's own hook runs too
        if not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGTERM)

    os.register_at_fork(after_in_parent=term_once)
    cli.main(sys.argv[1:])
""")


def test_sigterm_while_the_pool_forks_gives_one_line(example_store: Path, tmp_path: Path):
    proc = subprocess.run([sys.executable, "-c", _FORK_TERM, "build", str(example_store), "-o", str(tmp_path / "site"),
                           "--workers", "2"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CI": "1"}, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == EXIT_SIGTERM, proc.stderr
    assert proc.stderr == "reportgen: error: terminated\n"  # no "Exception ignored in", no traceback
    assert not (tmp_path / "site").exists()
