"""Peak memory (VmHWM) of a child process, read from procfs while it runs.

``ru_maxrss`` of a child carries the parent's peak across fork and exec
(security reference, section 6), so the child's ``/proc/<pid>/status`` is
polled instead, for the command and every process below it; VmHWM only
grows, so the last reading of each is its peak.

With ``disk_under``, the same polls add up the disk used under that folder:
its files, and the files the processes hold open there after unlinking them
(anonymous work files), each counted once.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    code: int
    seconds: float
    peak_mib: float
    stderr: str
    peak_disk_mb: float = 0.0


def _vmhwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it (reportgen stages rows in a child: ``rowsink``)."""
    found, todo = [], [pid]
    while todo:
        here = todo.pop()
        found.append(here)
        try:
            for task in os.listdir(f"/proc/{here}/task"):
                with open(f"/proc/{here}/task/{task}/children") as fh:
                    todo += [int(p) for p in fh.read().split()]
        except OSError:
            pass
    return found


def measure(command: list[str], env: dict | None = None, interval: float = 0.01, disk_under: Path | None = None) -> Measured:
    """Wall time and peak memory of ``command``: the sum of each process's own peak, over the
    command and its children (an upper bound of their peak together); with ``disk_under``,
    the peak disk used under that folder too."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    peaks: dict[int, int] = {}
    disk = 0
    while proc.poll() is None:
        pids = _tree(proc.pid)
        for pid in pids:
            peaks[pid] = max(peaks.get(pid, 0), _vmhwm_kib(pid))
        if disk_under is not None:
            disk = max(disk, _disk_bytes(disk_under, pids))
        time.sleep(interval)
    stderr = proc.stderr.read() if proc.stderr else ""
    return Measured(proc.returncode, time.perf_counter() - start, sum(peaks.values()) / 1024, stderr, disk / 1e6)


def _disk_bytes(folder: Path, pids: list[int]) -> int:
    """Blocks used under ``folder``: its files and the (maybe unlinked) files ``pids`` hold open there."""
    root = os.path.realpath(folder)
    used: dict[tuple[int, int], int] = {}

    def add(path: str) -> None:
        try:
            st = os.stat(path)
        except OSError:  # gone between the listing and the stat
            return
        used[(st.st_dev, st.st_ino)] = st.st_blocks * 512

    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(root + os.sep):
                add(f"/proc/{pid}/fd/{fd}")
    for here, _, files in os.walk(root):
        for name in files:
            add(os.path.join(here, name))
    return sum(used.values())
