"""Publishing a finished archive: a file that another run put at the output name while this
run worked is refused (73) and kept, unless ``--force``; a killed writer that is still a zombie
counts as gone, so its leftovers are swept.

The other run is played by the progress hook: when the "writing NAME" stage opens, the output
appears.  That is the window a second run of the same command has in real use.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from converters import migrate, progress
from converters.containers import OutMember, write_archive
from converters.errors import OutputError
from converters.main import convert
from converters.workdirs import pid_alive, rename_no_replace
from tests.converters import builders as b
from tests.invariants import assert_no_staging_left

OTHER_RUN = b"written by another run"


class _Bar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@contextmanager
def output_appears_while_writing(dst: Path):
    """The other run: ``dst`` is created as soon as this run starts writing it."""

    def sink(description: str, _total, _unit) -> _Bar:
        if description == f"writing {dst.name}" and not dst.exists():
            dst.write_bytes(OTHER_RUN)
        return _Bar()

    with progress.reporting(sink):
        yield


def _legacy(tmp_path: Path, version: str) -> Path:
    (tmp_path / "in").mkdir()
    return b.build_archive(tmp_path / "in", version)


CASES: dict[str, Callable[[Path, Path, bool], object]] = {
    "streamed legacy 0.4 -> 0.13": lambda src, dst, force: migrate(src, dst, "0.13", force=force),
    "in-memory legacy 0.2 -> 0.13": lambda src, dst, force: migrate(src, dst, "0.13", force=force),
    "legacy 0.12 -> main_0001": lambda src, dst, force: convert(src, dst, "main_0001", force=force),
}
SOURCES = {"streamed legacy 0.4 -> 0.13": "0.4", "in-memory legacy 0.2 -> 0.13": "0.2",
           "legacy 0.12 -> main_0001": "0.12"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_output_written_meanwhile_by_another_run_is_refused_and_kept(tmp_path: Path, case: str) -> None:
    src, dst = _legacy(tmp_path, SOURCES[case]), tmp_path / "out.aiida"
    with output_appears_while_writing(dst), pytest.raises(OutputError) as raised:
        CASES[case](src, dst, False)
    assert raised.value.exit_code == 73
    assert "another run" in raised.value.reason and raised.value.file == str(dst)
    assert dst.read_bytes() == OTHER_RUN
    assert_no_staging_left(tmp_path)


@pytest.mark.parametrize("case", sorted(CASES))
def test_with_force_the_output_written_meanwhile_is_replaced(tmp_path: Path, case: str) -> None:
    src, dst = _legacy(tmp_path, SOURCES[case]), tmp_path / "out.aiida"
    with output_appears_while_writing(dst):
        CASES[case](src, dst, True)
    assert dst.read_bytes()[:2] == b"PK"
    assert_no_staging_left(tmp_path)


@pytest.mark.parametrize("case", sorted(CASES))
def test_with_force_a_folder_that_appeared_at_the_output_is_refused_and_kept(tmp_path: Path, case: str) -> None:
    """``--force`` replaces a file, never a folder another run made meanwhile; the line names the
    output (it named the temporary file, with 74)."""
    src, dst = _legacy(tmp_path, SOURCES[case]), tmp_path / "out.aiida"

    def sink(description: str, _total, _unit) -> _Bar:
        if description == f"writing {dst.name}" and not dst.exists():
            dst.mkdir()
            (dst / "theirs").write_bytes(OTHER_RUN)
        return _Bar()

    with progress.reporting(sink), pytest.raises(OutputError) as raised:
        CASES[case](src, dst, True)
    assert raised.value.exit_code == 73 and raised.value.file == str(dst)
    assert "a folder appeared at the output" in raised.value.reason
    assert (dst / "theirs").read_bytes() == OTHER_RUN
    assert_no_staging_left(tmp_path)


def test_write_archive_refuses_an_existing_file_without_replace(tmp_path: Path) -> None:
    dst = tmp_path / "out.zip"
    dst.write_bytes(OTHER_RUN)
    with pytest.raises(OutputError):
        write_archive(dst, "zip", [OutMember("a.txt", data=b"a")])
    assert dst.read_bytes() == OTHER_RUN
    write_archive(dst, "zip", [OutMember("a.txt", data=b"a")], replace=True)
    assert dst.read_bytes()[:2] == b"PK"


def test_rename_no_replace_of_a_file(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(b"new")
    target.write_bytes(b"old")
    with pytest.raises(OutputError):
        rename_no_replace(source, target)
    assert (source.read_bytes(), target.read_bytes()) == (b"new", b"old")
    target.unlink()
    rename_no_replace(source, target)
    assert target.read_bytes() == b"new" and not source.exists()


def test_a_zombie_writer_counts_as_gone_a_running_one_as_alive(tmp_path: Path) -> None:
    running = subprocess.Popen(["sleep", "30"])
    try:
        assert pid_alive(running.pid)
    finally:
        running.kill()
    # killed and not yet reaped (no wait): a zombie, which never touches its files again
    deadline = time.monotonic() + 10
    while Path(f"/proc/{running.pid}/stat").read_text().split(")")[-1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the killed child never became a zombie"
        time.sleep(0.01)
    try:
        assert not pid_alive(running.pid)
    finally:
        running.wait()
    assert not pid_alive(running.pid)
