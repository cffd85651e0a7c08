"""``reportgen inspect`` as a user runs it: text, JSON, exit codes, one-line errors, inputs untouched."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from reportgen.inspect_report import inspect_exit_code, render_inspect
from reportgen.readers.datastore import read_data_store
from tests.invariants import assert_one_error_line, run_cli, tree_digest
from tests.readers.builders import simple_job


def test_inspect_example_store_text_and_json(example_store):
    before = tree_digest(example_store)
    text = run_cli("inspect", example_store)
    assert text.code == 0, text.stderr
    assert "project 'default_project':" in text.stdout and "problems:" in text.stdout
    as_json = run_cli("inspect", example_store, "--json")
    report = json.loads(as_json.stdout)
    assert report["format"] == "reportgen-inspect/1"  # scripts check the layout before reading on
    assert report["counts"]["errors"] == 0 and report["counts"]["jobs"] > 0
    job = report["projects"][0]["jobs"][0]
    assert {"id", "status", "start_time", "end_time", "nodes", "outputs", "problems"} <= set(job)
    assert run_cli("inspect", example_store, "--json").stdout == as_json.stdout  # deterministic
    assert tree_digest(example_store) == before


def test_inspect_edge_store_reports_every_case(edge_store):
    from reportgen.example import edge_case_manifest

    before = tree_digest(edge_store)
    run = run_cli("inspect", edge_store, "--json")
    assert run.code == 65 and "Traceback" not in run.stderr
    report = json.loads(run.stdout)
    jobs = {(p["name"], j["id"]): j for p in report["projects"] for j in p["jobs"]}
    problem_files = {p["file"] for p in report["problems"]}
    for case in edge_case_manifest():
        if case.huge_only:
            continue
        if case.status and case.project != "git":
            assert jobs[(case.project, case.job_id)]["status"] == case.status, case
        else:
            assert case.file in problem_files, case
    reasons = " ".join(p["reason"] for p in report["problems"])
    for keyword in ("external storage not allowed", "external link", "virtual dataset", "larger than budget", "reserved"):
        assert keyword in reasons
    assert tree_digest(edge_store) == before


def test_text_lists_problems_as_severity_code_file_member(edge_store):
    store = read_data_store(edge_store, workers=2)
    text = render_inspect(store, as_json=False)
    assert "error hdf5-external-storage 'edge_cases/j1036.hdf5':'/QPU/final_data': external storage not allowed" in text
    assert inspect_exit_code(store, strict=False) == 65


def test_exit_codes_and_strict(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "p", "j1")  # no commit attributes: warnings only
    store = read_data_store(root, workers=1)
    assert (inspect_exit_code(store, strict=False), inspect_exit_code(store, strict=True)) == (0, 65)
    assert run_cli("inspect", root, "--strict", "--workers", "1").code == 65
    (root / "p" / "j2.hdf5").write_bytes(b"junk")
    assert inspect_exit_code(read_data_store(root, workers=1), strict=False) == 65


@pytest.mark.parametrize("make", ["missing", "file"])
def test_missing_data_store_is_one_line(tmp_path, make):
    target = tmp_path / "data_store"
    if make == "file":
        target.write_text("x")
    run = run_cli("inspect", target)
    assert_one_error_line(run, 66, "data_store", file_part="data_store")


def test_hostile_names_and_bytes_do_not_break_output(tmp_path):
    root = tmp_path / "ds"
    simple_job(root, "p", "j1", job_description="<script>{{7*7}}\x1b[2J")
    os.rename(root / "p", os.fsencode(root) + b"/p\xff")
    run = run_cli("inspect", root)
    assert run.code == 0 and "project 'p\\\\xff': 1 jobs" in run.stdout
    assert "warning name-not-utf8 'p\\\\xff'" in run.stdout and "Traceback" not in run.stderr


def _read_as_nobody(root: Path, conn) -> None:
    os.setgid(65534)
    os.setuid(65534)
    store = read_data_store(root, workers=1)
    conn.send([(j.job_id, j.status, [p.reason for p in j.problems]) for p in store.projects for j in p.jobs])


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_unreadable_file_is_a_problem_not_a_crash():
    """chmod 000 does not stop root, so a forked reader drops to nobody (safety row 36)."""
    import multiprocessing
    import multiprocessing.synchronize  # noqa: F401  (nobody cannot read the interpreter: import before the fork)

    import reportgen.readers.sandbox  # noqa: F401

    base = Path("/tmp") / f"reportgen-perm-{os.getpid()}"
    shutil.rmtree(base, ignore_errors=True)
    try:
        root = base / "ds"
        simple_job(root, "p", "j1")
        simple_job(root, "p", "j2")
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (root / "p" / "j1.hdf5").chmod(0)
        (root / "p" / "j2" / "QPU.log").chmod(0)
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_read_as_nobody, args=(root, sender))
        child.start()
        assert receiver.poll(20)
        jobs = {job_id: (status, reasons) for job_id, status, reasons in receiver.recv()}
        child.join(10)
        assert jobs["j1"][0] == "corrupt" and "permission denied" in jobs["j1"][1]
        assert "permission denied" in jobs["j2"][1]
    finally:
        shutil.rmtree(base, ignore_errors=True)
