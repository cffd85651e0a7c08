"""A signal whose exception Python dropped still stops the publishing of an output.

Real signals, sent to this process with ``os.kill``; the handler is the CLI's
(``converters.interrupts.on_signal``), installed for the test and removed after.
"""

from __future__ import annotations

import os
import signal
import sys

import pytest

from converters import interrupts
from converters.containers import OutMember, write_archive


@pytest.fixture
def handler():
    old = {s: signal.signal(s, interrupts.on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, previous in old.items():
        signal.signal(signum, previous)
    interrupts.clear()


class _SignalsWhileFinalized:
    """Sends a signal from ``__del__``, where Python drops any exception ("Exception ignored")."""

    def __init__(self, signum: int) -> None:
        self.signum = signum

    def __del__(self) -> None:
        os.kill(os.getpid(), self.signum)


def _drop_a_signal(signum: int, monkeypatch) -> type[BaseException]:
    """The type of the exception Python dropped (and reported to ``sys.unraisablehook``)."""
    dropped: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda report: dropped.append(report.exc_type))
    _SignalsWhileFinalized(signum)  # finalized at once: the handler runs, its exception is dropped
    monkeypatch.undo()
    assert len(dropped) == 1
    return dropped[0]


@pytest.mark.parametrize(("signum", "raised"), [(signal.SIGTERM, interrupts.Terminated), (signal.SIGINT, KeyboardInterrupt)])
def test_a_dropped_signal_stops_the_archive_before_its_rename(tmp_path, handler, monkeypatch, signum, raised):
    assert _drop_a_signal(signum, monkeypatch) is raised  # nothing is raised here...
    dst = tmp_path / "out.zip"
    with pytest.raises(raised):  # ...but the archive is not published
        write_archive(dst, "zip", [OutMember("a.txt", data=b"x", size=1)])
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary file


def test_without_a_signal_nothing_is_raised(tmp_path, handler):
    write_archive(tmp_path / "out.zip", "zip", [OutMember("a.txt", data=b"x", size=1)])
    interrupts.check()
    assert (tmp_path / "out.zip").is_file()


def test_a_signal_that_is_not_dropped_raises_where_it_lands(handler):
    with pytest.raises(interrupts.Terminated):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs between two bytecodes of this loop
            pass
