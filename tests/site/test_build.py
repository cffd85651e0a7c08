"""``reportgen build`` end to end on real example data_stores: layout, incremental, atomic, exits."""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reportgen.errors import EXIT_CANTCREAT, EXIT_DATAERR, EXIT_IOERR, EXIT_TEMPFAIL
from reportgen.site.build import BuildOptions, build_site
from reportgen.site.write import hold_lock
from tests.invariants import Run, assert_no_staging_left, assert_one_error_line, run_cli, run_on_terminal, tree_digest
from tests.site.helpers import site_digest, writable_copy


@pytest.fixture(scope="module")
def example_site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site") / "site"
    build_site(example_store, site, BuildOptions(workers=2, show_progress=False))
    return site


def test_layout_home_catalogs_and_job_pages(example_site: Path, example_store: Path) -> None:
    report = json.loads((example_site / "build-report.json").read_text())
    projects = sorted(p.name for p in example_store.iterdir() if p.is_dir() and p.name != "git")
    home = (example_site / "index.html").read_text()
    for project in projects:
        assert f'href="{project}/index.html"' in home
        data = (example_site / project / "catalog-data.js").read_text()
        rows = json.loads(data.split(" = ", 1)[1].rstrip(";\n"))["rows"]
        for row in rows:
            assert (example_site / project / row[1]).is_file()
    assert report["counts"]["jobs"] == sum(report["counts"]["status"].values()) > 0
    assert (example_site / "assets" / "plotly.min.js").stat().st_size > 3_000_000
    assert len(list(example_site.rglob("plotly*.js"))) == 1


def test_job_page_has_views_downloads_logs_and_snippet(example_site: Path) -> None:
    page = next(example_site.glob("default_project/j1.html")).read_text()
    assert 'type="application/json"' in page and 'class="figure"' in page
    assert "h5py.File(&#39;default_project/j1.hdf5&#39;, &#34;r&#34;)" in page
    assert "<details class=\"log\"" in page and 'href="j1~params-diff.html"' in page
    assert (example_site / "default_project" / "j1~params-diff.html").is_file()
    job_dir = example_site / "default_project" / "j1"
    npys = list(job_dir.glob("*~*.npy"))  # the large ones; the small ones are in the page
    assert npys and all(p.read_bytes().startswith(b"\x93NUMPY") for p in npys)
    # the file keeps its slug name; it is saved as <project>_<job>_<node>_<output> (session 22)
    assert all(re.search(f'href="j1/{re.escape(p.name)}" download="default_project_j1_[^"~/]+\\.npy"', page) for p in npys)
    inline = re.findall(r'href="data:application/octet-stream;base64,([A-Za-z0-9+/=]+)" download="default_project_j1_[^"~]+\.npy"', page)
    assert inline and all(base64.b64decode(b).startswith(b"\x93NUMPY") for b in inline)
    assert all(p.is_file() for p in job_dir.iterdir())  # one flat folder per job
    assert not (job_dir / "logs").exists()  # the example's logs are short: shown whole, not copied
    assert page.count('<details class="log"') >= 6 and "Full log file" not in page


def test_logs_the_page_cannot_show_whole_are_copied(example_store: Path, tmp_path: Path) -> None:
    store = writable_copy(example_store, tmp_path / "ds")
    log = sorted(store.glob("default_project/j1/*.log"))[0]
    log.write_text("".join(f"line {n}\n" for n in range(1, 2001)))
    site = tmp_path / "site"
    build_site(store, site, BuildOptions(workers=1, show_progress=False))
    page = (site / "default_project" / "j1.html").read_text()
    (copy,) = (site / "default_project" / "j1" / "logs").iterdir()  # only the long log
    assert copy.read_bytes() == log.read_bytes()
    assert f'<a href="j1/logs/{copy.name}">Full log file</a>' in page
    assert "line 2000" in page and "-L1501\">1501</a>" in page and ">line 1500\n" not in page
    assert "http" not in "".join(line for line in page.splitlines() if "<script" in line)


