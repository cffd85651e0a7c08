"""reportgen.readers.git: commit states, files, and hostile repositories (safety rows 30-31)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reportgen.readers.git import CommitCache, read_commit
from reportgen.records import ReadLimits
from tests.readers.builders import git, make_repo

FILES = {"workflow.py": "print('wf')\n", "entropynodes/schema/QPU.json": '{"name": "QPU"}\n', "logo.png": b"\x89PNG\0\0"}


@pytest.fixture()
def repo(tmp_path) -> tuple[Path, list[str]]:
    bare = tmp_path / "git" / "p" / "workflow.git"
    shas = make_repo(bare, [("first commit\n\nbody", FILES), ("second", {"workflow.py": "print('v2')\n"})])
    return bare, shas


def test_present_commit_with_files(repo):
    bare, shas = repo
    commit = read_commit(bare, shas[0], "workflow")
    assert (commit.state, commit.sha, commit.subject, commit.author, commit.author_email) == (
        "present", shas[0], "first commit", "Ada Lovelace", "ada@example.org"
    )
    assert commit.date.isoformat() == "2022-06-25T12:00:00+02:00"
    files = {f.path: f for f in commit.files}
    assert list(files) == ["entropynodes/schema/QPU.json", "logo.png", "workflow.py"]
    assert files["workflow.py"].text == "print('wf')\n" and files["logo.png"].text is None
    assert read_commit(bare, shas[1], "workflow").files[2].text == "print('v2')\n"


def test_big_file_is_listed_not_read(repo):
    bare, shas = repo
    commit = read_commit(bare, shas[0], "workflow", ReadLimits(git_file_bytes=5))
    assert all(f.text is None and f.truncated for f in commit.files if f.size > 5)


@pytest.mark.parametrize(
    "sha, state",
    [("", "absent"), ("deadbeef", "invalid"), ("--output=OUT", "invalid"), ("0" * 40, "not-in-repo"), ("A" * 40, "invalid")],
)
def test_states_without_a_commit(repo, tmp_path, sha, state):
    bare, _ = repo
    sha = sha.replace("OUT", str(tmp_path / "x"))
    commit = read_commit(bare, sha, "workflow")
    assert commit.state == state and commit.reason
    assert not (tmp_path / "x").exists()


def test_repo_missing_and_unreadable(repo, tmp_path):
    _, shas = repo
    assert read_commit(None, shas[0], "params").state == "repo-missing"
    assert read_commit(tmp_path / "nope.git", shas[0], "params").state == "repo-missing"
    broken = tmp_path / "broken.git"
    broken.mkdir()
    commit = read_commit(broken, shas[0], "params")
    assert commit.state == "unreadable" and "not a bare git repository" in commit.reason


def test_empty_repository_has_no_commit(tmp_path):
    bare = tmp_path / "empty.git"
    git("init", "-q", "--bare", str(bare))
    assert read_commit(bare, "1" * 40, "workflow").state == "not-in-repo"


def test_hostile_config_never_runs(repo, tmp_path):
    bare, shas = repo
    canary = tmp_path / "canary"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {canary}\n")
    script.chmod(0o755)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "pre-commit", "reference-transaction", "post-index-change"):
        shutil.copy(script, hooks / hook)
    with open(bare / "config", "a") as stream:
        stream.write(
            f"[core]\n\tfsmonitor = {script}\n\thooksPath = {hooks}\n\tpager = {script}\n"
            f"[diff]\n\texternal = {script}\n[uploadpack]\n\tpackObjectsHook = {script}\n"
        )
    commit = read_commit(bare, shas[0], "workflow")
    assert commit.state == "present" and len(commit.files) == 3
    assert not canary.exists()


def test_replaced_objects_are_ignored(repo):
    bare, shas = repo
    real = git("rev-parse", f"{shas[0]}:workflow.py", cwd=bare)
    forged = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=bare, input=b"FORGED\n", capture_output=True, check=True
    ).stdout.decode().strip()
    git("replace", real, forged, cwd=bare)
    files = {f.path: f.text for f in read_commit(bare, shas[0], "workflow").files}
    assert files["workflow.py"] == "print('wf')\n"


def test_alternates_outside_the_repository_are_refused(repo, tmp_path):
    bare, shas = repo
    (bare / "objects" / "info").mkdir(exist_ok=True)
    (bare / "objects" / "info" / "alternates").write_text(str(tmp_path / "elsewhere" / "objects") + "\n")
    commit = read_commit(bare, shas[0], "workflow")
    assert commit.state == "unreadable" and "alternates" in commit.reason


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository to another user")
def test_dubious_ownership_is_reported(repo):
    bare, shas = repo
    subprocess.run(["chown", "-R", "65534:65534", str(bare)], check=True)
    commit = read_commit(bare, shas[0], "workflow")
    assert commit.state == "unreadable" and "dubious ownership" in commit.reason


def test_cache_reuses_commits_and_repositories(repo):
    bare, shas = repo
    cache = CommitCache()
    try:
        first = cache.read(bare, shas[0], "workflow")
        assert cache.read(bare, shas[0], "workflow") is first
        assert cache.read(bare, shas[1], "workflow").subject == "second"
    finally:
        cache.close()


def test_inherited_git_variables_cannot_redirect_the_reader(repo, tmp_path, monkeypatch):
    """A caller's GIT_DIR, object store or config (a hook, a CI step) must not change what is read."""
    bare, shas = repo
    decoy = tmp_path / "decoy.git"
    decoy_shas = make_repo(decoy, [("decoy", {"workflow.py": "print('decoy')\n"})])
    monkeypatch.setenv("GIT_DIR", str(decoy))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(decoy / "objects"))
    monkeypatch.setenv("GIT_ALTERNATE_OBJECT_DIRECTORIES", str(decoy / "objects"))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.repositoryformatversion")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "99")
    commit = read_commit(bare, shas[0], "workflow")
    assert commit.state == "present" and {f.path: f.text for f in commit.files}["workflow.py"] == "print('wf')\n"
    assert read_commit(bare, decoy_shas[0], "workflow").state == "not-in-repo"
