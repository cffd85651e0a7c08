"""``archive inspect`` names the metadata's ``aiida_version`` as what it is.

It said "written by AiiDA 2.9.4" of a 0.13 archive that reportgen wrote by
migrating down (no AiiDA release writes 0.13: reference section 1.4);
reportgen's conversions keep ``aiida_version`` as the first writer recorded it.
"""

from __future__ import annotations

from converters import inspect, render_summary
from converters.main import convert
from tests.converters_main.builders import legacy_013, write_legacy


def test_inspect_names_the_recorded_aiida_version_not_a_writer(tmp_path):
    metadata, data, files = legacy_013()
    src = write_legacy(tmp_path / "in.zip", metadata, data, files)
    convert(src, tmp_path / "main.aiida")
    convert(tmp_path / "main.aiida", tmp_path / "down.zip", to_version="0.13")
    text = render_summary(inspect(tmp_path / "down.zip"))
    assert "export version: 0.13 (metadata.json: aiida_version 2.9.4)" in text
    assert "written by" not in text
    assert "conversion history:" in text and "Converted from version main_0000 to 0.13 with reportgen" in text
