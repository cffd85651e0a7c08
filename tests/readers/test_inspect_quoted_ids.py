"""``reportgen inspect``: a job file name holding a newline or a bidi control must not forge or
reorder lines of the text report; such ids are quoted."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.invariants import run_cli
from tests.site.helpers import writable_copy


def test_text_report_quotes_job_ids_that_are_not_plain(example_store: Path, tmp_path: Path) -> None:
    store = writable_copy(example_store, tmp_path / "store")
    project = store / "default_project"
    forged = "jy\nproject 'FAKE': 0 jobs (no jobs)"
    shutil.copy2(project / "j1.hdf5", project / f"{forged}.hdf5")
    shutil.copy2(project / "j1.hdf5", project / "jz\u202e.hdf5")
    run = run_cli("inspect", store)
    lines = run.stdout.splitlines()
    assert not [line for line in lines if line.startswith("project 'FAKE'")], run.stdout
    assert any(line.startswith(f"  {forged!r}: ") for line in lines), run.stdout
    assert any(line.startswith("  'jz\\u202e': ") for line in lines), run.stdout
    assert any(line.startswith("  j1: ") for line in lines)  # plain names stay as they are
