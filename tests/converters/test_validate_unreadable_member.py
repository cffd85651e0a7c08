"""`archive validate` says the same of a repository file it cannot read, whatever the container:
a finding on standard output (`unreadable-member`) and exit 65, no error line (docs/exit-codes.md,
docs/archives.md).  Before, a zip gave the finding and a tar or a main_0001 archive an error line
(fuzz audit M3).  The file: 260 MiB of zeros, past the bomb guard's 200:1 over 256 MiB."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.converters.builders import U, build_members, node_dir, write_container
from tests.invariants import run_cli

ZEROS = f"{node_dir(U['3'])}/path/zeros.bin"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 0.13 folder archive (a folder has no compression, so no ratio): honest input."""
    members = build_members("0.13")
    members[ZEROS] = bytes(260 * 1024**2)
    return write_container(tmp_path_factory.mktemp("src") / "in", members, "folder")


@pytest.mark.parametrize(("name", "version", "stream"), [
    ("a.zip", "0.13", True), ("a.tar.gz", "0.13", False), ("a.tar.zst", "0.13", True), ("a.aiida", "main_0001", False),
])  # fmt: skip
def test_a_repository_file_past_the_bomb_guard_is_a_finding(source: Path, tmp_path: Path, name: str, version: str,
                                                            stream: bool):
    archive = tmp_path / name
    assert run_cli("archive", "migrate", source, archive, "--to", version).code == 0
    run = run_cli("archive", "validate", archive, *(["--stream"] if stream else []))
    assert run.code == 65 and run.stderr == "", run.stderr
    member = ZEROS if version == "0.13" else "repo/"
    errors = [line for line in run.stdout.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {member}"), run.stdout
    assert "exceeds size budget: compression ratio over 200" in errors[0]
    assert run.stdout.splitlines()[-1].startswith(f"{archive}: INVALID (1 errors")
    assert run_cli("archive", "validate", archive, "--max-ratio", "1e12").code == 0  # the way out it names


def test_the_unreadable_member_is_in_the_json_report(source: Path, tmp_path: Path):
    archive = tmp_path / "a.tar.gz"
    assert run_cli("archive", "migrate", source, archive, "--to", "0.13").code == 0
    run = run_cli("archive", "validate", archive, "--json")
    assert run.code == 65 and run.stderr == ""
    assert '"code": "unreadable-member"' in run.stdout and f'"path": "{ZEROS}"' in run.stdout


def test_a_data_json_that_cannot_be_read_is_still_one_error_line(tmp_path: Path):
    """Past what validate cannot read through (here data.json) it refuses as every command does."""
    from tests.invariants import assert_one_error_line

    members = build_members("0.13")
    members["data.json"] = b"{" * 10
    for name, container in (("b.zip", "zip"), ("b.tar.gz", "tar.gz")):
        archive = write_container(tmp_path / name, members, container)
        run = run_cli("archive", "validate", archive)
        assert_one_error_line(run, 65, "data.json", name)
        assert run.stdout == ""