def test_same_input_gives_byte_identical_output(example_site: Path, example_store: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_site(example_store, again, BuildOptions(workers=1, show_progress=False))
    assert site_digest(again) == site_digest(example_site)


def test_incremental_rebuild_touches_only_what_changed(example_store: Path, tmp_path: Path) -> None:
    store = writable_copy(example_store, tmp_path / "ds")
    site = tmp_path / "site"
    build_site(store, site, BuildOptions(workers=2, show_progress=False))
    first = tree_digest(site)
    report = build_site(store, site, BuildOptions(show_progress=False))
    assert report.up_to_date and report.built == 0
    assert {k: v for k, v in tree_digest(site).items() if k != "build-report.json"} == {
        k: v for k, v in first.items() if k != "build-report.json"}
    job = next(store.glob("default_project/j*.hdf5"))
    os.utime(job, ns=(time.time_ns(), time.time_ns()))
    removed = sorted(store.glob("ion_trap_scan/j*.hdf5"))[-1]
    removed.unlink()
    removed_logs = removed.with_suffix("")
    if removed_logs.is_dir():
        for log in removed_logs.iterdir():
            log.unlink()
        removed_logs.rmdir()
    report = build_site(store, site, BuildOptions(show_progress=False))
    assert report.built == 1 and report.removed == 1
    assert not (site / "ion_trap_scan" / f"{removed.stem}.html").exists()
    assert removed.stem not in (site / "ion_trap_scan" / "catalog-data.js").read_text()
    fresh = tmp_path / "fresh"
    build_site(store, fresh, BuildOptions(show_progress=False))
    assert site_digest(fresh) == site_digest(site)  # incremental == full build
    assert_no_staging_left(tmp_path)


def test_a_removed_project_counts_its_jobs_as_removed(example_store: Path, tmp_path: Path) -> None:
    store = writable_copy(example_store, tmp_path / "ds")
    site = tmp_path / "site"
    build_site(store, site, BuildOptions(show_progress=False))
    jobs = len(list(store.glob("ion_trap_scan/j*.hdf5")))
    for path in sorted((store / "ion_trap_scan").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (store / "ion_trap_scan").rmdir()
    report = build_site(store, site, BuildOptions(show_progress=False))
    assert jobs and report.removed == jobs and report.built == 0
    assert json.loads((site / "build-report.json").read_text())["counts"]["removed"] == jobs
    assert not (site / "ion_trap_scan").exists()


def test_a_data_store_that_is_a_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("not a data_store")
    assert_one_error_line(run_cli("build", tmp_path / "README.txt", "-o", tmp_path / "site"), 66, "is not a directory")
    assert_one_error_line(run_cli("build", tmp_path / "nothing", "-o", tmp_path / "site"), 66, "not found")


def test_output_inside_the_data_store_is_refused(example_store: Path, unchanged) -> None:
    unchanged(example_store)
    run = run_cli("build", example_store, "-o", example_store / "site")
    assert_one_error_line(run, EXIT_CANTCREAT, "overlaps")


def test_existing_foreign_output_is_refused_without_force(example_store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "precious.txt").write_text("keep me")
    assert_one_error_line(run_cli("build", example_store, "-o", site), EXIT_CANTCREAT, "not a reportgen site")
    assert (site / "precious.txt").read_text() == "keep me"
    assert run_cli("build", example_store, "-o", site, "--force").code == 0
    assert not (site / "precious.txt").exists()


def test_second_build_on_a_locked_output_exits_75(example_store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with hold_lock(site):
        run = run_cli("build", example_store, "-o", site)
    assert_one_error_line(run, EXIT_TEMPFAIL, f"locked by pid {os.getpid()}")
    assert not site.exists()


def test_strict_fails_on_data_problems_and_stale_staging_is_removed(edge_store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f".site.staging-{dead.pid}").mkdir()
    run = run_cli("build", edge_store, "-o", site, "--strict")
    assert_one_error_line(run, EXIT_DATAERR, "--strict")
    assert (site / "index.html").is_file()
    assert_no_staging_left(tmp_path)


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))


def test_disk_full_exits_74_and_keeps_the_previous_site(example_store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site).mkdir()
    (site / "build-manifest.json").write_text("{}")  # a previous (foreign-format) site to keep
    before = tree_digest(site)
    env = dict(os.environ, CI="1")
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build", str(example_store), "-o", str(site), "--full"],
                          capture_output=True, text=True, env=env, preexec_fn=_limit_file_size, timeout=120)
    assert_one_error_line(Run(proc.returncode, proc.stdout, proc.stderr), EXIT_IOERR, "no space left")
    assert tree_digest(site) == before
    assert_no_staging_left(tmp_path)


