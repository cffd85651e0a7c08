"""Peak memory (VmHWM) of a child process, read from procfs while it runs.

``ru_maxrss`` of a child carries the parent's peak across fork and exec
(security reference, section 6), so the child's ``/proc/<pid>/status`` is
polled instead, for the command and every process below it; VmHWM only
grows, so the last reading of each is its peak.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    code: int
    seconds: float
    peak_mib: float
    stderr: str


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


def measure(command: list[str], env: dict | None = None, interval: float = 0.01) -> Measured:
    """Wall time and peak memory of ``command``: the sum of each process's own peak, over the
    command and its children (an upper bound of their peak together)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    peaks: dict[int, int] = {}
    while proc.poll() is None:
        for pid in _tree(proc.pid):
            peaks[pid] = max(peaks.get(pid, 0), _vmhwm_kib(pid))
        time.sleep(interval)
    stderr = proc.stderr.read() if proc.stderr else ""
    return Measured(proc.returncode, time.perf_counter() - start, sum(peaks.values()) / 1024, stderr)
