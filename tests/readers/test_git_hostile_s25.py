"""Hostile repositories (review S, session 25: F01, F02, F03, F08, F12), with real git repositories.

A data_store's repository must never make git read another repository: not through a ``.git``
entry, a symlink on the way to or inside it, or an alternate at any depth.  An oversized commit,
tag or tree is refused from its header, and one malformed object fails only the commits that
need it, whatever the number of workers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reportgen.readers.git import MAX_OBJECT_BYTES, CommitCache, check_trusted, read_bundle, read_commit
from tests.invariants import run_cli
from tests.readers.builders import GIT_ENV, git, make_repo, simple_job

SECRET = "SECRET_TOKEN = 'outside-the-store'\n"


def write_object(repo: Path, kind: str, data: bytes) -> str:
    """Store ``data`` as a ``kind`` object as it is (``--literally``: git checks nothing)."""
    return subprocess.run(["git", "hash-object", "-w", "--literally", "-t", kind, "--stdin"], input=data, cwd=repo,
                          capture_output=True, env={**os.environ, **GIT_ENV}, check=True).stdout.decode().strip()


@pytest.fixture()
def secret(tmp_path) -> tuple[Path, str]:
    """A bare repository outside any data_store, and its one commit."""
    repo = tmp_path / "outside" / "secret.git"
    return repo, make_repo(repo, [("secret", {"workflow.py": SECRET})])[0]


@pytest.fixture()
def store(tmp_path) -> Path:
    """A data_store whose lab/workflow.git is a real bare repository with a public commit."""
    root = tmp_path / "data_store"
    make_repo(root / "git" / "lab" / "workflow.git", [("public", {"workflow.py": "print('public')\n"})])
    return root


def workflow(root: Path) -> Path:
    return root / "git" / "lab" / "workflow.git"


def assert_refused(commit, words: str) -> None:
    assert commit.state == "unreadable", (commit.state, commit.reason)
    assert words in commit.reason, commit.reason
    assert not any(f.text == SECRET for f in commit.files)


# ---------------------------------------------------------------- F01: .git redirects
@pytest.mark.parametrize("kind", ["gitdir-file", "symlink"])
def test_a_dot_git_entry_in_the_repository_folder_is_refused(store, secret, kind):
    outside, sha = secret
    if kind == "gitdir-file":
        (workflow(store) / ".git").write_text(f"gitdir: {outside}\n")
    else:
        (workflow(store) / ".git").symlink_to(outside)
    assert_refused(read_commit(workflow(store), sha, "workflow"), ".git entry")


def test_every_read_names_the_repository(store, secret):
    """Past the checks, git is told which repository to read: a ``.git`` planted after the repository
    was opened (the data_store's writer racing the build) is never consulted."""
    outside, sha = secret
    cache = CommitCache()
    try:
        public = git("rev-parse", "HEAD", cwd=workflow(store))
        assert cache.read(workflow(store), public, "workflow").state == "present"
        (workflow(store) / ".git").write_text(f"gitdir: {outside}\n")
        assert cache.read(workflow(store), sha, "workflow").state == "not-in-repo"
    finally:
        cache.close()


# ---------------------------------------------------------------- F02: symlinks
def link_objects(root: Path, outside: Path) -> str:
    shutil.rmtree(workflow(root) / "objects")
    (workflow(root) / "objects").symlink_to(outside / "objects")
    return "objects is a symlink"


def link_packs(root: Path, outside: Path) -> str:
    git("repack", "-a", "-d", "-q", cwd=outside)
    for pack in (outside / "objects" / "pack").iterdir():
        (workflow(root) / "objects" / "pack" / pack.name).symlink_to(pack)
    return "objects/pack/pack-"


def link_project(root: Path, outside: Path) -> str:
    elsewhere = outside.parent / "lab-repos"
    shutil.copytree(outside, elsewhere / "workflow.git", symlinks=True)
    shutil.rmtree(root / "git" / "lab")
    (root / "git" / "lab").symlink_to(elsewhere)
    return "git/lab is a symlink"


def link_git(root: Path, outside: Path) -> str:
    elsewhere = outside.parent / "git-folder"
    shutil.copytree(outside, elsewhere / "lab" / "workflow.git", symlinks=True)
    shutil.rmtree(root / "git")
    (root / "git").symlink_to(elsewhere)
    return "git is a symlink"


def link_packed_refs(root: Path, outside: Path) -> str:
    (workflow(root) / "packed-refs").unlink(missing_ok=True)
    (workflow(root) / "packed-refs").symlink_to(outside / "packed-refs")
    return "packed-refs is a symlink"


@pytest.mark.parametrize("plant", [link_objects, link_packs, link_project, link_git, link_packed_refs])
def test_no_symlink_on_the_way_to_or_inside_a_repository_is_followed(store, secret, plant):
    outside, sha = secret
    git("pack-refs", "--all", cwd=outside)
    words = plant(store, outside)
    assert_refused(read_commit(workflow(store), sha, "workflow"), words)


def test_inspect_names_the_link_in_one_problem(store, secret):
    outside, sha = secret
    link_objects(store, outside)
    simple_job(store, "lab", "j1", workflow_commit=sha)
    report = json.loads(run_cli("inspect", "--json", store).stdout)
    job = next(j for p in report["projects"] for j in p["jobs"] if j["id"] == "j1")
    assert job["workflow_commit"]["state"] == "unreadable"
    lines = [p for p in report["problems"] if p["member"] == "@workflow_commit"]
    assert len(lines) == 1 and "objects is a symlink; not followed" in lines[0]["reason"]


def test_export_does_not_bundle_a_repository_reached_through_a_link(store, secret):
    """The bundle is made with ``--git-dir``, which follows links and alternates as the reader
    would: a refused repository is not bundled (its files travel as files, links not followed)."""
    outside, _ = secret
    link_project(store, outside)
    assert read_bundle(workflow(store)) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a repository to another user")
def test_export_does_not_judge_ownership_through_a_dot_git_entry(store, secret):
    """git's ownership check would be of the repository the ``.git`` entry names; the reader
    refuses the folder instead, and the export leaves it out."""
    outside, _ = secret
    subprocess.run(["chown", "-R", "65534:65534", str(outside)], check=True)
    (workflow(store) / ".git").write_text(f"gitdir: {outside}\n")
    check_trusted(workflow(store))  # no exception: the reader reports the repository instead
    assert read_bundle(workflow(store)) is None


# ---------------------------------------------------------------- F03: alternates
@pytest.mark.parametrize("depth", [1, 2])
def test_alternates_are_refused_at_any_depth(store, secret, depth):
    outside, sha = secret
    info = workflow(store) / "objects" / "info"
    info.mkdir(exist_ok=True)
    if depth == 1:
        (info / "alternates").write_text(f"{outside / 'objects'}\n")
    else:  # an alternate inside the repository, whose own alternates point outside
        inner = workflow(store) / "objects" / "inner"
        (inner / "info").mkdir(parents=True)
        (info / "alternates").write_text("inner\n")
        (inner / "info" / "alternates").write_text(f"{outside / 'objects'}\n")
    assert_refused(read_commit(workflow(store), sha, "workflow"), "objects/info/alternates")


# ---------------------------------------------------------------- F08: oversized objects
def huge_commit(repo: Path, tree: str, size: int) -> str:
    body = f"tree {tree}\nauthor A <a@b> 1656150000 +0000\ncommitter A <a@b> 1656150000 +0000\n\nhuge\n".encode()
    return write_object(repo, "commit", body + b"y" * size)


def test_an_oversized_commit_is_refused_from_its_header(store):
    repo = workflow(store)
    good = git("rev-parse", "HEAD", cwd=repo)
    big = huge_commit(repo, git("rev-parse", "HEAD^{tree}", cwd=repo), MAX_OBJECT_BYTES)
    cache = CommitCache()
    try:
        commit = cache.read(repo, big, "workflow")
        assert commit.state == "unreadable" and not commit.message
        assert commit.reason.startswith(f"commit {big} is ") and "-byte limit of a commit object" in commit.reason
        assert cache.resolve(repo, big, "workflow").reason == commit.reason  # the incremental build agrees
        assert cache.read(repo, good, "workflow").state == "present"
    finally:
        cache.close()


def test_an_oversized_tag_or_the_commit_behind_a_tag_is_refused(store):
    repo = workflow(store)
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo)
    big = huge_commit(repo, tree, MAX_OBJECT_BYTES)
    tag_of_big = write_object(repo, "tag", f"object {big}\ntype commit\ntag v1\n\nv1\n".encode())
    commit = read_commit(repo, tag_of_big, "workflow")
    assert commit.state == "unreadable" and commit.reason.startswith(f"commit {big} is ")
    head = git("rev-parse", "HEAD", cwd=repo)
    big_tag = write_object(repo, "tag", f"object {head}\ntype commit\ntag v2\n\n".encode() + b"t" * MAX_OBJECT_BYTES)
    commit = read_commit(repo, big_tag, "workflow")
    assert commit.state == "unreadable" and commit.reason.startswith(f"tag {big_tag} is ")


