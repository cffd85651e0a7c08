"""The export's summary line says what the data held (review s23): a store with damaged jobs
exported with a clean-looking line, and an empty folder gave "0 jobs" and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from tests.invariants import run_cli


def _inspect_counts(store: Path) -> tuple[int, int]:
    lines = run_cli("inspect", store).stdout.splitlines()
    return sum(line.startswith("error ") for line in lines), sum(line.startswith("warning ") for line in lines)


def test_the_summary_counts_the_problems_inspect_lists(edge_store: Path, tmp_path: Path) -> None:
    run = run_cli("export", edge_store, "-o", tmp_path / "edge.zip")
    assert run.code == 0, run.stderr
    found = re.search(r"; (\d+) errors and (\d+) warnings in the data \(reportgen inspect (.+) lists them\)$", run.stdout.strip())
    assert found, run.stdout
    assert (int(found[1]), int(found[2])) == _inspect_counts(edge_store) != (0, 0)
    assert found[3] == str(edge_store)


def test_an_empty_folder_is_exported_with_a_question(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    run = run_cli("export", tmp_path / "empty", "-o", tmp_path / "empty.zip")
    assert run.code == 0, run.stderr
    assert run.stdout.strip().endswith(f"0 jobs, 0 nodes, 0 links, 0 groups, 0 logs; no job found in {tmp_path / 'empty'} "
                                       "(is it the data_store folder?)")


def test_a_clean_store_keeps_its_plain_summary(example_store: Path, tmp_path: Path) -> None:
    errors, warnings = _inspect_counts(example_store)
    run = run_cli("export", example_store, "-o", tmp_path / "clean.zip")
    assert ("in the data" in run.stdout) == bool(errors or warnings)
