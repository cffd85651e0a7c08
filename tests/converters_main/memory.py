"""Peak memory (VmHWM) of a child process, read from procfs while it runs.

``ru_maxrss`` of a child carries the parent's peak across fork and exec
(security reference, section 6), so the child's ``/proc/<pid>/status`` is
polled instead; VmHWM only grows, so the last reading is the peak.
"""

from __future__ import annotations

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


def measure(command: list[str], env: dict | None = None, interval: float = 0.01) -> Measured:
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _vmhwm_kib(proc.pid))
        time.sleep(interval)
    stderr = proc.stderr.read() if proc.stderr else ""
    return Measured(proc.returncode, time.perf_counter() - start, peak / 1024, stderr)
