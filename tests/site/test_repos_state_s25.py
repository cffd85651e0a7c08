"""The repositories' stat fingerprint is kept in SITE.lock, not published (review D, F1).

``repo_fingerprint`` hashes names, sizes and mtimes of refs and packs: a ``git gc``, a re-clone or
a restore from the export archive changes it and nothing a page shows.  Published in
``build-manifest.json`` it made the site (and every bundle) of a restored store differ from the
original's.  These tests use real git repositories and real builds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from reportgen.site.build import BuildOptions, build_site
from reportgen.site.write import lock_path
from tests.readers.builders import git, make_repo, simple_job
from tests.site.helpers import site_digest

OPTIONS = BuildOptions(workers=1, show_progress=False)


def small_store(root: Path) -> tuple[Path, Path]:
    """A project with two jobs on one params and one workflow commit; (store, params.git)."""
    params = root / "git" / "p" / "params.git"
    (params_sha,) = make_repo(params, [("p", {"parameters.json": '{"a": 1}'})])
    (workflow_sha,) = make_repo(root / "git" / "p" / "workflow.git", [("w", {"workflow.py": "pass\n"})])
    for job in ("j1", "j2"):
        simple_job(root, "p", job, parameters_commit=params_sha, workflow_commit=workflow_sha)
    return root, params


def test_a_git_gc_changes_no_byte_of_the_site_and_is_up_to_date(tmp_path: Path):
    store, params = small_store(tmp_path / "store")
    site = tmp_path / "site"
    build_site(store, site, OPTIONS)
    before = (site / "build-manifest.json").read_bytes()
    git("gc", "-q", "--aggressive", "--prune=now", cwd=params)
    git("pack-refs", "--all", cwd=params)
    report = build_site(store, site, OPTIONS)
    assert report.up_to_date and report.built == 0
    assert (site / "build-manifest.json").read_bytes() == before
    assert b'"repos"' not in before  # the stat fingerprint is not published at all


def test_a_store_with_recloned_repositories_gives_the_same_site(tmp_path: Path):
    store, _ = small_store(tmp_path / "store")
    copy = tmp_path / "copy"
    shutil.copytree(store, copy, symlinks=True, ignore=shutil.ignore_patterns("*.git"))
    for repo in ("params.git", "workflow.git"):
        git("clone", "-q", "--bare", "--no-local", str(store / "git" / "p" / repo), str(copy / "git" / "p" / repo))
    build_site(store, tmp_path / "one", OPTIONS)
    build_site(copy, tmp_path / "two", OPTIONS)
    assert site_digest(tmp_path / "one") == site_digest(tmp_path / "two")


def test_a_lost_lock_still_sees_a_commit_that_arrived(tmp_path: Path):
    """Without SITE.lock the fingerprints are unknown, so every kept job's commits are asked again:
    a commit that arrived in the meantime rebuilds its job, as a fresh build would show it."""
    store, params = small_store(tmp_path / "store")
    work = tmp_path / "work"
    git("clone", "-q", str(params), str(work))
    (work / "parameters.json").write_text('{"a": 2}')
    git("commit", "-qam", "later", cwd=work)
    later = git("rev-parse", "HEAD", cwd=work)
    workflow_sha = git("rev-parse", "HEAD", cwd=store / "git" / "p" / "workflow.git")
    simple_job(store, "p", "j3", parameters_commit=later, workflow_commit=workflow_sha)
    site = tmp_path / "site"
    first = build_site(store, site, OPTIONS)
    assert any(p.code == "commit-not-in-repo" for p in first.problems)
    git("push", "-q", "origin", "HEAD:refs/heads/later", cwd=work)
    lock_path(site).unlink()  # SITE.lock lost (the site was copied elsewhere, say)
    report = build_site(store, site, OPTIONS)
    assert report.built == 1 and not any(p.code == "commit-not-in-repo" for p in report.problems)
    build_site(store, tmp_path / "full", OPTIONS)
    assert site_digest(site) == site_digest(tmp_path / "full")
