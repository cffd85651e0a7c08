"""The "writing NAME" bar counts the members' bytes before compression and says so (its unit)."""

from __future__ import annotations

from pathlib import Path

from converters.progress import UNCOMPRESSED, reporting
from tests.converters.test_progress import Recorder
from tests.invariants import run_cli


def test_an_export_to_main_says_its_bars_count_uncompressed_bytes(tmp_path: Path):
    from reportgen.export.write import ExportOptions, export_archive

    store = tmp_path / "ds"
    assert run_cli("example", store, "--jobs", "1").code == 0
    recorder = Recorder()
    with reporting(recorder):
        export_archive(store, tmp_path / "o.aiida", ExportOptions(export_version="main_0001"))
    writing = [bar for bar in recorder.bars if bar.description in ("writing export-0.13.zip", "writing o.aiida")]
    assert [bar.description for bar in writing] == ["writing export-0.13.zip", "writing o.aiida"]
    assert all(bar.unit == UNCOMPRESSED and bar.total is None and bar.advanced > 0 for bar in writing)
