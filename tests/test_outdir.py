"""The one swap of finished trees (site, restore, bundles, example): whole old or whole new."""

from __future__ import annotations

import os
import stat

import pytest

from reportgen.outdir import replace_dir


def _tree(path, text):
    path.mkdir()
    (path / "file.txt").write_text(text)
    return path


def test_a_new_output_takes_the_staging_tree(tmp_path):
    staging = _tree(tmp_path / "staging", "new")
    replace_dir(staging, tmp_path / "out")
    assert (tmp_path / "out" / "file.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_old_output_is_replaced_and_its_aside_removed(tmp_path):
    _tree(tmp_path / "out", "old")
    staging = _tree(tmp_path / "staging", "new")
    replace_dir(staging, tmp_path / "out")
    assert (tmp_path / "out" / "file.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_old_tree_with_read_only_folders_is_removed(tmp_path):
    old = _tree(tmp_path / "out", "old")
    locked = old / "objects"
    locked.mkdir()
    (locked / "pack").write_text("x")
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)  # as git leaves its object folders
    staging = _tree(tmp_path / "staging", "new")
    replace_dir(staging, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_when_the_staging_tree_cannot_move_in_the_old_output_is_put_back(tmp_path):
    _tree(tmp_path / "out", "old")
    with pytest.raises(FileNotFoundError):
        replace_dir(tmp_path / "gone", tmp_path / "out")
    assert (tmp_path / "out" / "file.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_output_that_is_a_file_is_replaced(tmp_path):
    (tmp_path / "out").write_text("a file where the tree goes")
    staging = _tree(tmp_path / "staging", "new")
    replace_dir(staging, tmp_path / "out")
    assert (tmp_path / "out" / "file.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_default_aside_is_hidden_and_named_by_process(tmp_path):
    _tree(tmp_path / "out", "old")
    staging = _tree(tmp_path / "staging", "new")
    aside = tmp_path / f".out.old-{os.getpid()}"
    aside.mkdir()  # a leftover of this very name: os.replace onto an empty folder takes its place
    replace_dir(staging, tmp_path / "out")
    assert not aside.exists()


def test_a_folder_that_appeared_meanwhile_is_never_replaced(tmp_path):
    """Two runs without --force: the second one's rename must not silently replace the first one's tree."""
    from reportgen.errors import OutputError
    from reportgen.outdir import rename_no_replace

    first = tmp_path / "out"
    first.mkdir()  # an empty folder: the one a plain rename() replaces without a word
    staging = _tree(tmp_path / "staging", "second")
    with pytest.raises(OutputError, match="appeared while writing"):
        rename_no_replace(staging, first)
    assert list(first.iterdir()) == []
    assert (staging / "file.txt").read_text() == "second"
    rename_no_replace(staging, tmp_path / "fresh")
    assert (tmp_path / "fresh" / "file.txt").read_text() == "second"
