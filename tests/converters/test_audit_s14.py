"""Session 14: what legacy validate let through (a file that is also a folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.converters import builders as b
from tests.invariants import run_cli


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
