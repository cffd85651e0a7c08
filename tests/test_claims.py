"""A run in another PID namespace (another container on the same file system) keeps its
staging and work trees while it works, although its pid means nothing here.

The other run is real: a reportgen writer started under ``unshare --pid`` with its pid
chosen (``ns_last_pid``) to be one that is not alive on this side, paused inside its work
by the progress hook or in its staging tree.  A run of the same output here sweeps what
killed runs left; it must leave the other run's trees alone (each is held by ``flock``:
``converters.workdirs.claimed``), and the other run must still end cleanly.  Needs root
(``unshare``); CI runs as root.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from converters.workdirs import _pid_max, pid_alive, remove_stale
from tests.converters import builders as b
from tests.invariants import run_cli

REPO = Path(__file__).resolve().parents[1]

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path

    kind, src, dst, ready, go = sys.argv[1:6]

    def pause():
        Path(ready).write_text(str(os.getpid()))
        while not os.path.exists(go):
            time.sleep(0.02)

    class Bar:
        def update(self, n=1): pass
        def close(self): pass

    def sink(description, _total, _unit):
        if description == "writing " + Path(dst).name:
            pause()
        return Bar()

    try:
        if kind == "archive":
            from converters import migrate, progress
            with progress.reporting(sink):
                migrate(Path(src), Path(dst), "0.13")
        else:
            from reportgen.outdir import replace_dir, staging_tree
            with staging_tree(Path(dst)) as staging:
                (staging / "half-written").write_text("x")
                pause()
                replace_dir(staging, Path(dst), may_replace=False)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 1))
    """
)

# pid 1 of the new namespace: the next process it starts gets the pid asked for
LAUNCHER = textwrap.dedent(
    """
    import subprocess, sys
    with open("/proc/sys/kernel/ns_last_pid", "w") as fh:
        fh.write(str(int(sys.argv[1]) - 1))
    sys.exit(subprocess.call([sys.executable, *sys.argv[2:]]))
    """
)


def _unshare_works() -> bool:
    if os.geteuid() != 0:
        return False
    try:
        probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _unshare_works(), reason="needs root and unshare --pid (another PID namespace)")


def _dead_pid() -> int:
    """A pid that no process here has, but which this system could hand out."""
    top = _pid_max()
    return next(pid for pid in range(top - 10, top // 2, -1) if not pid_alive(pid))


class OtherNamespaceRun:
    """A writer in a new PID namespace, paused mid-work until ``resume``."""

    def __init__(self, tmp_path: Path, kind: str, src: Path, dst: Path) -> None:
        self.pid = _dead_pid()
        self.ready, self.go = tmp_path / "ready", tmp_path / "go"
        writer, launcher = tmp_path / "writer.py", tmp_path / "launcher.py"
        writer.write_text(WRITER)
        launcher.write_text(LAUNCHER)
        command = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", sys.executable, str(launcher), str(self.pid),
                   str(writer), kind, str(src), str(dst), str(self.ready), str(self.go)]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        self._wait_paused()

    def _wait_paused(self) -> None:
        deadline = time.monotonic() + 120
        while not self.ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"the other run did not reach its pause: {self.process.communicate()[1]}")
            time.sleep(0.05)
        assert int(self.ready.read_text()) == self.pid  # its own pid, as its names carry it
        assert not pid_alive(self.pid)  # ... which here belongs to no process

    def resume(self) -> tuple[int, str]:
        self.go.touch()
        _out, err = self.process.communicate(timeout=120)
        return self.process.returncode, err

    def trees(self, folder: Path) -> list[str]:
        return sorted(p.name for p in folder.iterdir() if f"-{self.pid}" in p.name)


def _legacy(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    return b.build_archive(tmp_path / "in", "0.4")


def test_an_archive_run_in_another_namespace_keeps_its_staging_file_and_work_folder(tmp_path: Path) -> None:
    src, out = _legacy(tmp_path), tmp_path / "out"
    out.mkdir()
    dst = out / "runs.aiida"
    other = OtherNamespaceRun(tmp_path, "archive", src, dst)
    try:
        held = other.trees(out)
        assert any(".staging-" in name for name in held) and any(".work-" in name for name in held), held
        assert remove_stale(dst) == []  # the sweep itself, as every writer of this output runs it
        result = run_cli("archive", "migrate", src, dst, "--to", "0.13")  # a run here, of the same output
        assert result.code == 0, result.stderr
        assert other.trees(out) == held  # still there: the other run is working in them
    finally:
        code, err = other.resume()
    assert code == 73 and "another run" in err, err  # it finished, found this side's output, kept it
    assert other.trees(out) == []
    assert run_cli("archive", "validate", dst).code == 0


def test_a_folder_run_in_another_namespace_keeps_its_staging_tree(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "store"
    other = OtherNamespaceRun(tmp_path, "folder", tmp_path, target)
    try:
        held = other.trees(out)
        assert held == [f".store.staging-{other.pid}"]
        result = run_cli("example", target, "--jobs", "1")
        assert result.code == 0, result.stderr
        assert other.trees(out) == held
        assert (out / held[0] / "half-written").read_text() == "x"
    finally:
        code, err = other.resume()
    assert code == 73 and "another run" in err, err
    assert other.trees(out) == []


def test_the_same_trees_are_swept_once_their_run_is_gone(tmp_path: Path) -> None:
    """The claim goes with the process: a killed run's trees are free at once."""
    src, out = _legacy(tmp_path), tmp_path / "out"
    out.mkdir()
    dst = out / "runs.aiida"
    other = OtherNamespaceRun(tmp_path, "archive", src, dst)
    assert other.trees(out)
    other.process.kill()  # --kill-child: its pid 1 dies with it, and the whole namespace with that
    other.process.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while other.trees(out) and time.monotonic() < deadline:
        remove_stale(dst)
        time.sleep(0.1)  # the kernel releases the writer's locks as it reaps it
    assert other.trees(out) == []
