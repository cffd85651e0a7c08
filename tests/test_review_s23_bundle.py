"""Data steward review, session 23: bundle and --json verdicts (findings 4, 5, 6 and the export/bundle
half of 10).

- 4: with --json, `archive validate`, `archive inspect` and `bundle verify` print one JSON document
  on stdout even when the input cannot be read at all (besides the one error line and the exit code);
- 5: a removed or emptied manifest is one problem line, not one per payload file;
- 6: bag-info.txt has a Bagging-Date without SOURCE_DATE_EPOCH (the newest job's day, never the
  clock) and names the archive's export version; README.txt tells a stranger how to verify the bag;
- 10: a file given where a bag or a data_store folder belongs is named as a file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import bagit
import pytest

from tests.export.test_audit_fixes import write_store
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, tree_digest


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s23store") / "data_store"
    write_store(root)
    return root


@pytest.fixture(scope="module")
def bag(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("s23bag") / "bag"
    run = run_cli("bundle", store, "-o", out, env={"SOURCE_DATE_EPOCH": ""})
    assert run.code == 0, run.stderr
    return out


@pytest.fixture()
def copy(bag: Path, tmp_path: Path) -> Path:
    target = tmp_path / "bag"
    shutil.copytree(bag, target)
    return target


def _info(bag: Path) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in (bag / "bag-info.txt").read_text().splitlines())


def _json_document(run) -> dict:
    """Exactly one JSON document on stdout."""
    return json.loads(run.stdout)


# ---------------------------------------------------------------- finding 4: a verdict for scripts
@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 cut short"], ids=["empty", "cut"])
def test_validate_json_of_an_unreadable_archive_is_still_a_document(tmp_path: Path, content: bytes):
    archive = tmp_path / "in.aiida"
    archive.write_bytes(content)
    run = run_cli("archive", "validate", "--json", archive)
    line = assert_one_error_line(run, 65, "", repr(str(archive)))
    doc = _json_document(run)
    assert doc["format"] == "reportgen-archive-validate/1" and doc["archive"] == str(archive)
    assert doc["valid"] is False and doc["errors"] == 1 and doc["problems"] == []
    assert doc["error"]["exit_code"] == 65 and doc["error"]["file"] == str(archive)
    assert doc["error"]["reason"] in line


def test_inspect_json_of_a_missing_archive_is_still_a_document(tmp_path: Path):
    archive = tmp_path / "nowhere.aiida"
    run = run_cli("archive", "inspect", "--json", archive)
    assert_one_error_line(run, 66, "", repr(str(archive)))
    doc = _json_document(run)
    assert doc["format"] == "reportgen-archive-inspect/1" and doc["path"] == str(archive)
    assert doc["error"]["exit_code"] == 66 and doc["error"]["member"] == ""


def test_without_json_an_unreadable_archive_prints_nothing_on_stdout(tmp_path: Path):
    archive = tmp_path / "in.aiida"
    archive.write_bytes(b"")
    run = run_cli("archive", "validate", archive)
    assert_one_error_line(run, 65, "", repr(str(archive)))
    assert run.stdout == ""


def test_bundle_verify_json_of_a_valid_bag(bag: Path):
    run = run_cli("bundle", "verify", "--json", bag)
    assert run.code == 0 and run.stderr == "", run.stderr
    doc = _json_document(run)
    assert doc == {"format": "reportgen-bundle-verify/1", "bundle": str(bag), "valid": True,
                   "files": len((bag / "manifest-sha256.txt").read_text().splitlines()), "problems": []}


def test_bundle_verify_json_lists_changed_missing_and_extra_files(copy: Path):
    archive = copy / "data" / "export.aiida"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 1
    archive.write_bytes(bytes(data))
    (copy / "data" / "site" / "index.html").unlink()
    (copy / "data" / "smuggled.txt").write_text("x")
    run = run_cli("bundle", "verify", "--json", copy)
    assert_one_error_line(run, 65, "bundle invalid")  # stderr: the one line; the problems are in the JSON
    doc = _json_document(run)
    assert doc["valid"] is False
    found = {(p["kind"], p["path"]) for p in doc["problems"]}
    assert found == {("changed", "data/export.aiida"), ("missing", "data/site/index.html"),
                     ("extra", "data/smuggled.txt")}
    assert all(p["message"].startswith(f"{p['kind']}: {p['path']!r}") for p in doc["problems"])


def test_bundle_verify_json_of_a_file_is_still_a_document(copy: Path, tmp_path: Path):
    zipped = Path(shutil.make_archive(str(tmp_path / "bag"), "zip", copy))
    run = run_cli("bundle", "verify", "--json", zipped)
    line = assert_one_error_line(run, 65, "is a file, not a bag folder", repr(str(zipped)))
    doc = _json_document(run)
    assert doc["valid"] is False and doc["problems"] == [] and doc["error"]["reason"] in line


# ---------------------------------------------------------------- finding 5: one line per cause
def test_a_removed_manifest_is_one_problem(copy: Path):
    (copy / "manifest-sha512.txt").unlink()
    run = run_cli("bundle", "verify", copy)
    assert_one_error_line(run, 65, "1 problem(s)")
    problems = [line for line in run.stderr.splitlines() if not line.startswith("reportgen: error:")]
    assert problems == ["missing: 'manifest-sha512.txt'"]


def test_an_emptied_manifest_is_one_line_naming_the_manifest(copy: Path):
    files = len((copy / "manifest-sha512.txt").read_text().splitlines())
    (copy / "manifest-sha512.txt").write_text("")
    run = run_cli("bundle", "verify", copy)
    problems = [line for line in run.stderr.splitlines() if not line.startswith("reportgen: error:")]
    assert_one_error_line(run, 65, "bundle invalid")
    # the emptied manifest no longer matches its tag manifest line (sha256 and sha512), and lacks every line
    assert f"changed: 'manifest-sha512.txt' (has no line for {files} files the other manifest lists, " \
           "first 'data/export.aiida')" in problems
    assert len(problems) <= 3, problems
    assert {line.split(":")[0] for line in problems} <= {"changed", "missing", "extra", "symlink"}


def test_one_line_dropped_from_a_manifest_blames_the_manifest(copy: Path):
    manifest = copy / "manifest-sha256.txt"
    lines = manifest.read_text().splitlines(keepends=True)
    dropped = lines.pop(0).split("  ", 1)[1].strip()
    manifest.write_text("".join(lines))
    report_lines = run_cli("bundle", "verify", copy).stderr.splitlines()
    assert f"changed: 'manifest-sha256.txt' (has no line for {dropped!r})" in report_lines


# ---------------------------------------------------------------- finding 6: date, version, README
def _newest_job_day(store: Path) -> str:
    report = json.loads(run_cli("inspect", "--json", store).stdout)
    times = [datetime.fromisoformat(job["end_time"] or job["start_time"])
             for project in report["projects"] for job in project["jobs"]]
    return max(times).astimezone(UTC).strftime("%Y-%m-%d")


def test_bag_info_dates_the_bag_by_its_data_and_names_the_archive(bag: Path, store: Path):
    info = _info(bag)
    assert info["Bagging-Date"] == _newest_job_day(store) != datetime.now(UTC).strftime("%Y-%m-%d")
    assert info["Reportgen-Archive-Format"] == "AiiDA export archive, export version 0.13, zip container"


def test_source_date_epoch_still_dates_the_bag(store: Path, tmp_path: Path):
    run = run_cli("bundle", store, "-o", tmp_path / "bag", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert run.code == 0, run.stderr
    assert _info(tmp_path / "bag")["Bagging-Date"] == "2023-11-14"


def test_readme_tells_a_stranger_how_to_check_the_bag_and_is_itself_checked(bag: Path):
    readme = (bag / "README.txt").read_text()
    for words in ("BagIt", "sha256sum --strict -c manifest-sha256.txt", "bagit.py --validate", "export version 0.13",
                  "data/site/index.html", "Bagging-Date"):
        assert words in readme, words
    assert "README.txt" in (bag / "tagmanifest-sha256.txt").read_text()
    checked = subprocess.run(["sha256sum", "--strict", "-c", "--quiet", "manifest-sha256.txt", "tagmanifest-sha256.txt"],
                             check=False, cwd=bag, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    bagit.Bag(str(bag)).validate(fast=False)


def test_an_edited_readme_is_caught(copy: Path):
    (copy / "README.txt").write_text("verify nothing\n")
    run = run_cli("bundle", "verify", copy)
    assert_one_error_line(run, 65, "bundle invalid")
    assert "changed: 'README.txt' (sha256 mismatch)" in run.stderr


def test_the_same_data_gives_a_byte_identical_bag(store: Path, bag: Path, tmp_path: Path):
    again = tmp_path / "again"
    assert run_cli("bundle", store, "-o", again).code == 0
    assert (again / "README.txt").read_bytes() == (bag / "README.txt").read_bytes()
    assert {k: v[0] for k, v in tree_digest(again).items()} == {k: v[0] for k, v in tree_digest(bag).items()}
    assert_no_staging_left(tmp_path)


# ---------------------------------------------------------------- finding 10: a file where a folder belongs
def test_export_and_bundle_of_a_file_name_it_as_a_file(store: Path, tmp_path: Path):
    archive = tmp_path / "runs.zip"
    assert run_cli("export", store, "-o", archive).code == 0
    run = run_cli("export", archive, "-o", tmp_path / "again.zip")
    assert_one_error_line(run, 65, "is a file, not a data_store folder", repr(str(archive)))
    run = run_cli("bundle", archive, "-o", tmp_path / "bag")
    assert_one_error_line(run, 65, "is a file, not a data_store folder", repr(str(archive)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.zip"]


def test_bundle_verify_of_a_zipped_bag_says_unpack_it(copy: Path, tmp_path: Path):
    zipped = Path(shutil.make_archive(str(tmp_path / "bag"), "zip", copy))
    run = run_cli("bundle", "verify", zipped)
    assert_one_error_line(run, 65, "is a file, not a bag folder (unpack a serialized bag first)")
