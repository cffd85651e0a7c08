"""What a structure-aware fuzz campaign found in the legacy archive commands and restore, one test
per finding (the auditor's numbers): each input is built in code from the fixture archives.

The invariants: bad input is one error line naming the archive (and member) and exit 65, never
70 or a hang; and an archive ``archive validate`` calls valid migrates to an output that is valid.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path

import pytest

from tests.converters import builders as b
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, tree_digest


def _legacy(tmp_path: Path, version: str, edit_data=None, edit_metadata=None, container: str = "zip") -> Path:
    """The fixture archive of ``version``, its data.json / metadata.json edited in code."""
    metadata, data = b.build_metadata(version), b.build_data(version)
    if edit_data:
        edit_data(data)
    if edit_metadata:
        edit_metadata(metadata)
    src = tmp_path / f"in{b.SUFFIX[container]}"
    return b.write_container(src, b.build_members(version, metadata, data), container)


def _valid(path: Path) -> bool:
    return run_cli("archive", "validate", path).code == 0


def _migrates_to_a_valid_output(src: Path, out: Path, version: str) -> None:
    """The auditor's invariant: valid in, exit 0, valid out."""
    assert _valid(src)
    run = run_cli("archive", "migrate", src, out, "--to", version)
    assert run.code == 0, run.stderr
    check = run_cli("archive", "validate", out)
    assert check.code == 0, check.stdout


def test_01_inspect_of_a_null_node_row_is_one_line_not_exit_70(tmp_path):
    src = _legacy(tmp_path, "0.9", lambda d: d["export_data"]["Node"].__setitem__("3", None))
    before = tree_digest(tmp_path)
    for args in (("archive", "inspect"), ("archive", "inspect", "--json")):
        run = run_cli(*args, src)
        assert_one_error_line(run, 65, "$.export_data.Node['3']: must be an object, not null", "'data.json'")
    assert tree_digest(tmp_path) == before


def _shifted_zip(path: Path) -> Path:
    """A zip with 4 bytes cut from its first member's data: the central directory then starts 4
    bytes before where it says, and zipfile moves every local header offset by -4."""
    raw = bytearray(path.read_bytes())
    (name_length,) = struct.unpack("<H", raw[26:28])
    cut = 30 + name_length + 4
    del raw[cut : cut + 4]
    path.write_bytes(bytes(raw))
    return path


def test_02_a_zip_whose_offsets_point_before_its_start_is_bad_input_not_an_io_error(tmp_path):
    src = _shifted_zip(_legacy(tmp_path, "0.8"))
    for args in (("archive", "inspect", src), ("archive", "validate", src),
                 ("archive", "migrate", src, tmp_path / "o.zip", "--to", "0.13")):  # fmt: skip
        assert_one_error_line(run_cli(*args), 65, "bad local header offset", "in.aiida")
    assert not (tmp_path / "o.zip").exists()


def test_05_a_legacy_link_no_0_4_type_fits_is_warned_of_and_dropped(tmp_path):
    """0.2: a node typed '-1' gets an 'unspecified' link at 0.3, which 0.4 has no type for."""
    src = _legacy(tmp_path, "0.2", lambda d: d["export_data"][b.entity("0.2", "Node")]["1"].__setitem__("type", "-1"))
    check = run_cli("archive", "validate", src)
    assert check.code == 0 and "'unspecified'); a migration to 0.4 or later drops it" in check.stdout, check.stdout
    _migrates_to_a_valid_output(src, tmp_path / "out.zip", "0.13")
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        links = json.loads(zf.read("data.json"))["links_uuid"]
    assert len(links) == len(b.link_rows("0.2")) - 1


def test_06_a_conversion_history_that_is_no_list_is_a_warning_and_replaced(tmp_path):
    src = _legacy(tmp_path, "0.9", edit_metadata=lambda m: m.__setitem__("conversion_info", 5))
    for args in (("archive", "inspect"), ("archive", "inspect", "--stream")):
        run = run_cli(*args, src)
        assert run.code == 0, run.stderr
        assert "warning: metadata.json: conversion_info: must be a list of strings" in run.stdout
    _migrates_to_a_valid_output(src, tmp_path / "out.zip", "0.13")
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        history = json.loads(zf.read("metadata.json"))["conversion_info"]
    assert len(history) == 4 and all(line.startswith("Converted from version") for line in history)


