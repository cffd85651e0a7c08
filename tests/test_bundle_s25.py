"""`bundle verify` as an auditor's other tools see the bag (review D: F2, F4, F5, F6).

- a page edited together with its line in one manifest was blamed on the *other*, intact manifest;
- a manifest cut short in its last line (or ending in a blank line) stopped verify with "unsafe path";
- a wrong Payload-Oxum, which bagit-python rejects, passed;
- the README's `sha256sum -c` skipped a damaged manifest line silently (no --strict).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.invariants import run_cli
from tests.test_bundle_verify_tampered import bag, bundle  # noqa: F401  (the same fixtures: a fresh bag, a copy per test)

PAGE = "data/site/index.html"


def retag(bag: Path) -> None:
    """Rewrite both tag manifests for the tag files as they are now (what a re-tagging tool does)."""
    for alg in ("sha256", "sha512"):
        path = bag / f"tagmanifest-{alg}.txt"
        names = [line.split("  ", 1)[1] for line in path.read_text().splitlines()]
        path.write_text("".join(f"{hashlib.new(alg, (bag / n).read_bytes()).hexdigest()}  {n}\n" for n in names))


def set_manifest_line(bag: Path, alg: str, rel: str) -> None:
    """Make ``rel``'s line in manifest-ALG.txt match the file as it is now."""
    path = bag / f"manifest-{alg}.txt"
    digest = hashlib.new(alg, (bag / rel).read_bytes()).hexdigest()
    lines = [f"{digest}  {rel}" if line.endswith(f"  {rel}") else line for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")


def verify(bag: Path) -> tuple[int, list[str]]:
    run = run_cli("bundle", "verify", bag)
    return run.code, [line for line in run.stderr.splitlines() if not line.startswith("reportgen:")]


def test_a_page_edited_with_one_manifest_line_is_named_by_the_intact_manifest(bag: Path):
    page = bag / PAGE
    page.write_bytes(page.read_bytes().replace(b"<html", b"<html data-x", 1))
    set_manifest_line(bag, "sha256", PAGE)  # the tag manifests still hold the old manifest-sha256.txt
    code, lines = verify(bag)
    assert code == 65
    assert f"changed: {PAGE!r} (sha512 mismatch)" in lines
    assert "changed: 'manifest-sha256.txt' (sha256 mismatch)" in lines
    assert not any(line.startswith("changed: 'manifest-sha512.txt'") for line in lines)


def test_a_manifest_line_edited_alone_is_still_blamed_on_that_manifest(bag: Path):
    manifest = bag / "manifest-sha512.txt"
    lines = manifest.read_text().splitlines()
    lines = [("0" * 128 + line[128:]) if line.endswith(f"  {PAGE}") else line for line in lines]
    manifest.write_text("\n".join(lines) + "\n")
    code, problems = verify(bag)
    assert code == 65
    assert any(line.startswith(f"changed: 'manifest-sha512.txt' (its sha512 of {PAGE!r}") for line in problems)
    assert not any(line.startswith(f"changed: {PAGE!r}") for line in problems)


def test_a_manifest_cut_short_is_reported_per_file_not_as_an_unsafe_path(bag: Path):
    manifest = bag / "manifest-sha512.txt"
    data = manifest.read_bytes()
    manifest.write_bytes(data[:-50])  # the last line keeps only part of its digest
    code, lines = verify(bag)
    assert code == 65
    assert any("manifest-sha512.txt" in line and "names no file" in line for line in lines)
    assert "changed: 'manifest-sha512.txt' (sha256 mismatch)" in lines  # its tag manifest line
    assert not any("unsafe path" in line for line in lines)


def test_a_blank_line_in_a_manifest_is_skipped_as_bagit_does(bag: Path):
    with open(bag / "manifest-sha256.txt", "a") as fh:
        fh.write("\n")
    retag(bag)
    assert verify(bag) == (0, [])


def test_a_wrong_payload_oxum_is_reported(bag: Path):
    info = bag / "bag-info.txt"
    text = info.read_text()
    assert "Payload-Oxum: " in text
    info.write_text("\n".join("Payload-Oxum: 1.1" if line.startswith("Payload-Oxum:") else line
                              for line in text.splitlines()) + "\n")
    retag(bag)
    code, lines = verify(bag)
    assert code == 65
    (line,) = lines
    assert line.startswith("changed: 'bag-info.txt' (Payload-Oxum says 1 files and 1 bytes; the payload has ")


def test_the_readme_commands_catch_a_damaged_manifest_line(bag: Path):
    """The README's own commands, run as written, fail on a tag manifest line with one bad digit."""
    readme = (bag / "README.txt").read_text()
    commands = [line.split("(")[0].strip() for line in readme.splitlines() if "sum --strict -c" in line]
    assert len(commands) == 4
    tag = bag / "tagmanifest-sha256.txt"
    lines = tag.read_text().splitlines()
    lines = [("g" + line[1:]) if line.endswith("  bag-info.txt") else line for line in lines]
    tag.write_text("\n".join(lines) + "\n")
    codes = [subprocess.run(command.split(), cwd=bag, capture_output=True).returncode for command in commands]
    assert any(codes), "every README command passed a damaged line"
    assert verify(bag)[0] == 65
