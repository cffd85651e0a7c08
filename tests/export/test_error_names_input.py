"""An export to another version goes through its own 0.13 archive and work files in a work folder;
an error line never names them (gone when the line is read): docs/exit-codes.md says the line names
the input at fault or the output (fuzz audit M2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.containers import OutMember
from reportgen.errors import BadInputError
from tests.export.test_full_tmpdir import tiny_tmpfs  # noqa: F401 (a fixture: a small tmpfs, unmounted after)
from tests.invariants import assert_one_error_line, run_cli


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store") / "ds"
    assert run_cli("example", root, "--jobs", "1").code == 0
    return root


# 200k: the 0.13 archive in the work folder fills it; 300k: data.json's row spool; 400k: SQLite's staging
@pytest.mark.parametrize(("tiny_tmpfs", "version"), [("200k", "main_0001"), ("300k", "main_0001"),
                                                    ("400k", "main_0001"), ("200k", "0.4")], indirect=["tiny_tmpfs"])
def test_a_full_disk_names_the_output_not_a_work_file(store: Path, tiny_tmpfs: Path, version: str):
    small_disk = tiny_tmpfs
    out = small_disk / "o.aiida"
    run = run_cli("export", store, "-o", out, "--export-version", version)
    line = assert_one_error_line(run, 74, "no space left on device", f"'{out}'")
    assert ".work-" not in line and "export-0.13" not in line
    assert not list(small_disk.iterdir())


def test_a_refused_conversion_of_the_export_names_the_data_store(tmp_path: Path):
    """What the converters refuse in the export's own 0.13 archive is said of the data_store, with the
    member it is about; the work folder is gone."""
    from reportgen.export.write import ExportOptions, work_errors_named, write_other_version

    store, out = tmp_path / "ds", tmp_path / "o.aiida"
    store.mkdir()
    meta = b'{"export_version": "0.13"}'  # and no data.json
    with pytest.raises(BadInputError) as caught, work_errors_named(store, out, "main_0001"):
        write_other_version(out, "zip", ExportOptions(export_version="main_0001"),
                            iter([OutMember("metadata.json", data=meta, size=len(meta))]))
    error = caught.value
    assert error.file == str(store) and error.member == ""
    assert error.reason.startswith("its export at 0.13 cannot be converted to main_0001: data.json: "), error.reason
    assert ".work-" not in str(error) and not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]
