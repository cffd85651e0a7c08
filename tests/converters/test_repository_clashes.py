"""A node's repository files that clash: ``raw_input/`` and ``path/`` that disagree, and a file that
is also a folder.  Validate lists each, ``--to main_0001`` reports it and writes a valid output,
and a legacy migration, which copies the repository as it is, says so."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.converters import builders as b
from tests.invariants import assert_one_error_line, run_cli


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


# ---------------------------------------------------------------- a file that is also a folder
@pytest.mark.parametrize("container", ["zip", "tar.gz"])
def test_a_file_that_is_also_a_folder_is_a_validate_error(tmp_path: Path, container: str) -> None:
    """``path/aiida.in`` and ``path/aiida.in/inner``: no file system holds both, and the
    main conversion reports it (``repository-conflict``); legacy validate called it valid."""
    node = b.node_dir(b.U["3"])
    members = {**b.build_members("0.12"), f"{node}/path/aiida.in/inner": b"inner"}
    archive = b.write_container(tmp_path / f"in.{container}", members, container)
    run = run_cli("archive", "validate", archive)
    assert run.code == 65, run.stdout
    lines = [line for line in run.stdout.splitlines() if "file-beside-folder" in line or "also the folder" in line]
    assert lines == [f"error: {node}/path/aiida.in: a file, and also the folder of '{node}/path/aiida.in/inner': no file system holds both"]


def test_names_that_only_share_a_prefix_are_no_clash(tmp_path: Path) -> None:
    """``aiida.in`` beside ``aiida.in.bak`` and ``aiida.in-2/x``: sorted between the file and its
    would-be folder, they must not hide a clash, nor be one."""
    node = b.node_dir(b.U["3"])
    extra = {f"{node}/path/aiida.in.bak": b"1", f"{node}/path/aiida.in-2/x": b"2"}
    archive = b.write_container(tmp_path / "in.zip", {**b.build_members("0.12"), **extra}, "zip")
    run = run_cli("archive", "validate", archive)
    assert "also the folder" not in run.stdout and run.code == 0, run.stdout
    clash = {**extra, f"{node}/path/aiida.in/x": b"3"}
    archive = b.write_container(tmp_path / "clash.zip", {**b.build_members("0.12"), **clash}, "zip")
    assert "also the folder" in run_cli("archive", "validate", archive).stdout


@pytest.mark.parametrize("source", ["0.3", "0.12"])  # the whole-document path and the streamed one
def test_a_legacy_migration_says_it_copied_a_file_that_is_also_a_folder(tmp_path: Path, source: str) -> None:
    """A legacy step copies the repository byte for byte, so the clash reaches the output;
    it used to do so without a word, exit 0."""
    node = b.node_dir(b.U["3"])
    members = {**b.build_members(source), f"{node}/path/aiida.in/inner": b"inner"}
    archive = b.write_container(tmp_path / "in.zip", members, "zip")
    run = run_cli("archive", "migrate", archive, tmp_path / "out.zip", "--to", "0.13")
    assert run.code == 0, run.stderr
    notes = [line for line in run.stdout.splitlines() if line.startswith("note:") and "also the folder" in line]
    assert notes == [f"note: {node}/path/aiida.in: a file, and also the folder of '{node}/path/aiida.in/inner'; copied as "
                     "it is, so the output is as invalid as the input (`archive validate` lists each; `--to main_0001` "
                     "keeps the folder and reports the file)"]
    assert "also the folder" in run_cli("archive", "validate", tmp_path / "out.zip").stdout
