"""Audit follow-ups: the end of a huge log on its job page, ``data_index.json`` in a job folder,
and a damaged commit object told apart from an absent one.

Inputs are built here with real h5py, real files and real git (through the readers' builders).
"""

from __future__ import annotations

import html
import re
import zlib
from pathlib import Path

import pytest

from reportgen.readers.datastore import read_job, scan_data_store
from reportgen.readers.git import CommitCache
from reportgen.site import jobpage
from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import HEADER, TB_LOG, git, make_repo, simple_job, write_log

SERIAL = BuildOptions(workers=1, show_progress=False)


def read_all(store: Path, commits: CommitCache | None = None) -> dict[str, object]:
    """job id -> Job, read in this process."""
    scan = scan_data_store(store)
    return {ref.job_id: read_job(store, ref, commits=commits) for project in scan.projects for ref in project.jobs}


def job_page(site: Path, job_id: str) -> str:
    return (site / "proj" / f"{job_id}.html").read_text()


def log_block(page: str) -> str:
    start = page.index('<details class="log"')
    return page[start : page.index("</details>", start)]


# ---------------------------------------------------------------- 1: a huge log shows its end
def huge_log_store(root: Path) -> Path:
    """One job whose log is a 300 KiB single line (past the 256 KiB preview), then a traceback."""
    simple_job(root, "proj", "j1")
    make_repo(root / "git" / "proj" / "workflow.git", [("c", {"workflow.py": "x"})])
    make_repo(root / "git" / "proj" / "params.git", [("c", {"parameters.json": "{}"})])
    line = "A" * (300 * 1024)
    write_log(root / "proj" / "j1" / "QPU.log", HEADER.format(node="QPU") + line + "\n" + TB_LOG
              + "RuntimeError: <script>alert(1)</script> & more\n")
    return root


def test_cut_preview_shows_the_kept_end_of_the_log_with_its_traceback_escaped(tmp_path):
    store = huge_log_store(tmp_path / "ds")
    site = tmp_path / "site"
    build_site(store, site, SERIAL)
    block = log_block(job_page(site, "j1"))
    assert "the preview is cut short" in block
    title = re.search(r'<p class="log-tail-title"><strong>([^<]*)</strong>', block)
    assert title and title.group(1).startswith("End of the file: last 5 lines (lines 6-10 of 10")
    tail = block[block.index("log-tail-title") :]
    # numbered as the reader numbers the whole file, so its traceback line is marked
    assert re.search(r'class="ln ln-traceback" id="([^"]*-tail-L7)"><a class="lnum" href="#\1">7</a>Traceback', tail)
    assert "ValueError: boom" in tail
    assert "<script>alert(1)" not in block and html.escape("<script>alert(1)</script> & more") in tail
    ids = re.findall(r' id="([^"]+)"', block)
    assert len(ids) == len(set(ids))  # tail lines never reuse the preview's anchors


def test_copy_cut_at_the_limit_is_said_on_the_page(tmp_path, monkeypatch):
    store = huge_log_store(tmp_path / "ds")
    size = (store / "proj" / "j1" / "QPU.log").stat().st_size
    monkeypatch.setattr(jobpage, "LOG_COPY_LIMIT", 100_000)  # the real 64 MiB, scaled down
    site = tmp_path / "site"
    build_site(store, site, SERIAL)
    copies = list((site / "proj" / "j1" / "logs").iterdir())
    assert [c.stat().st_size for c in copies] == [100_000]
    block = log_block(job_page(site, "j1"))
    assert f"the copy is cut at 100,000 bytes of the {size:,}-byte file" in block


def test_log_copied_whole_says_nothing_about_a_cut(tmp_path):
    store = huge_log_store(tmp_path / "ds")
    site = tmp_path / "site"
    build_site(store, site, SERIAL)
    block = log_block(job_page(site, "j1"))
    assert "Full log file" in block and "the copy is cut" not in block
    assert "log-tail-title" in block  # the end shows whether or not the copy is cut


