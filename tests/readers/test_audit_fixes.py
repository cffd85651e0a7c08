"""Readers against the audit's findings: special files, broken executor results, files still being
written, unreadable attributes, odd ``_time`` lengths and scalar or null datasets.

Every input is built here with real h5py, real FIFOs and real git; a reader that
would block on a FIFO is stopped by an alarm instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.readers.datastore import read_job, scan_data_store
from reportgen.readers.hdf5 import read_hdf5_job, read_output_data
from reportgen.records import ReadLimits
from tests.readers.builders import (
    STR,
    Node,
    Out,
    make_repo,
    metadata,
    simple_job,
    times,
    write_job,
    write_log,
)


def codes(problems) -> list[str]:
    return sorted(p.code for p in problems)


def found(job) -> list:
    """The job's problems but the two ``commit-attr-missing`` of every job built without repositories."""
    return [p for p in job.problems if p.code != "commit-attr-missing"]


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging when a reader opens a FIFO (open() blocks until a writer comes)."""

    def expire(signum, frame):
        raise TimeoutError(f"blocked for {seconds} s (a FIFO was opened?)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def ref_of(root: Path, job_id: str):
    return next(ref for project in scan_data_store(root).projects for ref in project.jobs if ref.job_id == job_id)


# ---------------------------------------------------------------- special files (bug 3)
def test_fifo_named_like_a_job_file_is_reported_at_scan_and_never_a_job(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1")
    os.mkfifo(root / "proj" / "j2.hdf5")
    os.mkfifo(root / "stray.fifo")
    scan = scan_data_store(root)
    (project,) = scan.projects
    assert [ref.job_id for ref in project.jobs] == ["j1"]
    special = [p for p in project.problems if p.code == "special-file"]
    assert [(p.file, p.severity) for p in special] == [("proj/j2.hdf5", "warning")]
    assert "FIFO" in special[0].reason and "never opened" in special[0].reason
    assert [p.file for p in scan.problems if p.code == "special-file"] == ["stray.fifo"]


def test_symlink_and_fifo_in_a_log_folder_get_their_own_codes_and_are_never_opened(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1")
    os.mkfifo(root / "proj" / "j1" / "B.log")
    os.mkfifo(root / "proj" / "j1" / "_executor_result.json")
    os.symlink("/etc/hostname", root / "proj" / "j1" / "C.log")
    with deadline(20):
        job = read_job(root, ref_of(root, "j1"))
    by_file = {p.file: p.code for p in found(job)}
    assert by_file == {
        "proj/j1/B.log": "special-file",
        "proj/j1/C.log": "symlink",
        "proj/j1/_executor_result.json": "special-file",
    }
    assert job.status == "ok" and [log.node for log in job.logs] == ["QPU"]


def test_job_file_replaced_by_a_fifo_after_the_scan_is_not_opened(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1")
    ref = ref_of(root, "j1")
    (root / "proj" / "j1.hdf5").unlink()
    os.mkfifo(root / "proj" / "j1.hdf5")
    with deadline(20):
        job = read_job(root, ref)
    (problem,) = [p for p in job.problems if p.file == "proj/j1.hdf5"]
    assert problem.code == "changed-during-read" and "FIFO" in problem.reason
    assert job.status == "corrupt"


# ---------------------------------------------------------------- _executor_result.json (bug 4)
def _job_with_result(root: Path, content: bytes) -> Path:
    simple_job(root, "proj", "j1")
    (root / "proj" / "j1" / "_executor_result.json").write_bytes(content)
    return root


def test_deeply_nested_executor_result_is_a_warning_on_that_file_only(tmp_path):
    root = _job_with_result(tmp_path / "ds", b"[" * 100_000 + b"]" * 100_000)
    job = read_job(root, ref_of(root, "j1"))
    assert [(p.code, p.file, p.severity) for p in found(job)] == [
        ("executor-result-invalid", "proj/j1/_executor_result.json", "warning")
    ]
    assert "nested too deeply" in found(job)[0].reason
    assert job.status == "ok" and job.nodes  # the good HDF5 file is read, not called corrupt
    valid = {"status": "Partially successful", "status_message": "", "nodes_success": 1, "nodes_error": 1,
             "nodes_count": 2, "nodes": {"QPU": "success", "B": "error, exit code 1"}}
    (root / "proj" / "j1" / "_executor_result.json").write_text(json.dumps(valid))
    job = read_job(root, ref_of(root, "j1"))
    assert found(job) == [] and job.status == "failed-nodes"


@pytest.mark.parametrize(
    "content, reason",
    [
        (b'{"status": ', "invalid JSON"),
        (json.dumps({"status": 5, "nodes_error": "many", "nodes": ["a"], "nodes_count": None}).encode(), "$.status is not a string"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[1, 2]", "a JSON list, not an object"),
        (b'{"status": "Success", "nodes_error": NaN}', "NaN"),
        (b'{"nodes_count": 1e999}', "$.nodes_count is not a count"),
        (b'{"nodes_error": true}', "$.nodes_error is not a count"),
        (json.dumps({"nodes": {f"n{i}": "x" * 100 for i in range(20_000)}}).encode(), "larger than"),
    ],
    ids=["invalid-json", "wrong-types", "not-utf8", "list", "nan", "huge-number", "bool-count", "over-1-MiB"],
)
def test_broken_executor_result_is_a_warning_naming_it(tmp_path, content, reason):
    root = _job_with_result(tmp_path / "ds", content)
    job = read_job(root, ref_of(root, "j1"))
    (problem,) = found(job)
    assert (problem.code, problem.file, problem.severity) == ("executor-result-invalid", "proj/j1/_executor_result.json", "warning")
    assert reason in problem.reason and problem.reason.endswith("ignored")
    assert job.status == "ok"


# ---------------------------------------------------------------- a file still being written (bug 5)
SWMR_WRITER = textwrap.dedent("""
    import sys, h5py
    f = h5py.File(sys.argv[1], "w", libver="latest")
    for key, value in {"project": "proj", "job_eui": "#/live", "job_description": "d", "workflow_eui": "",
                       "parameters_eui": "", "creation_timestamp": "2022-06-25T14:41:05+02:00"}.items():
        f.attrs[key] = value
    group = f.create_group("QPU")
    group.create_dataset("v", shape=(0,), maxshape=(None,), dtype="f8", chunks=(64,))
    f.swmr_mode = True
    print("ready", flush=True)
    sys.stdin.read()
    f.close()
