"""What a nightly CI pipeline reads from ``reportgen build`` (session 24, nightly CI review).

- A no-change build made its report from the published ``build-report.json``: an edited or stale
  one let ``--fail-on error`` exit 0 over a corrupt job, and stayed published (finding 1).
- ``build-report.json`` had no documented layout, an integer ``format`` and no ``repaired``.
- A folder inside the site the build cannot write failed while publishing (66), after the work.
- ``--fail-on`` named no problem on stderr; "1 errors", "1 data problems".
All with real builds of a real example data_store, run as a user runs them (``run_cli``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.invariants import assert_one_error_line, run_cli, tree_digest
from tests.site.helpers import writable_copy

ROOT = Path(__file__).resolve().parents[2]
HOW_REACHED = ("built", "kept", "removed", "repaired")  # differ between a fresh and an incremental build


@pytest.fixture()
def store(example_store: Path, tmp_path: Path) -> Path:
    return writable_copy(example_store, tmp_path / "data_store")


def _half_written(store: Path, *names: str) -> None:
    """Job files cut in half, as a copy still running leaves them: one hdf5-corrupt error each."""
    whole = sorted((store / "default_project").glob("*.hdf5"))[0].read_bytes()
    for name in names:
        (store / "default_project" / name).write_bytes(whole[:len(whole) // 2])


def _report(site: Path) -> dict:
    return json.loads((site / "build-report.json").read_text("utf-8"))


def _what_it_says(report: dict) -> dict:
    """The report less what says how the build got there (timings, built/kept/...)."""
    report = json.loads(json.dumps(report))
    report.pop("timings")
    report.pop("up_to_date")
    for key in HOW_REACHED:
        report["counts"].pop(key)
    return report


# ----------------------------------------------------------------- 1: the no-change report
def test_an_edited_report_does_not_get_a_no_change_build_past_fail_on(store: Path, tmp_path: Path) -> None:
    _half_written(store, "j900.hdf5")
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    fresh = _report(site)
    assert [p["code"] for p in fresh["problems"] if p["severity"] == "error"] == ["hdf5-corrupt"]
    edited = {**fresh, "problems": [], "counts": {**fresh["counts"], "problems": {"error": 0, "warning": 0}}}
    (site / "build-report.json").write_text(json.dumps(edited))

    run = run_cli("build", store, "-o", site, "--fail-on", "error")
    assert "(up to date)" in run.stdout  # still the no-change path: nothing else was rebuilt
    assert_one_error_line(run, 65, "1 data problem (--fail-on error)")
    again = _report(site)  # the real problems are published again
    assert again["up_to_date"] is True and _what_it_says(again) == _what_it_says(fresh)
    assert again["counts"]["kept"] == again["counts"]["jobs"] and again["counts"]["built"] == 0


def test_a_stale_or_broken_report_is_replaced_by_the_one_a_fresh_build_writes(store: Path, tmp_path: Path) -> None:
    """A report restored from a CI cache (another store's, clean) or cut short: both replaced."""
    clean = tmp_path / "clean"
    assert run_cli("build", store, "-o", clean).code == 0
    _half_written(store, "j900.hdf5")
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    fresh = _report(site)
    for stale in ((clean / "build-report.json").read_bytes(), b'{"format": "reportgen-build-re'):
        (site / "build-report.json").write_bytes(stale)
        run = run_cli("build", store, "-o", site, "--fail-on", "error")
        assert run.code == 65 and "(up to date)" in run.stdout, run.stdout + run.stderr
        assert _what_it_says(_report(site)) == _what_it_says(fresh)
    shutil.rmtree(site)  # and the exit code is the one of a fresh build of the same store
    assert run_cli("build", store, "-o", site, "--fail-on", "error").code == 65


# ----------------------------------------------------------------- 2: the documented layout
def _documented_keys() -> set[str]:
    text = (ROOT / "docs" / "cli.md").read_text("utf-8")
    start = text.index("### `reportgen-build-report/1`")
    end = text.find("\n### ", start + 1)
    block = text[start:] if end < 0 else text[start:end]
    return set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", block, re.MULTILINE))


def _keys(doc: object, prefix: str = "") -> set[str]:
    """Every key path: ``problems[].code``; ``counts.status`` and ``timings`` map data to numbers."""
    if isinstance(doc, dict):
        found = set()
        for key, value in doc.items():
            found.add(prefix + key)
            if prefix + key not in ("counts.status", "timings"):
                found |= _keys(value, prefix + key + ".")
        return found
    if isinstance(doc, list) and doc:
        return _keys(doc[0], prefix[:-1] + "[].")
    return set()


def test_the_report_counts_repairs_and_names_its_format(store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    first = _report(site)
    assert first["format"] == "reportgen-build-report/1" and first["counts"]["repaired"] == 0
    next(site.glob("*/j1.html")).unlink()  # a job page deleted and the home page edited by hand
    with (site / "index.html").open("a") as page:
        page.write("edited\n")
    run = run_cli("build", store, "-o", site)
    assert run.code == 0 and ", 2 repaired)" in run.stdout, run.stdout
    report = _report(site)
    assert report["counts"]["repaired"] == 2 and report["counts"]["built"] == 1
    assert _what_it_says(report) == _what_it_says(first)  # a repaired site says what a fresh one says


def test_every_key_of_the_report_is_documented(store: Path, tmp_path: Path) -> None:
    _half_written(store, "j900.hdf5")
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    report = _report(site)
    assert report["problems"] and set(report["counts"]["status"]) == {
        "ok", "failed-nodes", "incomplete", "no-data", "corrupt", "unknown"}
    documented = _documented_keys()
    assert _keys(report) == documented, (_keys(report) ^ documented)


# ----------------------------------------------------------------- 3: an unwritable folder inside the site
def _chattr(flag: str, path: Path) -> None:
    if shutil.which("chattr") is None or subprocess.run(["chattr", flag, path], capture_output=True).returncode:
        pytest.skip("chattr is missing, not permitted, or this file system has no inode flags")


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".old-" in p.name or ".staging-" in p.name)


def test_an_immutable_project_folder_is_refused_before_the_work(store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    job = sorted((store / "default_project").glob("*.hdf5"))[0]
    job.touch()  # one job to rebuild: its project folder gets new files
    before = tree_digest(site)
    folder = site / "default_project"
    _chattr("+i", folder)
    try:
        run = run_cli("build", store, "-o", site)
    finally:
        subprocess.run(["chattr", "-i", folder], check=True)
    assert_one_error_line(run, 73, "immutable or append-only", f"'{folder}'")
    assert run.stdout == ""  # refused before any page: no summary
    assert tree_digest(site) == before and _leftovers(tmp_path) == []
    assert run_cli("build", store, "-o", site).code == 0  # once writable, the build goes through


def test_an_immutable_job_folder_of_a_full_build_is_refused_before_the_work(store: Path, tmp_path: Path) -> None:
    """A full build deletes the old tree after the swap: a folder it cannot empty is refused up front."""
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    folder = next(p for p in (site / "default_project").iterdir() if p.is_dir())
    _chattr("+i", folder)
    try:
        run = run_cli("build", store, "-o", site, "--full")
    finally:
        subprocess.run(["chattr", "-i", folder], check=True)
    assert_one_error_line(run, 73, "immutable or append-only", f"'{folder}'")
    assert _leftovers(tmp_path) == []


def test_a_publish_that_fails_midway_leaves_no_old_folder(store: Path, tmp_path: Path) -> None:
    """An immutable file (not a folder: those are refused first) stops the moves into the site; the
    moved-aside files are not left as .site.old-<pid>, and the next build repairs the site."""
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    sorted((store / "default_project").glob("*.hdf5"))[0].touch()
    catalog = site / "default_project" / "catalog-data.js"
    _chattr("+i", catalog)
    try:
        run = run_cli("build", store, "-o", site)
    finally:
        subprocess.run(["chattr", "-i", catalog], check=True)
    assert run.code != 0 and "Traceback" not in run.stderr, run.stderr
    assert _leftovers(tmp_path) == []
    assert run_cli("build", store, "-o", site).code == 0
    fresh = tmp_path / "fresh"
    assert run_cli("build", store, "-o", fresh).code == 0
    same = {k: v[0] for k, v in tree_digest(site).items() if k != "build-report.json"}
    assert same == {k: v[0] for k, v in tree_digest(fresh).items() if k != "build-report.json"}


def test_a_project_folder_without_write_permission_is_refused(store: Path, tmp_path: Path) -> None:
    """The same as a user other than the folder's owner meets it (EACCES); as root, with the
    capability that overrides permission bits dropped (``tests/unprivileged.py``)."""
    from tests.unprivileged import run_cli_unprivileged

    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    sorted((store / "default_project").glob("*.hdf5"))[0].touch()
    folder = site / "default_project"
    folder.chmod(0o555)
    try:
        run = run_cli_unprivileged("build", store, "-o", site)
    finally:
        folder.chmod(0o755)
    assert_one_error_line(run, 73, "permission denied", f"'{folder}'")
    assert _leftovers(tmp_path) == []


# ----------------------------------------------------------------- 4: the CI log of a failing build
def test_fail_on_names_the_first_five_problems_and_counts_the_rest(store: Path, tmp_path: Path) -> None:
    names = [f"j90{i}.hdf5" for i in range(7)]
    _half_written(store, *names)
    run = run_cli("build", store, "-o", tmp_path / "site", "--fail-on", "error")
    line = assert_one_error_line(run, 65, "7 data problems (--fail-on error)")
    assert line == f"reportgen: error: '{store}': 7 data problems (--fail-on error); see {tmp_path / 'site' / 'build-report.json'}"
    lines = run.stderr.splitlines()
    assert lines[-1] == line  # the error line is the last
    shown = [ln for ln in lines if ln.startswith("error hdf5-corrupt ")]
    assert shown == [f"error hdf5-corrupt 'default_project/{name}': " + shown[i].split("': ", 1)[1]
                     for i, name in enumerate(names[:5])]
    assert f"and 2 more (see {tmp_path / 'site' / 'build-report.json'})" in lines
    assert "7 errors," in run.stdout


def test_one_failing_problem_is_named_in_the_singular(store: Path, tmp_path: Path) -> None:
    _half_written(store, "j900.hdf5")
    (store / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # warnings (this and the store's): only --fail-on warning
    run = run_cli("build", store, "-o", tmp_path / "site", "--fail-on", "error")
    assert_one_error_line(run, 65, "data_store': 1 data problem (--fail-on error); see")
    assert [ln for ln in run.stderr.splitlines() if not ln.startswith("reportgen: error: ")] == [
        f"error hdf5-corrupt 'default_project/j900.hdf5': {p['reason']}"
        for p in _report(tmp_path / "site")["problems"] if p["code"] == "hdf5-corrupt"]
    problems = _report(tmp_path / "site")["problems"]
    assert f", 1 error, {len(problems) - 1} warnings in " in run.stdout and "more (see" not in run.stderr
    warned = run_cli("build", store, "-o", tmp_path / "site", "--fail-on", "warning")
    assert_one_error_line(warned, 65, f"{len(problems)} data problems (--fail-on warning)")
    named = [ln for ln in warned.stderr.splitlines() if ln.startswith(("error ", "warning "))]
    assert len(named) == min(5, len(problems)) and any(ln.startswith("warning ") for ln in named)
