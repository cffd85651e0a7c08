"""Restore gives executables x only where the umask left r."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.export.test_audit_fixes import write_store
from tests.invariants import run_cli


def test_restored_executables_follow_the_umask(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    tool = store / "proj" / "j1" / "run.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert run_cli("export", store, "-o", tmp_path / "a.aiida").code == 0
    restored = {}
    for umask in (0o022, 0o077):
        code = (f"import os, sys; os.umask({umask}); from reportgen.export import restore_data_store; "
                "restore_data_store(sys.argv[1], sys.argv[2])")
        proc = subprocess.run([sys.executable, "-c", code, tmp_path / "a.aiida", tmp_path / f"r{umask:o}"],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        root = tmp_path / f"r{umask:o}"
        restored[umask] = (root / "proj/j1/run.sh").stat().st_mode & 0o777, (root / "proj/j1/QPU.log").stat().st_mode & 0o777
    assert restored == {0o022: (0o755, 0o644), 0o077: (0o700, 0o600)}
