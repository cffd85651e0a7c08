"""0.13 -> main_0001: database, repository, problems, determinism."""

from __future__ import annotations

import json
import zipfile

import pytest

from converters.errors import BadInputError
from converters.main import convert
from converters.main.validate import validate_main
from tests.converters_main.builders import uid
from tests.converters_main.helpers import legacy_archive, rows


def test_main_archive_layout_rows_and_repository(tmp_path):
    out = tmp_path / "out.aiida"
    convert(legacy_archive(tmp_path), out)
    with zipfile.ZipFile(out) as zf:
        names = [i.filename for i in zf.infolist()]
        metadata = json.loads(zf.read("metadata.json"))
    assert names[:2] == ["metadata.json", "db.sqlite3"]
    assert len([n for n in names if n.startswith("repo/")]) == 3  # 4 files, two empty .gitignore share a blob
    assert metadata["export_version"] == "main_0001" and metadata["key_format"] == "sha256"
    assert metadata["creation_parameters"] == {"include_comments": True}
    assert "all_fields_info" not in metadata and "unique_identifiers" not in metadata
    assert rows(out, "SELECT version_num FROM alembic_version") == [("main_0001",)]
    (uuid, ctime, tree), *_ = rows(out, "SELECT uuid, ctime, repository_metadata FROM db_dbnode ORDER BY id")
    assert uuid == uid(1) and len(uuid) == 36
    assert ctime == "2020-01-02 10:00:00.000001"
    tree = json.loads(tree)
    assert set(tree["o"]) == {"aiida.in", "_aiidasubmit.sh", "out", "empty"}  # raw_input/ and path/ merged
    assert tree["o"]["empty"] == {} and tree["o"]["out"]["o"][".gitignore"]["k"].startswith("e3b0c442")
    assert rows(out, "SELECT input_id, output_id, label, type FROM db_dblink ORDER BY id")[-1] == (1, 4, "sum", "create")
    assert validate_main(out) == []


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst"])
def test_same_output_from_any_legacy_container(tmp_path, fmt):
    convert(legacy_archive(tmp_path), tmp_path / "a.aiida")
    convert(legacy_archive(tmp_path, "in." + fmt, fmt), tmp_path / "b.aiida")
    assert (tmp_path / "a.aiida").read_bytes() == (tmp_path / "b.aiida").read_bytes()


def test_deterministic_byte_identical(tmp_path):
    src = legacy_archive(tmp_path, null_times=True)
    convert(src, tmp_path / "a.aiida")
    convert(src, tmp_path / "b.aiida")
    assert (tmp_path / "a.aiida").read_bytes() == (tmp_path / "b.aiida").read_bytes()


def test_nulls_filled_deterministically_and_reported(tmp_path):
    result = convert(legacy_archive(tmp_path, null_times=True), tmp_path / "out.aiida")
    label, ctime, mtime = rows(tmp_path / "out.aiida", "SELECT label, ctime, mtime FROM db_dbnode WHERE id = 2")[0]
    assert (label, mtime) == ("", ctime)  # mtime falls back to the row's own ctime, never now()
    codes = {(p.code, p.path) for p in result.problems}
    assert ("null-replaced", "db_dbnode.mtime") in codes and ("null-replaced", "db_dbnode.label") in codes


def test_dangling_links_and_unknown_members_reported_lenient(tmp_path):
    result = convert(legacy_archive(tmp_path, dangling=True, unknown_member=True), tmp_path / "out.aiida")
    codes = [p.code for p in result.problems]
    assert "dangling-link" in codes and "unknown-group-member" in codes
    assert rows(tmp_path / "out.aiida", "SELECT COUNT(*) FROM db_dblink") == [(3,)]
    assert rows(tmp_path / "out.aiida", "SELECT COUNT(*) FROM db_dbgroup_dbnodes") == [(3,)]
    assert validate_main(tmp_path / "out.aiida") == []


