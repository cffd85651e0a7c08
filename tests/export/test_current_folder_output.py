"""``-o .`` is refused for the commands that swap a whole tree into place (restore, bundle)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.archives import write_input
from tests.invariants import assert_one_error_line, run_cli


@pytest.mark.parametrize("command", ["restore", "bundle"])
def test_the_current_folder_as_output_is_refused(tmp_path: Path, command: str):
    """``-o .``: swapping a new tree in would move away the folder the user's shell is in (was exit 70)."""
    source = write_input(tmp_path, command)
    here = tmp_path / "here"
    here.mkdir()
    run = run_cli(command, source, "-o", ".", "--force", cwd=here)
    assert_one_error_line(run, 73, "not '.', '..' or '/'", "'.'")
    assert list(here.iterdir()) == [] and not list(tmp_path.glob(".*staging*"))
