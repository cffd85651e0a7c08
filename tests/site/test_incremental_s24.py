"""Nightly incremental builds leave alone what did not change (session 24, findings F2 and F3).

- A file written again with the bytes the live one has keeps the live file (same inode, same
  mtime), precompressed siblings included, so rsync's size-and-mtime check skips it.
- The live file is compared by content: one edited by hand is still repaired.
- A commit that no job names rebuilds no job; a commit a job names that arrives later rebuilds
  exactly that job.  Each incremental result equals a fresh full build of the same store.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from reportgen.site.build import BuildOptions, BuildReport, build_site
from tests.invariants import assert_no_staging_left
from tests.readers.builders import git, make_repo, simple_job
from tests.site.helpers import site_digest, writable_copy

OPTIONS = BuildOptions(workers=2, show_progress=False, precompress=("gz", "zst"))
OWN = ("build-manifest.json", "build-report.json")  # written by every build that changes anything


def snapshot(site: Path) -> dict[str, tuple[int, int, bytes]]:
    """(inode, mtime_ns, bytes) of every file of the site but the manifest and the report."""
    found = {}
    for path in site.rglob("*"):
        if path.is_file() and path.name not in OWN:
            info = path.lstat()
            found[path.relative_to(site).as_posix()] = (info.st_ino, info.st_mtime_ns, path.read_bytes())
    return found


def build(store: Path, site: Path) -> BuildReport:
    report = build_site(store, site, OPTIONS)
    assert_no_staging_left(site.parent)
    return report


def assert_same_as_full(store: Path, site: Path) -> None:
    full = site.with_name("full")
    shutil.rmtree(full, ignore_errors=True)
    build_site(store, full, OPTIONS)
    assert site_digest(site) == site_digest(full)


def test_an_unchanged_file_keeps_its_inode_and_mtime(example_store: Path, tmp_path: Path):
    store, site = writable_copy(example_store, tmp_path / "ds"), tmp_path / "site"
    build(store, site)
    before = snapshot(site)
    log = sorted((store / "qpu_bench").glob("*/QPU.log"))[0]
    with open(log, "a") as handle:
        handle.write("one more line of the run\n")
    report = build(store, site)
    assert report.built == 1
    after = snapshot(site)
    same_bytes = [name for name in before if name in after and before[name][2] == after[name][2]]
    moved = [name for name in same_bytes if before[name][:2] != after[name][:2]]
    assert moved == []
    # what the finding saw rewritten with the same bytes: the home page, the compare page, their siblings
    for name in ("index.html", "index.html.gz", "qpu_bench/compare.html", "qpu_bench/compare.html.zst"):
        assert name in same_bytes
    job = log.parent.name
    assert before[f"qpu_bench/{job}.html"][2] != after[f"qpu_bench/{job}.html"][2]  # the page did change
    downloads = [name for name in same_bytes if name.startswith(f"qpu_bench/{job}/")]
    assert downloads, "the rebuilt job's downloads kept their files"
    assert_same_as_full(store, site)
    assert build(store, site).up_to_date  # the records name the kept files as they now are


def test_a_live_file_edited_by_hand_is_still_repaired(example_store: Path, tmp_path: Path):
    """Same size and mtime, other bytes, in a job the build rebuilds: compared by content, never trusted."""
    store, site = writable_copy(example_store, tmp_path / "ds"), tmp_path / "site"
    build(store, site)
    log = sorted((store / "qpu_bench").glob("*/QPU.log"))[0]
    job = log.parent.name
    download = sorted(p for p in (site / "qpu_bench" / job).rglob("*") if p.is_file())[0]
    data, info = download.read_bytes(), download.stat()
    download.write_bytes(bytes([data[0] ^ 1]) + data[1:])
    os.utime(download, ns=(info.st_atime_ns, info.st_mtime_ns))
    compare = site / "qpu_bench" / "compare.html"
    compare.write_bytes(compare.read_bytes().replace(b"<title>", b"<title>X", 1)[:compare.stat().st_size])
    with open(log, "a") as handle:
        handle.write("one more line of the run\n")
    build(store, site)
    assert download.read_bytes() == data
    assert_same_as_full(store, site)


def test_a_commit_no_job_names_rebuilds_no_job_and_a_named_one_that_arrives_rebuilds_its_job(tmp_path: Path):
    store, site = tmp_path / "ds", tmp_path / "site"
    params = store / "git" / "p" / "params.git"
    (params_sha,) = make_repo(params, [("p", {"parameters.json": '{"a": 1}'})])
    (workflow_sha,) = make_repo(store / "git" / "p" / "workflow.git", [("w", {"workflow.py": "pass\n"})])
    work = tmp_path / "work"
    git("clone", "-q", str(params), str(work))
    (work / "parameters.json").write_text('{"a": 2}')
    git("commit", "-qam", "later", cwd=work)
    later_sha = git("rev-parse", "HEAD", cwd=work)  # named by j3 before it reaches params.git
    for job in ("j1", "j2"):
        simple_job(store, "p", job, parameters_commit=params_sha, workflow_commit=workflow_sha)
    simple_job(store, "p", "j3", parameters_commit=later_sha, workflow_commit=workflow_sha)
    first = build(store, site)
    assert any(p.code == "commit-not-in-repo" for p in first.problems)
    before = snapshot(site)

    other = tmp_path / "other"  # a commit no job names, pushed
    git("clone", "-q", str(params), str(other))
    (other / "unrelated.json").write_text("{}")
    git("add", "unrelated.json", cwd=other)
    git("commit", "-qm", "unrelated", cwd=other)
    git("push", "-q", "origin", "HEAD:main", cwd=other)
    report = build(store, site)
    assert (report.built, report.kept, report.up_to_date) == (0, 3, True)  # the new fingerprint goes to SITE.lock only
    assert {name: value[:2] for name, value in snapshot(site).items()} == {n: v[:2] for n, v in before.items()}
    assert_same_as_full(store, site)

    git("push", "-q", "origin", "HEAD:refs/heads/later", cwd=work)  # j3's commit arrives
    before = snapshot(site)
    report = build(store, site)
    assert report.built == 1 and not any(p.code == "commit-not-in-repo" for p in report.problems)
    after = snapshot(site)
    assert before["p/j3.html"][2] != after["p/j3.html"][2]
    for job in ("j1", "j2"):
        assert after[f"p/{job}.html"][:2] == before[f"p/{job}.html"][:2]
    assert_same_as_full(store, site)
