"""``inspect`` holds only what it shows: it keeps each job without its previews, and its report,
text and JSON, is the same as from the whole records."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize("edge_cases", [False, True])
def test_the_report_is_the_same_from_the_slim_records_inspect_keeps(tmp_path: Path, edge_cases: bool) -> None:
    """``inspect`` keeps each job without its previews (20,000 jobs took 1.8 GB); the report
    must not change, in either form, for the example store and for the edge cases."""
    from dataclasses import replace

    from reportgen.example import write_example
    from reportgen.inspect_report import build_report_job, render_inspect
    from reportgen.readers.datastore import read_data_store

    root = tmp_path / "data_store"
    write_example(root, seed=0, jobs_per_project=3, edge_cases=edge_cases)
    whole = read_data_store(root, workers=1)
    slim = read_data_store(root, workers=1, keep=build_report_job)
    assert slim != whole  # the previews are gone ...
    assert all(o.preview == () for p in slim.projects for j in p.jobs for g in j.nodes for o in g.outputs)
    for as_json in (False, True):  # ... and the report is the same
        assert render_inspect(slim, as_json) == render_inspect(whole, as_json)
    assert replace(whole, projects=()) == replace(slim, projects=())
