"""Job pages are always built in sandboxed worker processes, and a job that exhausts
its worker (memory cap, stack) costs only its own page, never the build.

``REPORTGEN_CRASH_AT=memory:<job id>`` makes that job's worker ask for more than its
real ``RLIMIT_AS`` cap: a genuine ``MemoryError``, as a 1 GB set gives, without
gigabytes of test data (and only where a cap is in force).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportgen.errors import EXIT_SOFTWARE
from reportgen.site.build import REPORT_NAME, BuildOptions, build_site
from reportgen.site.manifest import MANIFEST_NAME
from tests.invariants import assert_one_error_line, run_cli


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three jobs (one per project): fewer than a pool used to be started for."""
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("small") / "data_store"
    write_example(root, seed=0, jobs_per_project=1)
    return root


def _site_bytes(site: Path) -> dict[str, bytes]:
    """Every file of a site but the report (its timings differ between builds) and the
    manifest's theme hash (it covers the site code, which other work in this tree edits)."""
    files = {p.relative_to(site).as_posix(): p.read_bytes()
             for p in sorted(site.rglob("*")) if p.is_file() and p.name != REPORT_NAME}
    manifest = json.loads(files.pop(MANIFEST_NAME))
    manifest.pop("theme")
    return {**files, MANIFEST_NAME: json.dumps(manifest).encode()}


def _errors(site: Path) -> list[dict]:
    report = json.loads((site / REPORT_NAME).read_text())
    return [p for p in report["problems"] if p["severity"] == "error"]


def test_a_memory_error_in_a_pool_worker_costs_only_its_page(example_store: Path, tmp_path: Path,
                                                             monkeypatch) -> None:
    """A MemoryError raised (not a death) in a worker of the pool ended the build with exit 70."""
    fault = {"REPORTGEN_CRASH_AT": "memory:j2"}
    run = run_cli("build", example_store, "-o", tmp_path / "pool", "--workers", "2", env=fault)
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr and "error" not in run.stderr, run.stderr
    assert ", 1 error, " in run.stdout
    [problem] = _errors(tmp_path / "pool")
    assert problem["code"] == "hdf5-memory" and "out of memory" in problem["reason"]
    page = next((tmp_path / "pool").glob("*/j2.html")).read_text()
    assert "out of memory" in page
    # the same page and site, byte for byte, from a pool of one worker (--workers 1)
    monkeypatch.setenv("REPORTGEN_CRASH_AT", "memory:j2")
    report = build_site(example_store, tmp_path / "one", BuildOptions(workers=1, show_progress=False))
    assert report.status_counts["corrupt"] == 1 and report.built == report.jobs
    assert _site_bytes(tmp_path / "one") == _site_bytes(tmp_path / "pool")


@pytest.mark.parametrize(("fault", "code", "words"), [
    ("hdf5", "hdf5-crash", "HDF5 reader crashed (SIGSEGV)"),  # crash isolation
    ("memory", "hdf5-memory", "out of memory"),  # the address-space cap
    ("recursion", "reader-failed", "nested too deeply"),  # the stack: not a bug of ours either
])
def test_a_small_build_runs_its_pages_in_the_sandbox(small_store: Path, tmp_path: Path, monkeypatch,
                                                     fault: str, code: str, words: str) -> None:
    """Under 4 jobs (or --workers 1) pages were built in the parent: no cap, no alarm, no isolation."""
    monkeypatch.setenv("REPORTGEN_CRASH_AT", f"{fault}:j1")
    report = build_site(small_store, tmp_path / "site", BuildOptions(show_progress=False))
    assert report.jobs == 3 and report.built == 3 and report.status_counts["corrupt"] == 1
    assert [(p.code, p.file) for p in report.problems if p.severity == "error"] == [(code, "default_project/j1.hdf5")]
    assert words in next(p.reason for p in report.problems if p.code == code)
    assert words in next((tmp_path / "site").glob("*/j1.html")).read_text()


def test_a_bug_in_a_worker_is_still_an_internal_error(small_store: Path, tmp_path: Path) -> None:
    """Only resource exhaustion becomes a page; any other exception in a worker is ours: exit 70."""
    run = run_cli("build", small_store, "-o", tmp_path / "site", env={"REPORTGEN_CRASH_AT": "bug:j2"})
    assert_one_error_line(run, EXIT_SOFTWARE, "planted by REPORTGEN_CRASH_AT")
    assert not (tmp_path / "site").exists()

