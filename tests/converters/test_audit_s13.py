"""Archives written by other tools, from an audit: a zip entry with an empty name, tar members
that GNU tar stored sparse in posix format, and a number beyond a double's range.  Each was a
crash (exit 70) or a silent change of the data (exit 0)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.converters import builders as b
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, tree_digest


def _files(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.filename.endswith("/")}


# ---------------------------------------------------------------- a zip entry named ''
@pytest.mark.parametrize("root", ["", "/", "./"])
def test_a_zip_root_entry_of_any_spelling_is_the_root_and_nothing_else(tmp_path: Path, root: str) -> None:
    """The format reference has seen '' and './' entries in real zips; '' crashed every command
    (zipfile's ``is_dir`` indexes the name's last character)."""
    members = b.build_members("0.4")
    plain = b.write_container(tmp_path / "plain.zip", members, "zip")
    odd = tmp_path / "odd.zip"
    with zipfile.ZipFile(odd, "w") as zf:
        zf.writestr(zipfile.ZipInfo(root), b"")
        for name, data in members.items():
            zf.writestr(name, data)
    for command in (("validate",), ("inspect",)):
        run = run_cli("archive", *command, odd)
        assert run.code == 0, run.stderr
    for source in (plain, odd):
        assert run_cli("archive", "migrate", source, tmp_path / f"{source.stem}.13.zip", "--to", "0.13").code == 0
    assert _files(tmp_path / "odd.13.zip")["data.json"] == _files(tmp_path / "plain.13.zip")["data.json"]


# ---------------------------------------------------------------- GNU sparse members in posix tars
def _node_file(members: dict[str, bytes]) -> str:
    return next(name for name in members if name.startswith("nodes/"))


def test_a_sparse_member_written_by_gnu_tar_is_refused_naming_it(tmp_path: Path) -> None:
    """``tar --format=posix --sparse`` stores only the data blocks; read as they are they were a
    silently shorter file (exit 0).  Refused, naming the member's real name."""
    if shutil.which("tar") is None:
        pytest.skip("GNU tar is missing")
    members = b.build_members("0.4")
    folder = b.write_container(tmp_path / "src", members, "folder")
    sparse = Path(os.path.dirname(folder / _node_file(members))) / "big.bin"
    with open(sparse, "wb") as fh:
        fh.write(b"A" * 10)
        fh.seek(4 << 20)
        fh.write(b"B" * 10)
    rel = sparse.relative_to(folder).as_posix()
    for version in ("0.0", "1.0"):
        archive = tmp_path / f"sparse-{version}.tar"
        subprocess.run(["tar", "--format=posix", "--sparse", f"--sparse-version={version}", "-cf", archive, "-C", folder,
                        "."], check=True)  # fmt: skip
        with tarfile.open(archive) as tf:
            if not any(m.issparse() for m in tf.getmembers()):
                pytest.skip("this file system stores no holes, so tar wrote no sparse member")
        before = tree_digest(tmp_path / "src")
        out = tmp_path / f"out-{version}.zip"
        run = run_cli("archive", "migrate", archive, out, "--to", "0.13")
        line = assert_one_error_line(run, 65, "sparse member not supported", f"'{archive}'")
        assert rel in line  # the member's own name, not GNU tar's GNUSparseFile.PID/ stand-in
        assert not out.exists() and tree_digest(tmp_path / "src") == before
        assert_no_staging_left(tmp_path)


def test_a_sparse_pax_header_is_refused_in_every_command(tmp_path: Path) -> None:
    """The same, written by hand (sparse 1.0: the real name in ``GNU.sparse.name``)."""
    members = b.build_members("0.4")
    real = _node_file(members)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if name == real:
                info.name = f"{os.path.dirname(name)}/GNUSparseFile.0/{os.path.basename(name)}"
                info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": name,
                                    "GNU.sparse.realsize": str(len(data) + 4096)}  # fmt: skip
            tf.addfile(info, io.BytesIO(data))
    archive = tmp_path / "hand.tar"
    archive.write_bytes(buffer.getvalue())
    for args in (("validate", archive), ("inspect", archive), ("migrate", archive, tmp_path / "o.zip", "--to", "main_0001")):
        assert_one_error_line(run_cli("archive", *args), 65, "sparse member not supported", real)


