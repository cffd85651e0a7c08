"""`bundle verify` of a tampered bag: symlinks are never followed, and names are shown quoted.

A symlink in a bag (data/site moved out and linked back, an extra linked folder) used to verify
as valid: os.walk skipped linked folders and only a path's last component was checked for a link.
Manifest paths were printed raw: a percent-encoded line break split the one error line, and a
name that is not UTF-8 was shown with U+FFFD instead of its bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.invariants import assert_one_error_line, run_cli, tree_digest

ZERO = "0" * 64


@pytest.fixture(scope="module")
def bundle(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "bag"
    run = run_cli("bundle", example_store, "-o", out)
    assert run.code == 0, run.stderr
    return out


@pytest.fixture()
def bag(bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bag"
    shutil.copytree(bundle, copy, symlinks=True)
    return copy


def _verify_invalid(bag: Path, keyword: str) -> tuple[str, list[str]]:
    """Run `bundle verify` on a tampered bag: exit 65, one error line; the bag is left as it was."""
    before = tree_digest(bag)
    run = run_cli("bundle", "verify", bag)
    line = assert_one_error_line(run, 65, keyword, repr(str(bag)))
    assert tree_digest(bag) == before
    return line, run.stderr.splitlines()


def _site_files(bag: Path) -> list[str]:
    lines = (bag / "manifest-sha256.txt").read_text().splitlines()
    return [line.split("  ", 1)[1] for line in lines if line.split("  ", 1)[1].startswith("data/site/")]


def test_payload_folder_moved_out_of_the_bag_behind_a_symlink_is_invalid(bag: Path, tmp_path: Path):
    """The identical files outside are never read: every one is missing, named with the link."""
    site_files = _site_files(bag)
    assert len(site_files) > 10
    elsewhere = tmp_path / "elsewhere"
    (bag / "data" / "site").rename(elsewhere)
    (bag / "data" / "site").symlink_to(elsewhere)
    line, lines = _verify_invalid(bag, "symlink")
    assert f"first: symlink: 'data/site' -> {str(elsewhere)!r}" in line
    assert f"{len(site_files) + 1} problem(s)" in line
    for rel in site_files:
        assert f"missing: {rel!r} (behind the symlink 'data/site', not followed)" in lines


@pytest.mark.parametrize(
    ("name", "target"),
    [("data/etc", "/etc"), ("data/pw", "/etc/passwd"), ("etcdir", "/etc"), ("data/site/up", "../..")],
)
def test_an_extra_symlink_anywhere_in_the_bag_is_named(bag: Path, name: str, target: str):
    (bag / name).symlink_to(target)
    line, lines = _verify_invalid(bag, "symlink")
    assert f"first: symlink: {name!r} -> {target!r}" in line
    assert lines[0].startswith(f"symlink: {name!r} -> {target!r}")


@pytest.mark.parametrize("name", ["bag-info.txt", "manifest-sha256.txt", "data/export.aiida"])
def test_a_listed_file_replaced_by_a_link_to_an_identical_copy_is_not_read(bag: Path, tmp_path: Path, name: str):
    outside = tmp_path / "outside"
    shutil.move(bag / name, outside)
    (bag / name).symlink_to(outside)
    line, lines = _verify_invalid(bag, "symlink")
    assert f"first: symlink: {name!r} -> {str(outside)!r}" in line
    assert f"missing: {name!r} (a symlink, not followed)" in lines


def test_a_manifest_path_through_a_linked_folder_inside_the_bag_is_missing(bag: Path):
    """data/alias -> site stays inside the bag, but a listed path through it is still not read."""
    (bag / "data" / "alias").symlink_to("site")
    manifest = bag / "manifest-sha256.txt"
    index = next(line for line in manifest.read_text().splitlines() if line.endswith("  data/site/index.html"))
    with open(manifest, "a") as fh:
        fh.write(index.replace("data/site/", "data/alias/") + "\n")
    _line, lines = _verify_invalid(bag, "symlink")
    assert "missing: 'data/alias/index.html' (behind the symlink 'data/alias', not followed)" in lines
    assert "changed: 'data/alias/index.html' (sha512 mismatch)" not in lines


def test_a_percent_encoded_line_break_cannot_split_or_forge_the_error_line(bag: Path):
    forged = "reportgen: error: 'elsewhere': forged"
    with open(bag / "manifest-sha256.txt", "a") as fh:
        fh.write(f"{ZERO}  data/a%0A{forged}%0D%0Ab\n")
    line, lines = _verify_invalid(bag, "bundle invalid")
    shown = repr(f"data/a\n{forged}\r\nb")
    assert line.endswith(f"first: missing: {shown}")
    assert f"missing: {shown}" in lines
    assert not any(text.startswith(forged) or text == "b" for text in lines)


def test_a_name_that_is_not_utf8_is_shown_with_its_bytes(bag: Path):
    with open(bag / "manifest-sha256.txt", "ab") as fh:
        fh.write(ZERO.encode() + b"  data/caf\xe9\n")
    (bag / "data").joinpath(b"extra-\xff".decode("utf-8", "surrogateescape")).write_bytes(b"x")
    line, lines = _verify_invalid(bag, "bundle invalid")
    assert "\ufffd" not in "\n".join(lines)
    assert line.endswith(r"first: missing: 'data/caf\udce9'")
    assert r"extra: 'data/extra-\udcff' (in no manifest)" in lines


def test_every_name_in_the_problem_lines_is_quoted(bag: Path):
    (bag / "data" / "site" / "index.html").unlink()
    (bag / "data" / "smuggled.txt").write_text("x")
    (bag / "notes.txt").write_text("x")
    _line, lines = _verify_invalid(bag, "3 problem")
    assert lines[:3] == [
        "missing: 'data/site/index.html'",
        "extra: 'data/smuggled.txt' (in no manifest)",
        "extra: 'notes.txt' (in no tag manifest)",
    ]