""")


def test_file_open_for_swmr_writing_is_said_to_be_written_not_corrupt(tmp_path):
    root = tmp_path / "ds"
    path = root / "proj" / "live.hdf5"
    write_log(root / "proj" / "live" / "QPU.log", "running\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = subprocess.Popen([sys.executable, "-c", SWMR_WRITER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        content = read_hdf5_job(path, "proj/live.hdf5")
        job = read_job(root, ref_of(root, "live"))
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    (problem,) = content.problems
    assert problem.code == "hdf5-being-written" and problem.severity == "warning"
    assert "open for writing by another process" in problem.reason and "corrupt" not in problem.reason
    assert not content.readable
    assert job.status == "no-data" and "hdf5-corrupt" not in codes(job.problems)


# ---------------------------------------------------------------- unreadable attributes (bug 6)
def break_string_attribute(path: Path, value: str) -> None:
    """Point the vlen string attribute holding ``value`` at a heap object that does not exist.

    A variable-length string is stored as (length, global heap collection address,
    object index); the object holds the bytes.  Only that one attribute becomes
    unreadable ("bad heap index"), as in a damaged file.
    """
    raw = bytearray(path.read_bytes())
    data = value.encode()
    at = raw.find(data)
    assert at > 0 and raw.count(data) == 1, value
    collection = raw.rfind(b"GCOL", 0, at)
    index = struct.unpack_from("<H", raw, at - 16)[0]  # object header: index, refcount, reserved, size
    pointer = struct.pack("<IQI", len(data), collection, index)
    assert raw.count(pointer) == 1, value
    offset = raw.find(pointer)
    struct.pack_into("<I", raw, offset + 12, 0xFFFF)
    path.write_bytes(bytes(raw))


def test_unreadable_root_attributes_are_reported_once_and_never_checked(tmp_path):
    root = tmp_path / "ds"
    sha = make_repo(root / "git" / "proj" / "workflow.git", [("c", {"workflow.py": "x"})])[0]
    make_repo(root / "git" / "proj" / "params.git", [("c", {"parameters.json": "{}"})])
    path = simple_job(root, "proj", "j1", workflow_commit=sha, job_eui="#/j1-wrong-but-unreadable",
                      creation_timestamp="2022-06-25T14:41:05.123456+02:00-unreadable")
    break_string_attribute(path, sha)
    break_string_attribute(path, "#/j1-wrong-but-unreadable")
    break_string_attribute(path, "2022-06-25T14:41:05.123456+02:00-unreadable")
    job = read_job(root, ref_of(root, "j1"))
    unreadable = [p for p in job.problems if p.code == "root-attr-unreadable"]
    assert [(p.member, p.severity) for p in unreadable] == [
        ("@creation_timestamp", "error"), ("@job_eui", "error"), ("@workflow_commit", "error")]
    assert all("bad heap index" in p.reason for p in unreadable)
    assert codes(job.problems) == ["commit-attr-missing", "root-attr-unreadable", "root-attr-unreadable",
                                   "root-attr-unreadable"]  # params: no attribute at all, as written
    assert job.status == "corrupt"
    assert job.workflow.state == "invalid" and "cannot be read" in job.workflow.reason
    assert job.job_eui == "" and job.end_time is None
    assert dict(job.root_attrs)["job_eui"].startswith("<unreadable attribute:")  # still shown as it is


def test_unreadable_node_attribute_is_one_warning(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1", nodes=[Node("QPU", [Out("v", [1.0, 2.0])], type="TypeThatBreaks")])
    break_string_attribute(root / "proj" / "j1.hdf5", "TypeThatBreaks")
    job = read_job(root, ref_of(root, "j1"))
    assert [(p.code, p.member, p.severity) for p in found(job)] == [("attr-unreadable", "/QPU@type", "warning")]
    assert job.status == "ok"


# ---------------------------------------------------------------- _time length (bug 7)
def test_time_dataset_longer_or_shorter_than_its_values_is_a_problem(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1", nodes=[Node("QPU", [
        Out("longer", [1.0, 2.0], times=times(5)),
        Out("shorter", [1.0, 2.0, 3.0], times=times(1)),
        Out("exact", [1.0, 2.0], times=times(2)),
        Out("never", np.zeros((0,), np.float64)),
    ])])
    job = read_job(root, ref_of(root, "j1"))
    assert [(p.code, p.member, p.reason) for p in found(job)] == [
        ("time-count-mismatch", "/QPU/longer", "longer_time has 5 stamps for 2 sets"),
        ("time-count-mismatch", "/QPU/shorter", "shorter_time has 1 stamps for 3 sets"),
    ]


# ---------------------------------------------------------------- scalar and null datasets (bug 2)
def test_scalar_and_null_datasets_read_as_arrays(tmp_path):
    path = tmp_path / "j.hdf5"
    write_job(path, metadata("proj", "j"), [Node("QPU")])
    with h5py.File(path, "a") as f:
        f["QPU"].create_dataset("sc_time", data=np.array(times(1), dtype=STR))
        f["QPU"].create_dataset("sc", data=3.25).attrs.update({"description": "", "units": ""})
        f["QPU"].create_dataset("null", shape=None, dtype="f8").attrs.update({"description": "", "units": ""})
    scalar = read_output_data(path, "/QPU/sc", ReadLimits())
    assert isinstance(scalar.values, np.ndarray) and scalar.values.shape == () and float(scalar.values) == 3.25
    assert len(scalar.times) == 1 and scalar.complete
    null = read_output_data(path, "/QPU/null", ReadLimits())
    assert isinstance(null.values, np.ndarray) and null.values.shape == (0,) and null.kind == "other"
    assert "null dataspace" in null.note


# ---------------------------------------------------------------- non-UTF-8 names (bug 1)
def test_log_name_that_is_not_utf8_is_read_and_reported(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "proj", "j1")
    write_log(Path(os.fsdecode(bytes(root / "proj" / "j1") + b"/Q\xffU.log")), "hello\n")
    job = read_job(root, ref_of(root, "j1"))
    assert ("name-not-utf8", "proj/j1/Q\\xffU.log") in [(p.code, p.file) for p in job.problems]
    assert sorted(log.node for log in job.logs) == ["QPU", "Q\\xffU"]
