"""An export archive that another run put at the output name while this run worked is refused
(73) and kept, unless ``--force`` (the other run is played by the progress hook, as in
``tests/converters/test_publish.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.errors import OutputError
from reportgen.export.write import ExportOptions, export_archive
from tests.converters.test_publish import OTHER_RUN, output_appears_while_writing
from tests.export.test_audit_fixes import write_store
from tests.invariants import assert_no_staging_left


@pytest.mark.parametrize("version", ["0.13", "main_0001"])
def test_export_refuses_an_output_written_meanwhile_and_force_replaces_it(tmp_path: Path, version: str) -> None:
    store, out = tmp_path / "data_store", tmp_path / "out" / "run.aiida"
    write_store(store)
    out.parent.mkdir()
    with output_appears_while_writing(out), pytest.raises(OutputError) as raised:
        export_archive(store, out, ExportOptions(export_version=version))
    assert raised.value.exit_code == 73 and out.read_bytes() == OTHER_RUN
    assert_no_staging_left(out.parent)
    out.unlink()
    with output_appears_while_writing(out):
        export_archive(store, out, ExportOptions(export_version=version, force=True))
    assert out.read_bytes()[:2] == b"PK"
    assert_no_staging_left(out.parent)
