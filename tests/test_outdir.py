"""The one swap of finished trees (site, restore, bundles, example): whole old or whole new.

Publishing leaves no moment without an output: ``replace_dir`` swaps the staging tree and the
output in one step (Linux ``renameat2(RENAME_EXCHANGE)``); where that call is unavailable it falls
back to the two renames (forced here with ``REPORTGEN_NO_RENAME_EXCHANGE=1``).  The crash test
kills the real build with SIGKILL right after the publishing step (``REPORTGEN_CRASH_AT=publish``)
and checks the site is whole and the leftover swept.
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from converters.workdirs import NO_EXCHANGE_ENV, exchange_paths
from reportgen.outdir import replace_dir
from tests.invariants import run_cli
from tests.site.test_sandboxed_pages import small_store  # noqa: F401 (fixture: three jobs, one per project)


def _tree(path, text):
    path.mkdir()
    (path / "file.txt").write_text(text)
    return path


def _pages(site: Path) -> dict[str, bytes]:
    """Every file of a site but the report (its timings differ between builds)."""
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*")) if p.is_file() and p.name != "build-report.json"}


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


# ---------------------------------------------------------------- the swap itself
def test_exchange_swaps_two_trees_in_one_step(tmp_path):
    a, b = _tree(tmp_path / "a", "A"), _tree(tmp_path / "b", "B")
    assert exchange_paths(a, b)
    assert (a / "file.txt").read_text() == "B" and (b / "file.txt").read_text() == "A"


def test_exchange_with_a_missing_name_raises_and_changes_nothing(tmp_path):
    b = _tree(tmp_path / "b", "B")
    with pytest.raises(FileNotFoundError):
        exchange_paths(tmp_path / "gone", b)
    assert (b / "file.txt").read_text() == "B"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_the_fallback_can_be_forced(tmp_path, monkeypatch):
    a, b = _tree(tmp_path / "a", "A"), _tree(tmp_path / "b", "B")
    monkeypatch.setenv(NO_EXCHANGE_ENV, "1")
    assert not exchange_paths(a, b)
    assert (a / "file.txt").read_text() == "A"


@pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "two-renames"])
def test_replace_dir_publishes_and_leaves_nothing_beside(tmp_path, monkeypatch, fallback):
    if fallback:
        monkeypatch.setenv(NO_EXCHANGE_ENV, "1")
    _tree(tmp_path / "out", "old")
    replace_dir(_tree(tmp_path / f".out.staging-{os.getpid()}", "new"), tmp_path / "out")
    assert (tmp_path / "out" / "file.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_output_is_never_missing_while_it_is_replaced(tmp_path):
    """The old tree is swapped out, not moved aside first: the very inode that was the
    staging tree is the output the moment the call returns, and the old one sits under
    the staging name until it is removed (observed here through an open handle on it)."""
    out = _tree(tmp_path / "out", "old")
    old_fd = os.open(out, os.O_RDONLY)
    try:
        staging = _tree(tmp_path / "staging", "new")
        new_inode = staging.stat().st_ino
        assert exchange_paths(staging, out)
        assert out.stat().st_ino == new_inode
        assert os.fstat(old_fd).st_ino == staging.stat().st_ino
    finally:
        os.close(old_fd)


# ---------------------------------------------------------------- a real build killed at publishing
@pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "two-renames"])
def test_a_full_build_killed_right_after_publishing_leaves_the_whole_new_site(small_store, tmp_path, fallback):
    site = tmp_path / "site"
    assert run_cli("build", small_store, "-o", site).code == 0
    fresh = _pages(site)
    env = {"REPORTGEN_CRASH_AT": "publish", **({NO_EXCHANGE_ENV: "1"} if fallback else {})}
    killed = run_cli("build", small_store, "-o", site, "--full", env=env)
    assert killed.code == -signal.SIGKILL, killed.stderr  # the hook fired: the process died there
    assert (site / "index.html").is_file()
    assert _pages(site) == fresh  # the new site, whole (a full build is byte-identical)
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site."))
    assert len(leftovers) == 1 and (".staging-" if not fallback else ".old-") in leftovers[0], leftovers
    again = run_cli("build", small_store, "-o", site)
    assert again.code == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "site.lock"]
    assert _pages(site) == fresh

