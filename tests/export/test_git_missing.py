"""``git`` missing from PATH is one line, exit 69, before any work, in every command that needs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.archives import write_input
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli


@pytest.mark.parametrize("command", ["inspect", "export", "restore"])
def test_git_missing_from_path_is_one_line_exit_69(tmp_path: Path, command: str):
    source = write_input(tmp_path, command)
    output = () if command == "inspect" else ("-o", tmp_path / "out")
    run = run_cli(command, source, *output, env={"PATH": str(tmp_path / "no-such-folder")})
    assert_one_error_line(run, 69, "not found on PATH", "'git'")
    assert not (tmp_path / "out").exists()
    assert_no_staging_left(tmp_path)


def test_example_without_git_is_the_same_exit_69_before_any_work(tmp_path: Path):
    """The example generator makes its repositories with git; it gave exit 66 and "'git': No such
    file or directory" from a bare OSError, after writing part of the tree in its staging folder."""
    run = run_cli("example", tmp_path / "ds", env={"PATH": str(tmp_path / "no-such-folder")})
    assert_one_error_line(run, 69, "not found on PATH", "'git'")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