# ---------------------------------------------------------------- 1e400
@pytest.mark.parametrize("version", ["0.2", "0.4", "0.12"])  # 0.2: the in-memory chain; later: streamed
@pytest.mark.parametrize("number", ["1e400", "-1E+400", "1" + "0" * 400 + ".5"])
def test_a_number_beyond_a_doubles_range_is_refused_like_infinity(tmp_path: Path, version: str, number: str) -> None:
    """Read as infinity, it was written as null (orjson) in 0.13 and main_0001 outputs, exit 0."""
    data = b.build_data(version)
    attributes = data["node_attributes"]
    first = sorted(attributes)[0]
    attributes[first]["huge"] = "@HUGE@"
    text = json.dumps(data).replace('"@HUGE@"', number)
    archive = b.write_container(tmp_path / "in.zip", {**b.build_members(version), "data.json": text.encode()}, "zip")
    for target in ("0.13", "main_0001"):
        out = tmp_path / f"out-{target}.zip"
        run = run_cli("archive", "migrate", archive, out, "--to", target)
        assert_one_error_line(run, 65, "beyond the range of a double", "data.json")
        assert not out.exists()
    assert_one_error_line(run_cli("archive", "validate", archive), 65, "beyond the range of a double")


# ---------------------------------------------------------------- raw_input/ and path/ disagreeing
def _main_files(archive: Path) -> tuple[dict[str, dict], set[str]]:
    """Each node's repository tree, and the blob names, of a main_0001 zip."""
    import sqlite3

    with zipfile.ZipFile(archive) as zf:
        db = archive.with_suffix(".sqlite3")
        db.write_bytes(zf.read("db.sqlite3"))
        blobs = {n for n in zf.namelist() if n.startswith("repo/") and not n.endswith("/")}
    conn = sqlite3.connect(db)
    trees = {uuid: json.loads(meta) for uuid, meta in conn.execute("SELECT uuid, repository_metadata FROM db_dbnode")}
    conn.close()
    return trees, blobs