def test_strict_refuses_dangling_link_and_writes_nothing(tmp_path):
    with pytest.raises(BadInputError, match="names a node not in the archive"):
        convert(legacy_archive(tmp_path, dangling=True), tmp_path / "out.aiida", strict=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip"]


def test_main_refuses_tar_output(tmp_path):
    from converters.errors import UsageError

    with pytest.raises(UsageError, match="main_0001 archives are zip only; name it .aiida or .zip"):
        convert(legacy_archive(tmp_path), tmp_path / "out.tar.gz")


def test_streamed_legacy_steps_equal_the_in_memory_chain(tmp_path):
    """0.10 -> main with steps 0.10..0.13 run per batch equals 0.10 -> 0.13 (in memory) -> main."""
    from converters import migrate
    from converters.main.compare import main_digest
    from tests.converters_main.bigarchive import write_big_legacy

    src = write_big_legacy(tmp_path / "b.zip", 2_500, files=50, distinct=7, version="0.10")
    convert(src, tmp_path / "streamed.aiida")
    migrate(src, tmp_path / "mid.zip", to_version="0.13")
    convert(tmp_path / "mid.zip", tmp_path / "chained.aiida")
    streamed, chained = main_digest(tmp_path / "streamed.aiida"), main_digest(tmp_path / "chained.aiida")
    assert streamed == chained
    assert streamed["tables"]["db_dbcomputer"][0]["label"] == "localhost"  # 0.10 'name' renamed on the way
    assert "data.core.dict.Dict." in {row["node_type"] for row in streamed["tables"]["db_dbnode"]}  # 0.12's core.


def test_main_archive_in_a_tar_is_refused(tmp_path):
    from converters.containers import OutMember, write_archive

    convert(legacy_archive(tmp_path), tmp_path / "main.aiida")
    with zipfile.ZipFile(tmp_path / "main.aiida") as zf:
        members = [OutMember(i.filename, data=zf.read(i), size=i.file_size) for i in zf.infolist()]
    write_archive(tmp_path / "main.tar.gz", "tar.gz", members)
    with pytest.raises(BadInputError, match="Tar files are not supported"):
        convert(tmp_path / "main.tar.gz", tmp_path / "out.zip", to_version="0.13")


def test_two_nodes_with_one_uuid_are_refused_and_nothing_is_written(tmp_path):
    from tests.converters_main.builders import legacy_013
    from tests.converters_main.helpers import write_legacy

    metadata, data, files = legacy_013()
    nodes = data["export_data"]["Node"]
    first, second = sorted(nodes)[:2]
    nodes[second]["uuid"] = nodes[first]["uuid"]
    src = write_legacy(tmp_path / "in.zip", metadata, data, files, "zip")
    with pytest.raises(BadInputError, match=r"db_dbnode: UNIQUE constraint failed: db_dbnode.uuid \(duplicate uuid\)"):
        convert(src, tmp_path / "out.aiida")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip"]


def test_malformed_data_json_is_one_error_with_its_offset(tmp_path):
    """The one-pass reader names data.json and the character where the JSON breaks."""
    import orjson

    from tests.converters_main.builders import legacy_013
    from tests.converters_main.helpers import write_legacy

    metadata, data, files = legacy_013()
    src = write_legacy(tmp_path / "good.zip", metadata, data, files, "zip")
    text = orjson.dumps(data)
    cut = text.index(b'"links_uuid":') + len(b'"links_uuid":')
    bad = tmp_path / "in.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            body = text[:cut] + b"}{" + text[cut:] if info.filename == "data.json" else zin.read(info)
            zout.writestr(info, body)
    src.unlink()
    with pytest.raises(BadInputError, match=r"data\.json: invalid JSON at char \d+"):
        convert(bad, tmp_path / "out.aiida")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip"]


@pytest.mark.parametrize("section", ["export_data.Node", "node_attributes"])
def test_a_pk_that_is_not_ascii_digits_is_one_error(tmp_path, section):
    """"²" passes str.isdigit but not int(): one error line, not a traceback."""
    from tests.converters_main.builders import legacy_013
    from tests.converters_main.helpers import write_legacy

    metadata, data, files = legacy_013()
    if section == "node_attributes":
        data["node_attributes"]["²"] = {}
    else:
        data["export_data"]["Node"]["²"] = dict(next(iter(data["export_data"]["Node"].values())), uuid=uid(99))
    src = write_legacy(tmp_path / "in.zip", metadata, data, files, "zip")
    with pytest.raises(BadInputError, match=rf"\$\.{section}\['²'\]: not an integer pk"):
        convert(src, tmp_path / "out.aiida")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip"]


@pytest.mark.parametrize(
    ("section", "spoil", "named"),
    [("links_uuid", lambda links: links.append(5), r"\$\.links_uuid: a link that is not an object: 5"),
     ("groups_uuid", lambda groups: groups.update({next(iter(groups)): 7}), r"\$\.groups_uuid\['.*'\]: not a list of node uuids")],
    ids=["link-not-an-object", "members-not-a-list"],
)  # fmt: skip
def test_a_link_or_group_row_of_the_wrong_shape_is_one_error_not_a_crash(tmp_path, section, spoil, named):
    from tests.converters_main.builders import legacy_013
    from tests.converters_main.helpers import write_legacy

    metadata, data, files = legacy_013()
    spoil(data[section])
    src = write_legacy(tmp_path / "in.zip", metadata, data, files, "zip")
    with pytest.raises(BadInputError, match=named):
        convert(src, tmp_path / "out.aiida")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip"]