# ---------------------------------------------------------------- 2: data_index.json (executor PR #301)
def test_data_index_json_in_the_job_folder_is_accepted_silently_and_not_required(tmp_path):
    store = tmp_path / "ds"
    simple_job(store, "proj", "j1")
    simple_job(store, "proj", "j2")  # without one: nothing is required
    (store / "proj" / "j1" / "data_index.json").write_text('{"QPU": {"final_data": null}}')
    jobs = read_all(store)
    for job in jobs.values():
        assert not [p for p in job.problems if p.code == "stray-file"], job.problems
    assert jobs["j1"].status == jobs["j2"].status == "ok"
    # the file belongs to a job: anywhere else it is still a stray file
    (store / "proj" / "data_index.json").write_text("{}")
    stray = [p.file for p in scan_data_store(store).projects[0].problems if p.code == "stray-file"]
    assert stray == ["proj/data_index.json"]


# ---------------------------------------------------------------- 3: a damaged commit object
def damage(path: Path, how: str) -> None:
    """Rewrite one loose object in place: still there, no longer readable."""
    good = path.read_bytes()
    path.chmod(0o644)
    if how == "truncated":
        bad = good[:10]
    elif how == "damaged-zlib":
        bad = good[:2] + bytes(b ^ 0xFF for b in good[2:12]) + good[12:]
    else:  # "damaged-body": the header still inflates, the rest does not
        packed = zlib.compress(zlib.decompress(good))
        bad = packed[:-12] + bytes(b ^ 0x55 for b in packed[-12:])
    path.write_bytes(bad)


@pytest.mark.parametrize("how", ["truncated", "damaged-zlib", "damaged-body"])
def test_damaged_commit_object_is_unreadable_not_absent(tmp_path, how):
    store = tmp_path / "ds"
    repo = store / "git" / "proj" / "workflow.git"
    broken, intact = make_repo(repo, [("first", {"workflow.py": "1"}), ("second", {"workflow.py": "2"})])
    make_repo(store / "git" / "proj" / "params.git", [("p", {"parameters.json": "{}"})])
    damage(repo / "objects" / broken[:2] / broken[2:], how)
    absent = "1" * 40
    for job_id, sha in (("j1", broken), ("j2", intact), ("j3", absent)):
        simple_job(store, "proj", job_id, workflow_commit=sha)
    cache = CommitCache()
    try:
        jobs = read_all(store, cache)  # one cache: a damaged object must not spoil the repository
    finally:
        cache.close()
    codes = {job_id: [p.code for p in job.problems if p.member == "@workflow_commit"] for job_id, job in jobs.items()}
    assert codes == {"j1": ["commit-unreadable"], "j2": [], "j3": ["commit-not-in-repo"]}
    assert jobs["j1"].workflow.state == "unreadable"
    assert jobs["j1"].workflow.reason.startswith(f"commit {broken} is in workflow.git but cannot be read: ")
    assert "dubious ownership" not in jobs["j1"].workflow.reason
    assert jobs["j2"].workflow.state == "present" and jobs["j2"].workflow.subject == "second"
    assert jobs["j3"].workflow.state == "not-in-repo"


def test_damaged_file_of_a_commit_spoils_that_commit_only(tmp_path):
    """A blob whose header still inflates: ``cat-file --batch`` dies on it mid-read."""
    repo = tmp_path / "workflow.git"
    first, second = make_repo(repo, [("first", {"workflow.py": "1" * 200}), ("second", {"workflow.py": "2" * 200})])
    blob = git("rev-parse", f"{first}:workflow.py", cwd=repo)
    damage(repo / "objects" / blob[:2] / blob[2:], "damaged-body")
    cache = CommitCache()
    try:
        spoiled, fine = cache.read(repo, first, "workflow"), cache.read(repo, second, "workflow")
    finally:
        cache.close()
    assert spoiled.state == "unreadable"
    assert spoiled.reason.startswith(f"blob {blob} is in workflow.git but cannot be read: ")
    assert fine.state == "present" and [f.text for f in fine.files] == ["2" * 200]
