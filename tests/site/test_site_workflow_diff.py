"""``<job>~workflow-diff.html`` (review s23, finding F1): the workflow files that changed since the
previous job (by end time, then id) that used another workflow commit, file by file, built from a
real bare repository; linked from the job page and named in the compare data; kept, rebuilt,
removed and repaired with its job by an incremental build."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from reportgen.readers.git import CommitCache
from reportgen.records import ReadLimits
from tests.invariants import run_cli
from tests.readers.builders import git, simple_job
from tests.site.helpers import site_digest

EVIL = "<img src=x onerror=alert(1)>.py"
BIG = 1024 * 1024 + 1  # over SITE_LIMITS.git_file_bytes (1 MiB)


def commit(work: Path, message: str, files: dict[str, str | bytes | None]) -> str:
    """One commit of ``files`` (None: delete the file) in the work tree ``work``; its sha."""
    for rel, content in files.items():
        target = work / rel
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def publish(work: Path, bare: Path) -> None:
    shutil.rmtree(bare, ignore_errors=True)
    bare.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "-q", "--bare", str(work), str(bare))


@pytest.fixture()
def store(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Project ``p``: j1 on workflow c1, j2 and j3 on c2 (ids order them: same end times)."""
    root, work = tmp_path / "data_store", tmp_path / "work"
    git("init", "-q", "-b", "main", str(work))
    shas = {
        "c1": commit(work, "first", {"a.py": "x = 1\ny = 2\n", "keep.py": "same\n", "sub/old.py": "old\n",
                                      "data.bin": b"\0\1\2", "big.txt": "b" * 10}),
        "c2": commit(work, "second", {"a.py": "x = 1\ny = 3\n", "sub/old.py": None, "new.py": "new\n",
                                       "data.bin": b"\0\1\3", "big.txt": "c" * BIG,
                                       EVIL: "<script>alert(1)</script>\n"}),
    }
    publish(work, root / "git" / "p" / "workflow.git")
    for job_id, sha in (("j1", shas["c1"]), ("j2", shas["c2"]), ("j3", shas["c2"])):
        simple_job(root, "p", job_id, workflow_commit=sha)
    shas["work"] = str(work)
    return root, shas


