"""Every input a job page depends on is seen by an incremental build (fuzzing the readers found
three it missed): the executor's result and stray entries in a job's folder, and the repository
files that change what git reads (``shallow``).  Each case: a first build, a change, a second
build into the same site, which must equal a fresh full build of the changed store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.invariants import run_cli
from tests.readers.builders import make_repo, simple_job


def job_page(site: Path) -> str:
    return (site / "p" / "j1.html").read_text("utf-8")


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    root = tmp_path / "data_store"
    (params_sha,) = make_repo(root / "git" / "p" / "params.git", [("p", {"parameters.json": '{"a": 1}'})])
    (workflow_sha,) = make_repo(root / "git" / "p" / "workflow.git", [("w", {"workflow.py": "pass\n"})])
    simple_job(root, "p", "j1", parameters_commit=params_sha, workflow_commit=workflow_sha)
    assert run_cli("build", root, "-o", tmp_path / "site").code == 0
    return root


def rebuilt_equals_full(store: Path) -> tuple[str, str]:
    site, full = store.parent / "site", store.parent / "full"
    shutil.rmtree(full, ignore_errors=True)
    assert run_cli("build", store, "-o", site).code == 0
    assert run_cli("build", store, "-o", full).code == 0
    assert job_page(site) == job_page(full)
    return job_page(site), (site / "build-report.json").read_text("utf-8")


def test_an_executor_result_added_after_a_build_changes_the_page(store: Path):
    result = {"status": "Failure", "nodes_error": 1, "nodes_count": 1, "nodes": {"QPU": "error, exit code 1"}}
    (store / "p" / "j1" / "_executor_result.json").write_text(json.dumps(result))
    page, _ = rebuilt_equals_full(store)
    assert 'class="status status-failed-nodes"' in page


def test_a_stray_file_in_a_job_folder_is_reported_by_the_next_build(store: Path):
    (store / "p" / "j1" / "x.log.tmp").write_text("x\n")
    _, report = rebuilt_equals_full(store)
    assert "stray-file" in report
    assert run_cli("build", store, "-o", store.parent / "site", "--strict").code == 65


def test_a_shallow_file_added_to_a_repository_rebuilds_the_job(store: Path):
    """A bad ``shallow`` line makes git refuse the repository: the page must say so, as a full build's does."""
    (store / "git" / "p" / "params.git" / "shallow").write_text("zzz\n")
    page, _ = rebuilt_equals_full(store)
    assert "parameters.json" not in page