def test_08_validate_of_a_section_that_is_a_scalar_reports_it_not_exit_70(tmp_path):
    src = _legacy(tmp_path, "0.8", lambda d: d["export_data"].__setitem__("Computer", True))
    run = run_cli("archive", "validate", src)
    assert run.code == 65 and "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert "error: $.export_data.Computer: must be an object of rows keyed by pk" in run.stdout


def test_09_restore_makes_a_thousand_folders_deep_path_without_recursing(tmp_path, example_store):
    from tests.export.test_restore_untrusted import Craft  # the restore tests' own archive editor

    exported = tmp_path / "store.aiida"
    assert run_cli("export", example_store, "-o", exported).code == 0
    craft = Craft(exported)
    deep = "/".join(["d"] * 1000) + "/f"
    craft.add_file(deep, b"deep\n")
    try:
        run = run_cli("restore", craft.write(tmp_path / "deep.aiida"), "-o", tmp_path / "restored")
        assert run.code == 0, run.stderr
        assert (tmp_path / "restored" / deep).read_bytes() == b"deep\n"
        assert_no_staging_left(tmp_path)
    finally:
        _remove_tree(tmp_path / "restored" / "d")  # pytest's own clean-up of old tmp folders recurses too


def _remove_tree(root: Path) -> None:
    """``root`` and all under it, deepest first, with no recursion (shutil.rmtree recurses per level)."""
    stack = [(str(root), False)] if root.is_dir() else []
    while stack:
        path, emptied = stack.pop()
        if emptied:
            os.rmdir(path)
            continue
        stack.append((path, True))
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, False))
                else:
                    os.unlink(entry.path)


def test_11_an_archive_that_is_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "archive.aiida"
    os.mkfifo(fifo)
    for args in (("archive", "inspect", fifo), ("archive", "migrate", fifo, tmp_path / "o.zip", "--to", "0.13")):
        assert_one_error_line(run_cli(*args, timeout=15), 65, "not a regular file", "archive.aiida")
    assert not (tmp_path / "o.zip").exists()


def _lying_size(path: Path, member: str, size: int = 0xFFFFFFFE) -> Path:
    """``member``'s uncompressed size in the central directory made ``size`` (CRC and data kept)."""
    raw = bytearray(path.read_bytes())
    at = 0
    while (at := raw.find(b"PK\x01\x02", at)) >= 0:
        (name_length,) = struct.unpack("<H", raw[at + 28 : at + 30])
        if raw[at + 46 : at + 46 + name_length].decode() == member:
            raw[at + 24 : at + 28] = struct.pack("<I", size)
        at += 4
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("which", ["data.json", "repository"])
def test_12_a_zip_member_shorter_than_declared_is_a_corrupt_member(tmp_path, which):
    src = _legacy(tmp_path, "0.13")
    member = "data.json" if which == "data.json" else b.node_dir(b.U["3"]) + "/path/aiida.in"
    _lying_size(src, member)
    assert_one_error_line(run_cli("archive", "migrate", src, tmp_path / "o.tar.gz", "--to", "0.12"), 65,
                          "corrupt member (holds", f"'{member}'")  # fmt: skip
    validate = run_cli("archive", "validate", src)
    assert validate.code == 65, validate.stdout
    assert not (tmp_path / "o.tar.gz").exists()


@pytest.mark.parametrize("edit", ["null-attributes", "log-metadata-0"])
def test_14_legacy_to_main_stores_what_main_validate_accepts(tmp_path, edit):
    def spoil(data):
        if edit == "null-attributes":
            data["node_attributes"]["1"] = None
        else:
            data["export_data"]["Log"]["1"]["metadata"] = 0

    src = _legacy(tmp_path, "0.4", spoil)
    _migrates_to_a_valid_output(src, tmp_path / "out.aiida", "main_0001")
    back = tmp_path / "back.zip"
    _migrates_to_a_valid_output(tmp_path / "out.aiida", back, "0.13")
    with zipfile.ZipFile(back) as zf:
        data = json.loads(zf.read("data.json"))
    if edit == "null-attributes":
        assert data["node_attributes"]["1"] == {}
    else:
        assert data["export_data"]["Log"]["1"]["metadata"] == 0
