"""Any output name the OS accepts (up to NAME_MAX, 255 bytes) can be written: the temporary names
beside it stay short enough, and distinct for distinct outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.converters import builders as b
from tests.invariants import run_cli


@pytest.mark.parametrize(("stem", "to"), [("a" * 249, "0.13"), ("é" * 122, "0.13"), ("m" * 249, "main_0001")])
def test_any_output_name_the_os_accepts_can_be_written(tmp_path: Path, stem: str, to: str):
    src = b.write_container(tmp_path / "in.tar.gz", b.build_members("0.12"), "tar.gz")
    out = tmp_path / "out"
    out.mkdir()
    name = stem + ".aiida"  # 255 bytes: NAME_MAX
    assert len(name.encode()) <= 255
    run = run_cli("archive", "migrate", src, out / name, "--to", to)
    assert run.code == 0, run.stderr
    assert [p.name for p in out.iterdir()] == [name]


def test_temporary_stems_of_long_names_stay_distinct():
    from converters.workdirs import temp_stem

    one, two = Path("a" * 240 + "1.aiida"), Path("a" * 240 + "2.aiida")
    assert temp_stem(Path("m.aiida")) == "m.aiida"
    assert temp_stem(one) != temp_stem(two) and len(temp_stem(one).encode()) < 200