def test_sigterm_cleans_up_staging(example_store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = dict(os.environ, CI="1")
    # niced, so that on a busy machine this test (which polls, then signals) runs ahead of the build
    proc = subprocess.Popen([sys.executable, "-m", "reportgen", "build", str(example_store), "-o", str(site)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: os.nice(19))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(tmp_path.glob(".site.staging-*")) and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    # Under load the whole build can end between the poll and the signal; during the interpreter's
    # shutdown Python's handlers are gone, so the signal then kills it (-15) after a complete build.
    if proc.returncode == 0 or (proc.returncode == -signal.SIGTERM and (site / "index.html").is_file()):
        assert_no_staging_left(tmp_path)
        pytest.skip("the build finished before the signal arrived")
    assert proc.returncode == 143, err
    assert_no_staging_left(tmp_path)
    assert not site.exists()


@pytest.mark.parametrize(("signame", "code", "line"), [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")])
def test_a_signal_python_drops_still_stops_the_build(example_store: Path, tmp_path: Path, signame, code, line) -> None:
    """A SIGTERM (or SIGINT) that lands while the pool forks a worker: Python runs logging's
    at-fork hook there and drops the handler's exception ("Exception ignored"). The build used to
    go on and publish the site with exit 0. Here the signal comes from an at-fork hook, on every
    fork of the build; the run must end with its exit code and its one error line."""
    site = tmp_path / "site"
    script = (
        "import os, signal, sys\n"
        "from reportgen.cli import main\n"
        f"os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.{signame}))\n"
        "main(sys.argv[1:])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, "build", str(example_store), "-o", str(site), "--workers", "2"],
                          capture_output=True, text=True, env=dict(os.environ, CI="1"), timeout=120)
    assert "Exception ignored" not in proc.stderr  # a signal's dropped exception is quiet: only the one line
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.rstrip().splitlines()[-1] == f"reportgen: error: {line}"
    assert_no_staging_left(tmp_path)
    assert not site.exists()


def _limit_file_size_small() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # a job page is larger


def test_failed_incremental_build_leaves_the_previous_site_intact(example_store: Path, tmp_path: Path) -> None:
    store = writable_copy(example_store, tmp_path / "ds")
    site = tmp_path / "site"
    build_site(store, site, BuildOptions(show_progress=False))
    before = tree_digest(site)
    job = next(store.glob("qpu_bench/j*.hdf5"))
    os.utime(job, ns=(time.time_ns(), time.time_ns()))
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build", str(store), "-o", str(site)],
                          capture_output=True, text=True, env=dict(os.environ, CI="1"),
                          preexec_fn=_limit_file_size_small, timeout=120)
    assert_one_error_line(Run(proc.returncode, proc.stdout, proc.stderr), EXIT_IOERR, "no space left")
    assert tree_digest(site) == before
    assert_no_staging_left(tmp_path)
    assert build_site(store, site, BuildOptions(show_progress=False)).built == 1


def test_a_worker_that_dies_costs_only_its_own_job(example_store: Path, tmp_path: Path, monkeypatch) -> None:
    """A real SIGSEGV in a pool worker: the other jobs are built normally, the dead one gets a page saying why."""
    monkeypatch.setenv("REPORTGEN_CRASH_AT", "hdf5:j2")
    site = tmp_path / "site"
    report = build_site(example_store, site, BuildOptions(workers=2, show_progress=False))
    monkeypatch.delenv("REPORTGEN_CRASH_AT")
    crashed = [p for p in report.problems if p.code == "hdf5-crash"]
    assert crashed and all("SIGSEGV" in p.reason for p in crashed)
    assert report.built == report.jobs and report.status_counts["corrupt"] == len(crashed)
    page = next(site.glob("*/j2.html")).read_text()
    assert "SIGSEGV" in page
    clean = tmp_path / "clean"
    build_site(example_store, clean, BuildOptions(workers=2, show_progress=False))
    for other in clean.glob("*/j*.html"):
        if other.stem != "j2" and "~" not in other.name:  # job pages (diff pages may pair with j2)
            assert (site / other.relative_to(clean)).read_bytes() == other.read_bytes()


def test_on_a_terminal_the_job_pages_bar_counts_jobs(tmp_path: Path) -> None:
    """The pool works in chunks of jobs (two each here); the bar said '57/57 job' for 900 jobs."""
    from reportgen.example import write_example

    store = tmp_path / "data_store"
    write_example(store, seed=0, jobs_per_project=12)
    jobs = len(list(store.glob("*/*.hdf5")))
    assert jobs >= 32  # enough for chunks of more than one job with two workers
    code, output = run_on_terminal("build", store, "-o", tmp_path / "site", "--workers", "2")
    assert code == 0, output[-500:]
    counts = re.findall(r"job pages: +\d+%\|[^|]*\| (\d+)/(\d+)", output)
    assert counts and {int(total) for _, total in counts} == {jobs}, (counts, jobs)