def test_an_oversized_tree_fails_its_commit(store):
    repo = workflow(store)
    blob = git("rev-parse", "HEAD:workflow.py", cwd=repo)
    entries = b"".join(b"100644 f%07d\0" % i + bytes.fromhex(blob) for i in range(MAX_OBJECT_BYTES // 28 + 1))
    tree = write_object(repo, "tree", entries)
    commit_sha = write_object(repo, "commit", f"tree {tree}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nx\n"
                              .encode())
    commit = read_commit(repo, commit_sha, "workflow")
    assert commit.state == "unreadable" and commit.reason.startswith(f"tree {tree} is ")


# ---------------------------------------------------------------- F12: a malformed tree
def malformed_commit(repo: Path) -> tuple[str, str]:
    tree = write_object(repo, "tree", b"100644 no-terminator")
    return tree, write_object(repo, "commit", f"tree {tree}\nauthor A <a@b> 1656150000 +0000\n"
                                              f"committer A <a@b> 1656150000 +0000\n\nmalformed tree\n".encode())


def test_a_malformed_tree_fails_only_its_commit(store):
    repo = workflow(store)
    good = git("rev-parse", "HEAD", cwd=repo)
    tree, bad = malformed_commit(repo)
    cache = CommitCache()
    try:
        commit = cache.read(repo, bad, "workflow")
        assert commit.state == "unreadable" and commit.reason.startswith(f"tree {tree} is malformed")
        assert cache.read(repo, good, "workflow").state == "present"
        assert cache.read_tree_diff(repo, good, bad).reason.startswith(f"tree {tree} is malformed")
        assert cache.read_tree_diff(repo, good, good).state == "present"
    finally:
        cache.close()


def test_inspect_is_the_same_whatever_the_number_of_workers(store):
    repo = workflow(store)
    good = git("rev-parse", "HEAD", cwd=repo)
    _, bad = malformed_commit(repo)
    simple_job(store, "lab", "j1", workflow_commit=bad, creation_timestamp="2022-06-25T14:41:05+02:00")
    simple_job(store, "lab", "j2", workflow_commit=good, creation_timestamp="2022-06-26T14:41:05+02:00")
    one, two = (run_cli("inspect", "--json", "--workers", n, store) for n in ("1", "2"))
    assert one.stdout == two.stdout
    jobs = {j["id"]: j for p in json.loads(one.stdout)["projects"] for j in p["jobs"]}
    assert (jobs["j1"]["workflow_commit"]["state"], jobs["j2"]["workflow_commit"]["state"]) == ("unreadable", "present")
