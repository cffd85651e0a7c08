"""Audit bundles: bagit-python agrees, and any one-byte change is named by `bundle verify`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import bagit
import pytest

from converters import open_archive
from converters.versions import read_metadata
from reportgen.bundle import verify_bundle, write_bundle
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, run_on_terminal


@pytest.fixture(scope="module")
def bundle(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "bag"
    run = run_cli("bundle", example_store, "-o", out)  # the short form of `bundle create`
    assert run.code == 0, run.stderr
    return out


def _copy(bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bag"
    shutil.copytree(bundle, copy)
    return copy


def _flip(path: Path, offset: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_bundle_is_a_valid_bag_with_site_and_archive(bundle: Path):
    bag = bagit.Bag(str(bundle))
    bag.validate(fast=False)
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert (bundle / "data" / "export.aiida").is_file()
    assert (bundle / "data" / "site" / "index.html").is_file()
    info = (bundle / "bag-info.txt").read_text()
    assert "Bag-Software-Agent: reportgen" in info and "Reportgen-Export-Parameters:" in info
    exported = read_metadata(open_archive(bundle / "data" / "export.aiida"))["export_parameters"]
    fields = dict(line.split(": ", 1) for line in info.splitlines())
    assert int(fields["Reportgen-Exported-Jobs"]) == len(exported["jobs"]) > 0
    assert int(fields["Reportgen-Exported-Projects"]) == len(exported["projects"]) > 0
    assert {"jobs", "projects"}.isdisjoint(json.loads(fields["Reportgen-Export-Parameters"]))  # lists: in metadata.json
    assert "Bagging-Date: " in info  # the newest job's day, or SOURCE_DATE_EPOCH's (tests/test_review_s23_bundle.py)
    assert run_cli("bundle", "verify", bundle).code == 0


def test_bundle_is_deterministic(example_store: Path, bundle: Path, tmp_path: Path):
    again = write_bundle(example_store, tmp_path / "again")
    assert again.files > 0
    for name in ("manifest-sha256.txt", "manifest-sha512.txt", "tagmanifest-sha256.txt", "bag-info.txt"):
        assert (tmp_path / "again" / name).read_bytes() == (bundle / name).read_bytes(), name
    assert_no_staging_left(tmp_path)


@pytest.mark.parametrize("target", ["data/export.aiida", "data/site/index.html", "bag-info.txt", "manifest-sha256.txt"])
def test_one_byte_change_is_named(bundle: Path, tmp_path: Path, target: str):
    bag = _copy(bundle, tmp_path)
    _flip(bag / target, offset=len((bag / target).read_bytes()) // 2)
    run = run_cli("bundle", "verify", bag)
    assert_one_error_line(run, 65, "bundle invalid")
    assert target in run.stderr
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag)).validate(fast=False)


@pytest.mark.parametrize("manifest", ["tagmanifest-sha256.txt", "tagmanifest-sha512.txt", "manifest-sha512.txt"])
def test_a_changed_manifest_line_blames_the_manifest_not_the_file(bundle: Path, tmp_path: Path, manifest: str):
    """The file still matches the other algorithm's manifest, so the line is what changed."""
    bag = _copy(bundle, tmp_path)
    lines = (bag / manifest).read_text().splitlines(keepends=True)
    digest, rel = lines[0].split(" ", 1)
    lines[0] = ("0" if digest[0] != "0" else "1") + digest[1:] + " " + rel
    (bag / manifest).write_text("".join(lines))
    run = run_cli("bundle", "verify", bag)
    assert_one_error_line(run, 65, "bundle invalid")
    assert f"changed: {manifest!r}" in run.stderr  # names are shown by repr()
    assert f"changed: {rel.strip()!r} (" not in run.stderr


def test_missing_and_extra_files_are_named(bundle: Path, tmp_path: Path):
    bag = _copy(bundle, tmp_path)
    (bag / "data" / "site" / "index.html").unlink()
    (bag / "data" / "smuggled.txt").write_text("x")
    report = verify_bundle(bag)
    assert "missing: 'data/site/index.html'" in report.problems
    assert any(p.startswith("extra: 'data/smuggled.txt'") for p in report.problems)
    run = run_cli("bundle", "verify", bag)
    assert_one_error_line(run, 65, "2 problem")


def test_size_preserving_tamper_is_caught_unlike_fast_validation(bundle: Path, tmp_path: Path):
    """Security plan row 38: same size, one byte flipped: Payload-Oxum alone would pass."""
    bag = _copy(bundle, tmp_path)
    _flip(bag / "data" / "export.aiida", offset=100)
    assert bagit.Bag(str(bag)).validate(fast=True)
    assert any("data/export.aiida" in p for p in verify_bundle(bag).problems)


def test_fetch_txt_and_non_bags_are_refused(bundle: Path, tmp_path: Path):
    bag = _copy(bundle, tmp_path)
    (bag / "fetch.txt").write_text("http://example.org/x 1 data/x\n")
    assert_one_error_line(run_cli("bundle", "verify", bag), 65, "fetch.txt")
    assert_one_error_line(run_cli("bundle", "verify", tmp_path), 65, "not a BagIt bag")
    assert_one_error_line(run_cli("bundle", "verify", tmp_path / "nope"), 66, "no such")


def test_existing_bundle_needs_force(example_store: Path, bundle: Path, tmp_path: Path):
    bag = _copy(bundle, tmp_path)
    assert_one_error_line(run_cli("bundle", "create", example_store, "-o", bag), 73, "exists")
    assert run_cli("bundle", "create", example_store, "-o", bag, "--force").code == 0
    assert_no_staging_left(tmp_path)


def test_on_a_terminal_export_and_verify_draw_progress(example_store: Path, bundle: Path, tmp_path: Path):
    """docs/cli.md: long work draws a bar on a terminal; export and bundle verify drew nothing."""
    code, output = run_on_terminal("export", example_store, "-o", tmp_path / "runs.aiida")
    assert code == 0, output[-500:]
    assert "writing runs.aiida" in output
    code, output = run_on_terminal("bundle", "verify", bundle)
    assert code == 0, output[-500:]
    assert "checking payload" in output
    assert run_cli("bundle", "verify", bundle).stderr == ""  # and nothing at all in a pipe


def test_a_misspelt_subcommand_is_named_not_taken_for_a_data_store(tmp_path: Path):
    line = assert_one_error_line(run_cli("bundle", "veriffy", tmp_path / "bag"), 64, "No such command 'veriffy'")
    assert "Did you mean 'verify'" in line
