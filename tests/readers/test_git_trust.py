"""Repositories owned by another account, and shallow clones: git's own remedy, ``safe.directory`` in the user's
config, is honoured (reportgen's git reads no other config of the user's); without it the
problem line says how to trust the repository.

A data_store written by the Hub's service account and read by a CI account is the usual
case; as root here, the repositories are handed to ``nobody`` (skipped when not root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.invariants import assert_one_error_line, run_cli

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repositories to another user")


def _foreign_store(example_store: Path, tmp_path: Path) -> Path:
    store = tmp_path / "data_store"
    shutil.copytree(example_store, store, symlinks=True)
    for folder, dirs, files in os.walk(store / "git"):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(folder, name), 65534, 65534)
    os.lchown(store / "git", 65534, 65534)
    return store


def _dubious(store: Path, config: Path) -> list[str]:
    run = run_cli("inspect", store, env={"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"})
    assert "Traceback" not in run.stderr
    return [line for line in run.stdout.splitlines() if "dubious ownership" in line]


@needs_root
def test_foreign_repositories_are_refused_with_the_remedy_named(example_store: Path, tmp_path: Path) -> None:
    store = _foreign_store(example_store, tmp_path)
    config = tmp_path / "gitconfig"
    config.write_text("")
    lines = _dubious(store, config)
    assert lines and all(f"git config --global --add safe.directory {store / 'git'}/" in line for line in lines)


@needs_root
def test_the_users_safe_directory_entries_are_honoured(example_store: Path, tmp_path: Path) -> None:
    store = _foreign_store(example_store, tmp_path)
    config = tmp_path / "gitconfig"
    trusted = store / "git" / "qpu_bench" / "workflow.git"
    config.write_text(f"[safe]\n\tdirectory = {trusted}\n")
    lines = _dubious(store, config)
    assert lines, "only the one trusted repository is read"
    assert not [line for line in lines if "qpu_bench/workflow.git" in line or ("qpu_bench" in line and "workflow" in line)]
    config.write_text("[safe]\n\tdirectory = *\n")
    assert _dubious(store, config) == []


def test_a_commit_missing_from_a_shallow_clone_says_the_clone_is_shallow(example_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "data_store"
    shutil.copytree(example_store, store, symlinks=True)
    repo = store / "git" / "qpu_bench" / "workflow.git"
    shutil.rmtree(repo)
    subprocess.run(["git", "clone", "-q", "--bare", "--depth", "1", f"file://{example_store / 'git' / 'qpu_bench' / 'workflow.git'}",
                    str(repo)], check=True)
    run = run_cli("inspect", store)
    missing = [line for line in run.stdout.splitlines() if "commit-not-in-repo" in line and "qpu_bench" in line]
    assert missing and all("shallow clone" in line and "git fetch --unshallow" in line for line in missing)


@needs_root
def test_export_refuses_a_repository_git_refuses_instead_of_writing_a_smaller_archive(
        example_store: Path, tmp_path: Path) -> None:
    """The export bundled repositories with ``--git-dir`` (git checks no ownership then) while the
    same run could not read their commits: an archive without workflows and parameters, exit 0
    (review D, F3).  Now one line, exit 66, nothing written; trusted, the archive is the owner's."""
    store = _foreign_store(example_store, tmp_path)
    config = tmp_path / "gitconfig"
    config.write_text("")
    env = {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}
    out = tmp_path / "foreign.zip"
    run = run_cli("export", store, "-o", out, env=env)
    line = assert_one_error_line(run, 66, "dubious ownership")
    assert "git config --global --add safe.directory " in line
    assert not out.exists() and not list(tmp_path.glob(".foreign*"))
    config.write_text("[safe]\n\tdirectory = *\n")
    assert run_cli("export", store, "-o", out, env=env).code == 0
    own = tmp_path / "own.zip"
    assert run_cli("export", example_store, "-o", own, env=env).code == 0
    assert out.read_bytes() == own.read_bytes()
