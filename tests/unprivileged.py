"""The CLI run by a user for whom a ``chmod 000`` file is unreadable.

Unreadable inputs need a process without CAP_DAC_OVERRIDE: as root, the CLI runs under
``setpriv`` with that capability dropped (skipped when setpriv is missing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.invariants import Run, run_cli

DROP_CAPS = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
             "--bounding-set=-dac_override,-dac_read_search"]  # fmt: skip


def run_cli_unprivileged(*args: object, env: dict[str, str] | None = None) -> Run:
    """``run_cli`` in a process that permission bits apply to (root's override dropped)."""
    if os.geteuid() != 0:
        return run_cli(*args, env=env)
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    full_env = {**os.environ, "CI": "1", **(env or {})}
    proc = subprocess.run([*DROP_CAPS, sys.executable, "-m", "reportgen", *map(str, args)], capture_output=True,
                          text=True, env=full_env, timeout=120, check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)
