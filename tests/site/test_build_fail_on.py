"""``build --fail-on error``: a nightly job fails on damaged data, not on a stray dotfile.

``--strict`` fails on any problem, and without it a build exits 0 whatever it found; the
report's counts were the only way to tell, so a nightly job stayed green on corrupt files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.invariants import assert_one_error_line, run_cli


def test_fail_on_error_ignores_warnings_and_fails_on_errors(example_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "data_store"
    shutil.copytree(example_store, store, symlinks=True)
    (store / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # a warning: a dotfile
    run = run_cli("build", store, "-o", tmp_path / "site", "--fail-on", "error")
    assert run.code == 0, run.stderr
    assert_one_error_line(run_cli("build", store, "-o", tmp_path / "site", "--fail-on", "warning"), 65, "--fail-on warning")
    job = sorted((store / "default_project").glob("*.hdf5"))[0]
    job.write_bytes(b"not an HDF5 file at all")  # an error: a corrupt job file
    line = assert_one_error_line(run_cli("build", store, "-o", tmp_path / "site", "--fail-on", "error"), 65, "--fail-on error")
    assert "build-report.json" in line
    assert (tmp_path / "site" / "index.html").is_file()  # the site is still written