def page_text(path: Path) -> str:
    """The page's text: tags dropped, entities decoded, runs of spaces as one (diff lines stay lines)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text("utf-8"))).replace("  ", " ")


def build(store: Path, site: Path) -> None:
    assert run_cli("build", store, "-o", site, "--workers", "1").code == 0


def test_the_page_shows_each_changed_file_and_only_those(store, tmp_path: Path):
    root, shas = store
    build(root, tmp_path / "site")
    raw = (tmp_path / "site" / "p" / "j2~workflow-diff.html").read_text("utf-8")
    text = page_text(tmp_path / "site" / "p" / "j2~workflow-diff.html")
    assert f"Commit {shas['c2']} compared with {shas['c1']} of the previous job j1" in text
    assert "--- a/a.py" in text and "-y = 2" in text and "+y = 3" in text
    assert "sub/old.py" in text and "-old" in text and "removed" in text
    assert "+++ b/new.py" in text and "+new" in text and "added" in text
    assert "data.bin" in text and "binary" in text and "\0" not in text
    assert "big.txt" in text and "over the 1,048,576-byte limit" in text and "c" * 100 not in text
    assert "keep.py" not in text  # unchanged: not listed
    assert "j1.html" in raw and "compare.html#jobs=j1,j2" in raw


def test_a_crafted_file_name_and_content_stay_text(store, tmp_path: Path):
    root, _ = store
    build(root, tmp_path / "site")
    raw = (tmp_path / "site" / "p" / "j2~workflow-diff.html").read_text("utf-8")
    assert "<img src=x" not in raw and "<script>alert" not in raw
    assert "&lt;img src=x onerror=alert(1)&gt;.py" in raw and "+&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_pairing_is_the_parameters_diffs_and_the_first_job_says_so(store, tmp_path: Path):
    """j3 shares j2's commit: it is diffed against j1, the previous job with another commit (as
    the parameters diff pairs); j1 has no earlier job.  The same commit is never diffed with itself."""
    root, shas = store
    build(root, tmp_path / "site")
    site = tmp_path / "site" / "p"
    j3 = page_text(site / "j3~workflow-diff.html")
    assert "j1.html" in (site / "j3~workflow-diff.html").read_text("utf-8") and "--- a/a.py" in j3
    j1 = page_text(site / "j1~workflow-diff.html")
    assert "no earlier job of this project used a different workflow commit" in j1 and "--- a/" not in j1
    # not a dead end: the page points at the job page's list of the workflow files (session 24)
    assert 'href="j1.html#commits"' in (site / "j1~workflow-diff.html").read_text("utf-8")
    assert 'href="j3.html#commits"' not in (site / "j3~workflow-diff.html").read_text("utf-8")


def test_the_job_page_and_the_compare_data_link_it(store, tmp_path: Path):
    root, _ = store
    build(root, tmp_path / "site")
    site = tmp_path / "site" / "p"
    assert 'href="j2~workflow-diff.html"' in (site / "j2.html").read_text("utf-8")
    assert '"workflow_diff":"j2~workflow-diff.html"' in (site / "j2~compare.js").read_text("utf-8")


def test_no_page_and_no_link_without_a_readable_workflow_commit(tmp_path: Path):
    root = tmp_path / "data_store"
    simple_job(root, "p", "j1", workflow_commit="f" * 40)  # no workflow.git: repo-missing
    build(root, tmp_path / "site")
    site = tmp_path / "site" / "p"
    assert not (site / "j1~workflow-diff.html").exists()
    assert "workflow-diff" not in (site / "j1.html").read_text("utf-8")
    assert '"workflow_diff":""' in (site / "j1~compare.js").read_text("utf-8")


def test_incremental_builds_add_remove_and_repair_it_like_a_full_build(store, tmp_path: Path):
    root, shas = store
    site, full = tmp_path / "site", tmp_path / "full"
    build(root, site)
    work = Path(shas["work"])
    c3 = commit(work, "third", {"keep.py": "changed\n"})
    publish(work, root / "git" / "p" / "workflow.git")
    simple_job(root, "p", "j4", workflow_commit=c3)  # a new job: diffed against j3 (c2)
    build(root, site)
    j4 = page_text(site / "p" / "j4~workflow-diff.html")
    assert "--- a/keep.py" in j4 and "+changed" in j4 and "a.py" not in j4.replace("keep.py", "")
    (root / "p" / "j2.hdf5").unlink()
    shutil.rmtree(root / "p" / "j2")
    build(root, site)
    assert not (site / "p" / "j2~workflow-diff.html").exists()
    (site / "p" / "j3~workflow-diff.html").write_text("edited by hand")
    result = run_cli("build", root, "-o", site, "--workers", "1")
    assert result.code == 0 and "1 repaired" in result.stdout + result.stderr
    build(root, full)
    assert site_digest(site) == site_digest(full)


def test_read_tree_diff_applies_the_file_limit_and_reports_a_missing_commit(store):
    root, shas = store
    repo = root / "git" / "p" / "workflow.git"
    cache = CommitCache(ReadLimits(git_file_bytes=5))
    try:
        diff = cache.read_tree_diff(repo, shas["c1"], shas["c2"])
        assert diff.state == "present"
        by_path = {change.path: change for change in diff.changes}
        assert sorted(by_path) == sorted(["a.py", "big.txt", "data.bin", "new.py", "sub/old.py", EVIL])
        assert by_path["a.py"].old_text is None and "over the 5-byte limit" in by_path["a.py"].note
        assert by_path["new.py"].change == "added" and by_path["new.py"].new_text == "new\n"
        assert by_path["sub/old.py"].change == "removed" and by_path["sub/old.py"].new_text is None
        missing = cache.read_tree_diff(repo, shas["c1"], "e" * 40)
        assert missing.state == "unreadable" and missing.reason.startswith(f"commit {'e' * 40} not in workflow.git")
    finally:
        cache.close()


def test_a_pair_read_once_serves_the_next_jobs_and_the_cache_stays_bounded(store, monkeypatch):
    """The jobs run on one workflow commit all diff the same pair: it is read once per worker."""
    from reportgen.readers import git as gitreader

    root, shas = store
    repo = root / "git" / "p" / "workflow.git"
    cache = CommitCache()
    reads = []
    real = gitreader.read_tree_changes
    monkeypatch.setattr(gitreader, "read_tree_changes", lambda *a: reads.append(a[1:3]) or real(*a))
    try:
        first = cache.read_tree_diff(repo, shas["c1"], shas["c2"])
        assert cache.read_tree_diff(repo, shas["c1"], shas["c2"]) == first and len(reads) == 1
        monkeypatch.setattr(gitreader, "DIFFS_KEPT", 1)
        cache.read_tree_diff(repo, shas["c2"], shas["c1"])  # a second pair takes the one place
        cache.read_tree_diff(repo, shas["c1"], shas["c2"])
        assert len(reads) == 3
        monkeypatch.setattr(gitreader, "DIFF_TEXT_KEPT", 0)  # a diff with more text than kept is read each time
        cache.close()
        cache.read_tree_diff(repo, shas["c1"], shas["c2"])
        cache.read_tree_diff(repo, shas["c1"], shas["c2"])
        assert len(reads) == 5
    finally:
        cache.close()
