"""The read budget: stamps past it are "not read", not unparsable, and one set larger than it is
read thinned, with a note that says so."""

from __future__ import annotations

import numpy as np

from tests.site.one_job_store import STR, new_store, stamps, write_output


# ----------------------------------------------------------------- stamps past the read budget
def test_f5_stamps_past_the_read_budget_are_not_read_not_unparsable(tmp_path):
    from reportgen.readers.datastore import read_job, scan_data_store
    from reportgen.readers.git import CommitCache
    from reportgen.records import ReadLimits
    from reportgen.site.contexts import _times_text

    store, f, group = new_store(tmp_path)
    with f:
        times = np.datetime_as_string(np.datetime64("2022-06-25T12:00:00.000", "ms") + np.arange(300).astype("timedelta64[s]"), unit="ms")
        write_output(group, "o", np.arange(300.0), times=np.char.add(times, "Z").astype(object))
    ref = scan_data_store(store).projects[0].jobs[0]
    job = read_job(store, ref, ReadLimits(max_read_bytes=64 * 100), CommitCache())  # 100 stamps read
    output = job.nodes[0].outputs[0]
    assert (output.times.count, output.times.unparsable, output.times.unread) == (300, 0, 200)
    text = _times_text(output)
    assert "unparsable" not in text
    assert "300 stamps; of the first 100 read (the other 200 not read): 2022-06-25 12:00:00 to 2022-06-25 12:01:39" in text


# ----------------------------------------------------------------- the read budget for one huge set
def test_f3_one_set_over_the_read_budget_is_read_thinned_and_said_so(tmp_path):
    from reportgen.readers.hdf5 import read_output_data
    from reportgen.records import ReadLimits

    store, f, group = new_store(tmp_path)
    with f:
        group.create_dataset("o_time", data=stamps(1), dtype=STR)
        ds = group.create_dataset("o", data=np.arange(100_000, dtype="f8").reshape(1, -1), chunks=(1, 10_000))
        ds.attrs.create("description", "", dtype=STR)
        ds.attrs.create("units", "", dtype=STR)
    data = read_output_data(store / "p" / "j1.hdf5", "/n/o", ReadLimits(max_read_bytes=80_000))  # a tenth
    assert data.values.nbytes <= 80_000 and data.values.shape == (1, 10_000)
    assert data.values[0, 1] == 10.0 and not data.complete
    assert data.note == "kept the one set, thinned to every 10th value along axis 1, to stay within 80,000 bytes"
    data = read_output_data(store / "p" / "j1.hdf5", "/n/o", ReadLimits(max_read_bytes=400_000))  # half
    assert data.values.shape == (1, 50_000) and "every 2nd value" in data.note


def test_f3_thinned_sets_note_is_grammatical():
    from reportgen.readers.hdf5 import build_read_note

    assert build_read_note(50, 100, 2, (1,), 1000) == "kept 50 of 100 sets (every 2nd set), to stay within 1,000 bytes"
    assert "every 21st set" in build_read_note(5, 100, 21, (), 1000)
    assert "every 12th set" in build_read_note(5, 100, 12, (), 1000)
    assert build_read_note(7, 100, 1, (), 1000).startswith("kept the first 7 of 100 sets,")
