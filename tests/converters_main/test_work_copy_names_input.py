"""A multi-step migration (0.3 -> main_0001) spills the migrated 0.13 archive into its work folder
and reads it back: that work copy is the run's own deflate of bytes already read under the input's
budgets, so it is no bomb; before, a folder input's file of zeros was refused with an error line
naming the vanished work copy (fuzz audit M2, archive migrate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.converters.builders import U, build_members, node_dir, write_container
from tests.invariants import run_cli


def test_a_spilled_work_copy_is_no_bomb(tmp_path: Path):
    members = build_members("0.3")
    members[f"{node_dir(U['3'])}/path/zeros.bin"] = bytes(260 * 1024**2)
    src = write_container(tmp_path / "in", members, "folder")
    run = run_cli("archive", "migrate", src, tmp_path / "m.aiida", "--to", "main_0001")
    assert run.code == 0, run.stderr
    assert ".work-" not in run.stderr and "legacy-0.13" not in run.stderr


def test_an_error_in_a_work_copys_member_names_no_member_of_the_input(tmp_path: Path):
    """A main archive has no data.json: the work copy's member goes into the reason (audit s18 F9)."""
    from converters.errors import BadInputError
    from converters.workdirs import work_copies_named, work_prefix

    dst, src = tmp_path / "o.zip", tmp_path / "main.zip"
    work_copy = work_prefix(dst) + "abc/legacy-0.13.zip"
    with pytest.raises(BadInputError) as caught, work_copies_named(dst, src):
        raise BadInputError(work_copy, "downgrade 0.7 -> 0.6 would lose information", "data.json")
    assert (caught.value.file, caught.value.member) == (str(src), "")
    assert caught.value.reason == "its 0.13 conversion, data.json: downgrade 0.7 -> 0.6 would lose information"
