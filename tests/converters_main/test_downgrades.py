"""Downgrades: each step the inverse of its forward step, losses refused unless allowed, round trips."""

from __future__ import annotations

import copy

import pytest

from converters.downgrades import downgrade_steps
from converters.errors import BadInputError
from converters.main import convert
from converters.main.compare import main_digest
from converters.main.runner import register
from converters.main.validate import validate_main
from converters.migrations import STEPS, run_step
from converters.migrations._base import Draft, RepoView
from converters.validate import validate
from tests.converters_main.builders import legacy_013
from tests.converters_main.helpers import edit_main, legacy_archive, rows


def _draft(metadata, data) -> Draft:
    return Draft("mem", metadata, data, RepoView(lambda names: {}, (), "mem"))


def _rich_013():
    metadata, data, _ = legacy_013()
    attrs = data["node_attributes"]
    attrs["1"].update({"parser_name": "core.arithmetic.add", "when": "2020-01-01T00:00:00.000001+00:00", "times": ["2020-01-01T00:00:00+00:00", "x"]})
    data["export_data"]["Node"]["2"]["node_type"] = "data.core.int.Int."
    data["export_data"]["Group"]["1"]["type_string"] = "core.upf"
    data["export_data"]["Computer"]["1"]["scheduler_type"] = "core.slurm"
    data["links_uuid"][0]["label"] = "result"
    return metadata, data


@pytest.mark.parametrize("step", sorted(downgrade_steps(), key=lambda s: -float(s[0][2:])))
def test_each_downgrade_is_inverted_by_its_forward_step(step):
    register()
    metadata, data = _rich_013()
    draft = _draft(metadata, data)
    for source, target in [s for s in sorted(downgrade_steps(), key=lambda s: -float(s[0][2:])) if float(s[0][2:]) > float(step[0][2:])]:
        run_step(draft, source, target, "test")
    before = (copy.deepcopy(draft.metadata), copy.deepcopy(draft.data))
    run_step(draft, *step, "test")
    run_step(draft, step[1], step[0], "test")
    for meta in (before[0], draft.metadata):
        meta.pop("conversion_info", None)
    assert (draft.metadata, draft.data) == before


def test_downgrade_changes_what_the_forward_step_added():
    register()
    metadata, data = _rich_013()
    draft = _draft(metadata, data)
    for source, target in [("0.13", "0.12"), ("0.12", "0.11"), ("0.11", "0.10")]:
        run_step(draft, source, target, "test")
    assert draft.data["export_data"]["Computer"]["1"]["transport_type"] == "local"
    assert draft.data["export_data"]["Computer"]["1"]["name"] == "localhost"
    assert draft.data["export_data"]["Node"]["2"]["node_type"] == "data.int.Int."
    assert draft.data["node_attributes"]["1"]["parser_name"] == "arithmetic.add"


def test_lossy_legacy_step_refuses_then_allows():
    register()
    metadata, data = _rich_013()
    data["export_data"]["Computer"]["1"]["transport_type"] = "ssh"  # unprefixed at 0.13: upgrade would rename it
    draft = _draft(metadata, data)
    with pytest.raises(BadInputError, match="would lose information: 1 computers with an unprefixed transport_type"):
        run_step(draft, "0.13", "0.12", "test")
    draft.allow_loss = True
    run_step(draft, "0.13", "0.12", "test")
    assert draft.notes and "lost" in draft.notes[0]


@pytest.mark.parametrize("target, fmt", [("0.13", "zip"), ("0.10", "tar.gz"), ("0.4", "tar.zst")])
def test_round_trip_down_then_up_equals_original(tmp_path, target, fmt):
    convert(legacy_archive(tmp_path), tmp_path / "converted.aiida")
    # an archive of `verdi archive create` has a ctime; the round trip keeps it
    main = edit_main(tmp_path / "converted.aiida", tmp_path / "main.aiida", metadata_changes={"ctime": "2026-11-21T10:34:47.499655"})
    down = tmp_path / f"down.{fmt}"
    convert(main, down, to_version=target, fmt=fmt)
    # not even a warning: every node has its repository folder, which AiiDA 1.x's import requires
    assert validate(down) == []
    convert(down, tmp_path / "again.aiida")
    assert main_digest(tmp_path / "again.aiida") == main_digest(main)


def test_main_revision_steps_down_and_up(tmp_path):
    main = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), main)
    convert(main, tmp_path / "m0.aiida", to_version="main_0000")
    assert rows(tmp_path / "m0.aiida", "SELECT version_num FROM alembic_version") == [("main_0000",)]
    assert validate_main(tmp_path / "m0.aiida") == []
    convert(tmp_path / "m0.aiida", tmp_path / "again.aiida")
    assert main_digest(tmp_path / "again.aiida") == main_digest(main)


def test_main_to_legacy_refuses_authinfo_loss(tmp_path):
    main = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), main)
    rich = edit_main(main, tmp_path / "rich.aiida", "INSERT INTO db_dbauthinfo VALUES (1, 1, 1, '{}', '{\"k\": 1}', 1)")
    assert validate_main(rich) == []
    with pytest.raises(BadInputError, match="1 authinfos"):
        convert(rich, tmp_path / "down.zip", to_version="0.13")
    assert not (tmp_path / "down.zip").exists()
    result = convert(rich, tmp_path / "down.zip", to_version="0.13", allow_loss=True)
    assert any("authinfos" in note for note in result.notes)


def test_registry_holds_every_step_both_ways():
    register()
    for source, target in downgrade_steps():
        assert (target, source) in STEPS
    assert ("0.13", "main_0000") in STEPS and ("main_0000", "0.13") in STEPS


def test_a_calcjobs_files_go_back_under_raw_input_where_aiida_1x_reads_them(tmp_path):
    """AiiDA 1.x reads a CalcJobNode's files from raw_input/ (``_repository_base_path``); under
    path/ they were on disk after an import but invisible to ``list_object_names``."""
    import zipfile

    from tests.converters_main.builders import uid

    main = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), main)
    old = tmp_path / "old.zip"
    convert(main, old, to_version="0.13")
    u1, u2 = uid(1), uid(2)  # a CalcJobNode, and a data node
    with zipfile.ZipFile(old) as zf:
        names = set(zf.namelist())
    calc = f"nodes/{u1[:2]}/{u1[2:4]}/{u1[4:]}"
    assert {f"{calc}/raw_input/aiida.in", f"{calc}/raw_input/_aiidasubmit.sh", f"{calc}/raw_input/out/.gitignore"} <= names
    assert not any(n.startswith(f"{calc}/path") for n in names)
    assert f"nodes/{u2[:2]}/{u2[2:4]}/{u2[4:]}/path/.gitignore" in names
    back = tmp_path / "back.aiida"
    convert(old, back)
    assert main_digest(back) == main_digest(main)


def test_a_legacy_step_loss_from_a_main_input_names_its_database(tmp_path):
    """A loss found on the way down from main_0001 is about the input's db.sqlite3: the error names
    that member, not the data.json of the 0.13 form the steps work on, which the input lacks."""
    main = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), main)
    unsealed = edit_main(main, tmp_path / "unsealed.aiida",
                         "UPDATE db_dbnode SET attributes = json_set(attributes, '$.sealed', json('false')) "
                         "WHERE node_type LIKE 'process.%'")
    with pytest.raises(BadInputError, match="would lose information: .* not sealed") as caught:
        convert(unsealed, tmp_path / "down.zip", to_version="0.4")
    assert caught.value.member == "db.sqlite3"
    assert caught.value.file == str(unsealed)
    assert not (tmp_path / "down.zip").exists()