def _key(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


CONFLICTS = {  # extra members -> (the reported path, what the node's tree holds after)
    "other bytes": ({"raw_input/aiida.in": b"RAW"}, "path/aiida.in",
                    lambda tree: tree["o"]["aiida.in"] == {"k": _key(b"&control calculation='scf' /\n")}),
    "file and folder": ({"raw_input/out": b"a file"}, "path/out/.gitignore",
                        lambda tree: tree["o"]["out"] == {"o": {".gitignore": {"k": _key(b"")}}}),
    "file within one copy": ({"path/aiida.in/inner": b"inner"}, "path/aiida.in/inner",
                             lambda tree: tree["o"]["aiida.in"] == {"o": {"inner": {"k": _key(b"inner")}}}),
}


@pytest.mark.parametrize("case", sorted(CONFLICTS))
def test_raw_input_and_path_that_disagree_are_reported_and_the_output_is_valid(tmp_path: Path, case: str) -> None:
    """They merge into one tree at main_0000.  A clash was a silent choice (other bytes) or an
    invalid output (a file that is also a folder, which reportgen's own validate refused)."""
    extra, reported, holds = CONFLICTS[case]
    node = b.node_dir(b.U["3"])
    members = {**b.build_members("0.12"), **{f"{node}/{rel}": data for rel, data in extra.items()}}
    archive = b.write_container(tmp_path / "in.zip", members, "zip")
    out = tmp_path / "out.aiida"
    run = run_cli("archive", "migrate", archive, out, "--to", "main_0001")
    assert run.code == 0, run.stderr
    errors = [line for line in run.stdout.splitlines() if line.startswith("error: ")]  # the report, not a failure
    assert len(errors) == 1 and f"{node}/{reported}:" in errors[0], run.stdout
    assert run.stdout.splitlines()[-1].startswith("note: the errors above were reported and the conversion went on")
    assert run_cli("archive", "validate", out).code == 0
    trees, blobs = _main_files(out)
    assert holds(trees[b.U["3"]])
    referenced = {f"repo/{key}" for tree in trees.values() for key in _keys(tree)}
    assert blobs == referenced  # a blob only the left-out file held is not written
    strict = run_cli("archive", "migrate", archive, tmp_path / "strict.aiida", "--to", "main_0001", "--strict")
    assert_one_error_line(strict, 65, "refused by --strict; without it this is reported", reported)
    assert not (tmp_path / "strict.aiida").exists()


def _keys(tree: dict) -> set[str]:
    if "k" in tree:
        return {tree["k"]}
    return {key for child in tree.get("o", {}).values() for key in _keys(child)}


def test_the_same_bytes_in_raw_input_and_path_are_one_file_and_no_problem(tmp_path: Path) -> None:
    node = b.node_dir(b.U["3"])
    members = {**b.build_members("0.12"), f"{node}/raw_input/aiida.in": b"&control calculation='scf' /\n"}
    run = run_cli("archive", "migrate", b.write_container(tmp_path / "in.zip", members, "zip"), tmp_path / "o.aiida",
                  "--to", "main_0001", "--strict")  # fmt: skip
    assert run.code == 0 and "error" not in run.stdout + run.stderr, run.stdout


# ---------------------------------------------------------------- a UTF-8 name without the zip's UTF-8 flag
def test_a_utf8_name_without_the_zips_flag_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    """Info-ZIP on Linux writes names so: the bytes are UTF-8, the flag says cp437.  The line said
    "not UTF-8", which the user can see is untrue; it now says what the flag means and the remedy,
    and shows the name as the user wrote it."""
    node = b.node_dir(b.U["3"])
    members = {**b.build_members("0.12"), f"{node}/path/ZAB": b"x"}  # ASCII: zipfile leaves bit 11 clear
    archive = b.write_container(tmp_path / "in.zip", members, "zip")
    archive.write_bytes(archive.read_bytes().replace(b"/path/ZAB", "/path/Zé".encode()))
    line = assert_one_error_line(run_cli("archive", "validate", archive), 65, "bit 11 clear")
    assert f"{node}/path/Zé" in line and "re-create the zip" in line


# ---------------------------------------------------------------- groups_uuid members that are no list
def test_group_members_that_are_no_list_are_a_validate_error(tmp_path: Path) -> None:
    """``inspect`` and ``--to main_0001`` refused them while ``validate`` called the archive valid."""
    data = b.build_data("0.12")
    group = next(iter(data["groups_uuid"]))
    data["groups_uuid"][group] = b.U["3"]  # one UUID as a string, not a list of them
    archive = b.write_container(tmp_path / "in.zip", {**b.build_members("0.12"), "data.json": json.dumps(data).encode()},
                                "zip")  # fmt: skip
    run = run_cli("archive", "validate", archive)
    assert run.code == 65 and f"$.groups_uuid[\"{group}\"]: group members must be a list of node UUIDs, not a string" in run.stdout


# ---------------------------------------------------------------- a legal datetime whose UTC leaves years 1-9999
def test_a_legacy_datetime_whose_utc_is_out_of_range_is_refused_not_a_crash(tmp_path: Path) -> None:
    """``0001-01-01T00:00:00+01:00`` parses, but its UTC time is before year 1 (was exit 70)."""
    data = b.build_data("0.12")
    node = sorted(data["export_data"]["Node"])[0]
    data["export_data"]["Node"][node]["ctime"] = "0001-01-01T00:00:00+01:00"
    archive = b.write_container(tmp_path / "in.zip", {**b.build_members("0.12"), "data.json": json.dumps(data).encode()},
                                "zip")  # fmt: skip
    run = run_cli("archive", "migrate", archive, tmp_path / "o.aiida", "--to", "main_0001")
    assert run.code in (0, 65) and "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert any(line.startswith("error: $.export_data.Node") and ".ctime" in line for line in run.stdout.splitlines()), run.stdout


# ---------------------------------------------------------------- --strict names the cause, not the lenient outcome
def test_strict_refusal_of_a_dangling_link_does_not_claim_it_was_dropped(tmp_path: Path) -> None:
    """Without --strict a dangling link is reported and "dropped"; with it the conversion stops,
    so the line must give the cause and what --strict did, not the outcome it did not have."""
    data = b.build_data("0.13")
    data["links_uuid"][0]["input"] = "00000000-0000-4000-8000-000000000000"
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.13", data=data), "zip")
    strict = run_cli("archive", "migrate", src, tmp_path / "o.aiida", "--to", "main_0001", "--strict")
    line = assert_one_error_line(strict, 65, "names a node not in the archive (refused by --strict", "data.json")
    assert "dropped" not in line
    assert not (tmp_path / "o.aiida").exists()
