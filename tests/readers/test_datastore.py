"""reportgen.readers.datastore: scanning, every status of D4, times of D5, problems, the sandboxed pool."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from reportgen.errors import InputMissingError
from reportgen.readers.datastore import read_data_store, read_job, scan_data_store
from reportgen.records import ReadLimits
from tests.readers.builders import TB_LOG, Node, Out, make_repo, metadata, simple_job, times, write_job, write_log


def codes(problems) -> set[str]:
    return {p.code for p in problems}


def jobs_by_id(store) -> dict:
    return {job.job_id: job for project in store.projects for job in project.jobs}


# ---------------------------------------------------------------- scanning
def test_missing_root_raises(tmp_path):
    with pytest.raises(InputMissingError, match="not found"):
        scan_data_store(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputMissingError, match="not a directory"):
        scan_data_store(tmp_path / "file")


def test_scan_layout_and_every_oddity(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1")
    write_log(root / "proj" / "orphan" / "QPU.log", "x")
    write_job(root / "proj" / "output_data.hdf5", metadata("test_from_command_line", "x", job_eui=""), [])
    (root / "proj" / "j9.hdf5.tmp").write_text("x")
    (root / "proj" / ".DS_Store").write_text("x")
    (root / "proj" / "notes.txt").write_text("x")
    (root / "README").write_text("x")
    (root / ".hidden").mkdir()
    make_repo(root / "git" / "proj" / "workflow.git", [("c", {"workflow.py": "x"})])
    (root / "git" / "j5.hdf5").write_text("a job of a project named git")
    os.symlink("/etc", root / "linked")
    scan = scan_data_store(root)
    assert [p.name for p in scan.projects] == ["proj"]
    project = scan.projects[0]
    assert [j.job_id for j in project.jobs] == ["j1", "orphan", "output_data"]
    j1, orphan, cli_run = project.jobs
    assert j1.hdf5.path == "proj/j1.hdf5" and j1.log_dir == "proj/j1" and [l.path for l in j1.logs] == ["proj/j1/QPU.log"]
    assert orphan.hdf5 is None and cli_run.command_line_run and cli_run.log_dir is None
    assert project.workflow_repo == "git/proj/workflow.git" and project.params_repo is None
    assert codes(project.problems) == {"temp-file", "dotfile", "stray-file", "repo-missing"}
    assert codes(scan.problems) == {"stray-file", "dotfile", "project-named-git", "symlink"}
    assert [p.severity for p in scan.problems if p.code == "project-named-git"] == ["error"]


def test_non_utf8_names_are_escaped(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1")
    bad = os.fsencode(root / "proj") + b"/j\xff.hdf5"
    os.rename(root / "proj" / "j1.hdf5", bad)
    store = read_data_store(root, workers=1)
    ids = sorted(jobs_by_id(store))
    assert ids == ["j1", "j\\xff"]
    job = jobs_by_id(store)["j\\xff"]
    assert "name-not-utf8" in codes(job.problems)
    for problem in store.all_problems():
        problem.describe().encode("utf-8")


# ---------------------------------------------------------------- status (D4) and times (D5)
@pytest.fixture()
def statuses(tmp_path) -> dict:
    root = tmp_path / "ds"
    simple_job(root, "p", "ok")
    simple_job(root, "p", "failed")
    write_log(root / "p" / "failed" / "QPU.log", "hello\n" + TB_LOG)
    write_job(root / "p" / "aborted.hdf5", metadata("p", "aborted"), [Node("QPU", [Out("r", None, times=times(2))])])
    write_log(root / "p" / "aborted" / "QPU.log", "x")
    simple_job(root, "p", "lostgroup")
    write_log(root / "p" / "lostgroup" / "final_report.log", "x")
    write_log(root / "p" / "nodata" / "QPU.log", TB_LOG)
    (root / "p" / "corrupt.hdf5").write_bytes(b"\0" * 100)
    write_job(root / "p" / "noattrs.hdf5", {}, [Node("QPU")])
    return jobs_by_id(read_data_store(root, workers=2))


@pytest.mark.parametrize(
    "job_id, status",
    [("ok", "ok"), ("failed", "failed-nodes"), ("aborted", "incomplete"), ("lostgroup", "incomplete"),
     ("nodata", "no-data"), ("corrupt", "corrupt"), ("noattrs", "corrupt")],
)
def test_every_status(statuses, job_id, status):
    assert statuses[job_id].status == status, statuses[job_id].problems


def test_status_problems(statuses):
    assert "log-without-group" in codes(statuses["lostgroup"].problems)
    assert "aborted-flush" in codes(statuses["aborted"].problems)
    assert "no-hdf5" in codes(statuses["nodata"].problems)
    assert "root-attr-missing" in codes(statuses["noattrs"].problems)
    assert statuses["ok"].problems == tuple(p for p in statuses["ok"].problems if p.code.startswith("commit"))


def test_unknown_status_when_files_vanished(tmp_path):
    root = tmp_path / "ds"
    path = simple_job(root, "p", "j1")
    ref = scan_data_store(root).projects[0].jobs[0]
    path.unlink()
    job = read_job(root, ref)
    assert job.status == "corrupt" and "changed-during-read" in codes(job.problems)


def test_times_end_and_start(tmp_path):
    root = tmp_path / "ds"
    stamps = ["2022-06-25T12:52:14.554Z", "2022-06-25T12:40:00.001Z"]
    simple_job(root, "p", "j1", [Node("QPU", [Out("v", [1, 2], times=stamps)])])
    simple_job(root, "p", "j2", [Node("QPU")])
    write_log(root / "p" / "j3" / "QPU.log", "x")
    os.utime(root / "p" / "j3" / "QPU.log", (1656161000, 1656161000))
    jobs = jobs_by_id(read_data_store(root, workers=1))
    assert jobs["j1"].end_time == datetime(2022, 6, 25, 12, 41, 5, 123456, tzinfo=timezone.utc)
    assert jobs["j1"].end_time.utcoffset().total_seconds() == 7200
    assert (jobs["j1"].start_time.isoformat(), jobs["j1"].start_time_source) == ("2022-06-25T12:40:00.001000+00:00", "output-time")
    assert jobs["j2"].start_time_source == "log-mtime"
    assert jobs["j3"].start_time == datetime.fromtimestamp(1656161000, tz=timezone.utc) and jobs["j3"].end_time is None


def test_attribute_mismatches_are_warnings(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "p", "j1", job_eui="#/other", project="elsewhere")
    job = jobs_by_id(read_data_store(root, workers=1))["j1"]
    severities = {p.code: p.severity for p in job.problems}
    assert severities["job-eui-mismatch"] == severities["project-mismatch"] == "warning"
    assert severities["commit-attr-missing"] == "warning" and job.status == "ok"


def test_commits_resolved_per_project(tmp_path):
    root = tmp_path / "ds"
    wf = make_repo(root / "git" / "p" / "workflow.git", [("wf1", {"workflow.py": "x"})])
    pa = make_repo(root / "git" / "p" / "params.git", [("pa1", {"parameters.json": "{}"})])
    simple_job(root, "p", "j1", workflow_commit=wf[0], parameters_commit=pa[0])
    simple_job(root, "p", "j2", workflow_commit="0" * 40, parameters_commit="--output=/tmp/x")
    jobs = jobs_by_id(read_data_store(root, workers=2))
    assert (jobs["j1"].workflow.state, jobs["j1"].params.state) == ("present", "present")
    assert jobs["j1"].params.files[0].path == "parameters.json"
    assert (jobs["j2"].workflow.state, jobs["j2"].params.state) == ("not-in-repo", "invalid")
    assert {"commit-not-in-repo", "commit-invalid"} <= codes(jobs["j2"].problems)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads chmod 000 files")
def test_unreadable_file_is_a_problem(tmp_path):
    root = tmp_path / "ds"
    path = simple_job(root, "p", "j1")
    path.chmod(0)
    try:
        job = jobs_by_id(read_data_store(root, workers=1))["j1"]
    finally:
        path.chmod(0o644)
    assert job.status == "corrupt" and any("permission denied" in p.reason for p in job.problems)


def test_unreadable_log_is_a_problem(tmp_path):
    """As root chmod does not bite, so make the log unreadable as a directory named *.log."""
    root = tmp_path / "ds"
    simple_job(root, "p", "j1")
    log = root / "p" / "j1" / "QPU.log"
    log.unlink()
    log.mkdir()
    job = jobs_by_id(read_data_store(root, workers=1))["j1"]
    assert "stray-file" in codes(job.problems) or "log-unreadable" in codes(job.problems)


# ---------------------------------------------------------------- the sandboxed pool
def test_worker_crash_is_isolated_to_its_file(tmp_path, monkeypatch):
    root = tmp_path / "ds"
    for n in range(6):
        simple_job(root, "p", f"j{n}")
    monkeypatch.setenv("REPORTGEN_CRASH_AT", "hdf5:j3")
    jobs = jobs_by_id(read_data_store(root, workers=2))
    assert jobs["j3"].status == "corrupt"
    assert [p.reason for p in jobs["j3"].problems if p.code == "hdf5-crash"] == ["HDF5 reader crashed (SIGSEGV)"]
    assert jobs["j3"].logs and all(jobs[f"j{n}"].status == "ok" for n in (0, 1, 2, 4, 5))


def test_worker_timeout_is_reported(tmp_path, monkeypatch):
    root = tmp_path / "ds"
    for n in range(3):
        simple_job(root, "p", f"j{n}")
    monkeypatch.setenv("REPORTGEN_CRASH_AT", "hang:j1")
    jobs = jobs_by_id(read_data_store(root, workers=2, limits=ReadLimits(worker_timeout_s=1)))
    assert jobs["j1"].status == "corrupt" and "timed out" in jobs["j1"].problems[0].reason
    assert jobs["j0"].status == jobs["j2"].status == "ok"


def test_order_is_deterministic(tmp_path):
    root = tmp_path / "ds"
    for n in range(8):
        simple_job(root, "b" if n % 2 else "a", f"j{n}")
    one = read_data_store(root, workers=1)
    two = read_data_store(root, workers=2)
    assert one == two
    assert [j.job_id for j in two.projects[0].jobs] == ["j0", "j2", "j4", "j6"]


def test_example_store_reads_clean(example_store):
    store = read_data_store(example_store, workers=2)
    assert store.projects and all(job.status in ("ok", "failed-nodes", "no-data") for p in store.projects for job in p.jobs)
    assert not [p for p in store.all_problems() if p.severity == "error"]


def test_paths_in_records_are_relative(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "p", "j1")
    job = jobs_by_id(read_data_store(root, workers=1))["j1"]
    assert job.hdf5_file == "p/j1.hdf5" and job.log_dir == "p/j1" and not Path(job.logs[0].path).is_absolute()


def _allocate_under_limit(conn) -> None:
    from reportgen.readers.sandbox import limit_worker

    limit_worker(ReadLimits(worker_memory_bytes=64 * 1024**2))
    try:
        block = bytearray(512 * 1024**2)
        conn.send(f"allocated {len(block)}")
    except MemoryError:
        conn.send("MemoryError")


def test_worker_address_space_is_limited():
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_allocate_under_limit, args=(sender,))
    child.start()
    assert receiver.poll(30) and receiver.recv() == "MemoryError"
    child.join(10)
