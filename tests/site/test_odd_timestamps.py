"""Timestamps at the edges of the calendar: a creation timestamp whose UTC time leaves years
1-9999 is a warning, and a ``_time`` stamp in year 0000 is one unparsable stamp, not a corrupt job."""

from __future__ import annotations

import json

import numpy as np

from tests.invariants import run_cli
from tests.site.one_job_store import build, new_store, page_text, read_job_of, write_output


# ----------------------------------------------------------------- creation timestamp beyond UTC
def test_f4_creation_timestamp_whose_utc_overflows_is_a_warning(tmp_path):
    for number, timestamp in enumerate(("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.999999-12:00")):
        store, f, _ = new_store(tmp_path / str(number), timestamp)
        f.close()
        run = run_cli("build", store, "-o", tmp_path / str(number) / "site")
        assert run.code == 0, run.stderr
        run = run_cli("inspect", "--json", store)
        assert run.code == 0, run.stderr
        problems = [p for p in json.loads(run.stdout)["problems"] if p["code"] == "bad-creation-timestamp"]
        assert len(problems) == 1 and problems[0]["severity"] == "warning", problems
        assert timestamp in problems[0]["reason"]


# ----------------------------------------------------------------- a _time stamp in year 0000
def test_f6_year_zero_stamp_is_one_unparsable_stamp_not_a_corrupt_job(tmp_path):
    store, f, group = new_store(tmp_path)
    with f:
        times = np.array(["0000-01-01T00:00:00.000Z", "2022-06-25T12:00:00.000Z", "9999-12-31T23:59:59.999Z"], dtype=object)
        write_output(group, "o", np.arange(3.0), times=times)
    job = read_job_of(store)
    assert job.status != "corrupt", job.problems
    output = job.nodes[0].outputs[0]
    assert output.times.unparsable == 1 and output.times.count == 3
    assert output.times.first.year == 2022 and output.times.last.year == 9999
    site = tmp_path / "site"
    build(store, site)
    assert "1 unparsable" in page_text(site)
