"""A job folder or file that cannot be read stops the export with exit 66 (it used to be skipped,
exit 0, its files missing from the archive); an unreadable folder of a bundle being verified is
"input missing" too.

Unreadable inputs need a process without CAP_DAC_OVERRIDE (``tests.unprivileged``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.export.test_audit_fixes import write_store
from tests.invariants import assert_no_staging_left, assert_one_error_line
from tests.unprivileged import run_cli_unprivileged


@pytest.mark.parametrize("what", ["folder", "file"])
def test_unreadable_job_folder_or_file_stops_the_export(tmp_path: Path, what: str):
    store = tmp_path / "data_store"
    write_store(store)
    locked = store / "proj" / "j1" if what == "folder" else store / "proj" / "j1" / "QPU.log"
    os.chmod(locked, 0)
    try:
        run = run_cli_unprivileged("export", store, "-o", tmp_path / "out.aiida")
    finally:
        os.chmod(locked, 0o755 if what == "folder" else 0o644)
    assert_one_error_line(run, 66, "permission denied", str(locked))
    assert not (tmp_path / "out.aiida").exists()
    assert_no_staging_left(tmp_path)


def test_unreadable_folder_in_a_bundle_being_verified_is_input_missing(tmp_path: Path):
    from reportgen.bundle import list_payload
    from reportgen.errors import InputMissingError

    (tmp_path / "bag" / "data" / "site").mkdir(parents=True)
    (tmp_path / "bag" / "data" / "site" / "a").write_text("x")
    os.chmod(tmp_path / "bag" / "data" / "site", 0)
    try:
        if os.access(tmp_path / "bag" / "data" / "site", os.R_OK):
            pytest.skip("permission bits do not apply to this process (root)")
        with pytest.raises(InputMissingError, match="permission denied"):
            list_payload(tmp_path / "bag")
    finally:
        os.chmod(tmp_path / "bag" / "data" / "site", 0o755)
