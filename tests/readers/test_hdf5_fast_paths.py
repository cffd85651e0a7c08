"""The fast paths of reportgen.readers.hdf5 give exactly what the plain paths give.

The reader parses ``_time`` rows with numpy, reads string rows through the
low-level API and walks links without h5py link objects (performance, issue 3);
each is checked here against the straightforward code it replaced, on real files.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.readers import hdf5
from reportgen.readers.hdf5 import parse_time_column, read_hdf5_job, row_reader, row_selection
from reportgen.records import ReadLimits
from tests.readers.builders import metadata

ROWS = [
    b"2022-06-23T00:36:09.357Z", b"2022-06-23T00:36:09.357", b"2022-13-23T00:36:09.357Z", b"",
    b"2022-06-23T00:36:09.357Z\x00", b"2022-06-23 00:36:09.357Z", b"2022-06-23T00:36:09.357Zx",
    b"\xff022-06-23T00:36:09.357Z", b"2022-06-31T00:00:00.000Z", b"1969-12-31T23:59:59.999Z",
    b"2022-02-29T00:00:00.000Z", b"2024-02-29T23:59:59.999Z", "2022-06-23T00:36:09.357Z",
    b"2022-06-23T00:36:09.357Z" * 3, b"\xd9\xa2022-06-23T00:36:09.357Z",
]


def parse_time_rows(raw):
    """What ``read_times`` keeps of a slice: milliseconds of the valid rows, and how many were not."""
    column = parse_time_column(raw)
    return column.millis[column.valid], int(len(column) - np.count_nonzero(column.valid))


def plain_parse(raw: list) -> tuple[np.ndarray, int]:
    """The row-by-row parse (regex, then numpy per row) the fast path must equal."""
    texts = [r.decode("ascii", "replace") if isinstance(r, bytes) else str(r) for r in raw]
    good = []
    for text in texts:
        if hdf5.TIME_FORMAT.fullmatch(text):
            try:
                good.append(np.datetime64(text[:-1], "ms").astype(np.int64))
            except ValueError:
                pass
        else:  # another ISO 8601 form with an explicit offset (foreign writers), cut to milliseconds
            try:
                when = datetime.fromisoformat(text.strip("\0"))
            except ValueError:
                continue
            if when.tzinfo is not None:
                good.append((when - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1))
    return np.array(good, dtype=np.int64), len(texts) - len(good)


@pytest.mark.parametrize("seed", range(40))
def test_vectorised_time_parse_equals_row_by_row(seed: int) -> None:
    rng = random.Random(seed)
    raw = rng.choices(ROWS, k=rng.randint(0, 12))
    millis, bad = parse_time_rows(raw)
    want_millis, want_bad = plain_parse(raw)
    assert bad == want_bad and millis.tolist() == want_millis.tolist()


def test_valid_times_parse_to_epoch_milliseconds() -> None:
    millis, bad = parse_time_rows([b"1970-01-01T00:00:01.250Z", b"nonsense"])
    assert (millis.tolist(), bad) == ([1250], 1)


def test_row_reader_equals_dataset_indexing(tmp_path: Path) -> None:
    path = tmp_path / "s.hdf5"
    text = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        f.create_dataset("vlen", data=np.array([b"a", "\u00e9t\u00e9".encode(), b"x" * 5000, b""], dtype=object), dtype=text)
        f.create_dataset("grid", data=np.array([[b"a", b"b", b"c"], [b"d", b"e", b"f"]], dtype=object), dtype=text)
        f.create_dataset("fixed", data=np.array([b"abc", b"de"], dtype="S3"))
        f.create_dataset("nothing", shape=(2, 0), dtype=text)
    with h5py.File(path, "r") as f:
        for name, rows in (("vlen", 4), ("grid", 2), ("fixed", 2), ("nothing", 2)):
            ds = f[name]
            selection, _ = row_selection(ds.shape, rows)
            read = row_reader(ds, selection)
            for index in range(rows):
                got, want = read(index), ds[(index, *selection[1:])]
                assert type(got) is type(want) and np.array_equal(np.asarray(got), np.asarray(want)), name


def test_external_link_below_a_nested_group_refuses_the_file(tmp_path: Path) -> None:
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.arange(3)
    path = tmp_path / "j.hdf5"
    with h5py.File(path, "w") as f:
        f.attrs.update(metadata("p", "j"))
        f.create_group("QPU/deep/er")["x"] = h5py.ExternalLink(str(other), "/data")
        f["QPU/soft"] = h5py.SoftLink("/QPU/deep")
    job = read_hdf5_job(path, "j.hdf5", ReadLimits())
    assert not job.readable
    assert [(p.code, p.member) for p in job.problems] == [("hdf5-external-link", "/QPU/deep/er/x")]
    assert "other.h5:/data" in job.problems[0].reason
