"""Set times without a Python ``datetime`` per row.

The numpy paths (``parse_time_column``, ``render_time_grid`` and the
renderers of the CSV, the figure axis and ``times.npy``) must give exactly what
the row-by-row paths give: ``parse_time`` per row, ``datetime.isoformat()``,
``timedelta.total_seconds() * 1000.0`` and ``strftime``.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.export import graph as g
from reportgen.readers.hdf5 import (
    _parse_time_row,
    parse_time_column,
    read_hdf5_job,
    read_output_data,
    read_outputs_streamed,
)
from reportgen.records import ReadLimits, TimeColumn
from reportgen.site import downloads, figures
from tests.invariants import run_cli
from tests.readers.builders import STR, Node, Out, metadata, write_job
from tests.readers.test_hdf5_fast_paths import parse_time_rows

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def by_row(raw) -> list[datetime | None]:
    return [_parse_time_row(row) for row in raw]


# ---------------------------------------------------------------- strategies
moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999))
offsets = st.sampled_from(["Z", "", "+00:00", "+02:00", "-05:30", "z", " Z", "ZZ"])
precisions = st.sampled_from([0, 3, 6, 2])


@st.composite
def stamps(draw) -> bytes:
    """A stamp in the stored format, or one a little off it (other precisions and zones, a digit
    changed so that a field leaves its range, a byte changed)."""
    moment = draw(moments)
    digits = draw(precisions)
    text = f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    text += draw(offsets) if draw(st.booleans()) else "Z"
    raw = bytearray(text.encode("ascii"))
    if draw(st.integers(0, 3)) == 0 and raw:  # a digit anywhere: 2022-19-..., 2022-02-30, 24:00, 60 s
        position = draw(st.integers(0, len(raw) - 1))
        raw[position] = draw(st.sampled_from(b"0123456789-T:.Z\xff\x00 "))
    return bytes(raw)


# ---------------------------------------------------------------- parsing
@settings(max_examples=300, deadline=None)
@given(st.lists(stamps(), max_size=40))
def test_vectorised_parse_equals_the_row_path(raw: list[bytes]) -> None:
    raw = [row.replace(b"\x00", b"0") for row in raw]  # as from a vlen dataset (no NULs there)
    rows = np.array(raw, dtype=object) if raw else np.zeros(0, dtype=object)
    column = parse_time_column(rows)
    assert list(column) == by_row(raw)
    millis, bad = parse_time_rows(rows)
    want = [(t - EPOCH) // timedelta(milliseconds=1) for t in by_row(raw) if t is not None]
    assert (millis.tolist(), bad) == (want, len(raw) - len(want))


@settings(max_examples=100, deadline=None)
@given(st.lists(stamps(), max_size=20), st.sampled_from([10, 24, 30]))
def test_fixed_length_rows_parse_as_the_row_path(raw: list[bytes], width: int) -> None:
    """An ``S<k>`` dataset: numpy strips the trailing NULs of each row read alone."""
    rows = np.array(raw, dtype=f"S{width}") if raw else np.zeros(0, f"S{width}")
    assert list(parse_time_column(rows)) == by_row(list(rows))


def test_rows_that_are_not_bytes_take_the_row_path() -> None:
    raw = ["2022-06-25T12:52:14.435Z", b"2022-06-25T12:52:14.435Z", "2022-06-25T12:52:14.435", 5]
    assert list(parse_time_column(raw)) == by_row(raw)
    assert parse_time_column(raw)[0] == datetime(2022, 6, 25, 12, 52, 14, 435000, tzinfo=UTC)


@pytest.mark.parametrize("text, parsed", [
    (b"2024-02-29T23:59:59.999Z", True), (b"2022-02-29T00:00:00.000Z", False), (b"1900-02-29T00:00:00.000Z", False),
    (b"2000-02-29T00:00:00.000Z", True), (b"0000-01-01T00:00:00.000Z", False), (b"0001-01-01T00:00:00.000Z", True),
    (b"2022-04-31T00:00:00.000Z", False), (b"2022-00-01T00:00:00.000Z", False), (b"2022-01-00T00:00:00.000Z", False),
    (b"2022-01-01T24:00:00.000Z", False), (b"2022-01-01T00:60:00.000Z", False), (b"2022-01-01T00:00:60.000Z", False),
    (b"2022-06-25T12:52:14.435", False), (b"2022-06-25T12:52:14.435+00:00", True), (b"2022-06-25T12:52:14Z", True),
])
def test_calendar_edges(text: bytes, parsed: bool) -> None:
    column = parse_time_column(np.array([text], dtype=object))
    assert bool(column.valid[0]) is parsed and list(column) == by_row([text])


def test_every_month_day_and_clock_field_value_parses_as_the_row_path() -> None:
    """Months and days 00-99 in leap, common and century years; hours, minutes, seconds 00-99."""
    rows = [f"{year}-{month:02d}-{day:02d}T12:34:56.789Z".encode() for year in ("2024", "2023", "1900", "2000")
            for month in range(100) for day in range(100)]
    rows += [f"2022-06-25T{value:02d}:00:00.000Z".encode() for value in range(100)]
    rows += [f"2022-06-25T00:{value:02d}:00.000Z".encode() for value in range(100)]
    rows += [f"2022-06-25T00:00:{value:02d}.999Z".encode() for value in range(100)]
    column = parse_time_column(np.array(rows, dtype=object))
    assert list(column) == by_row(rows)
    assert int(column.valid.sum()) == 366 * 2 + 365 * 2 + 24 + 60 + 60


# ---------------------------------------------------------------- the column reads as the tuple it stands for
def test_column_reads_as_a_tuple_of_datetimes() -> None:
    column = parse_time_column(np.array([b"1970-01-01T00:00:01.250Z", b"bad", b"2022-06-25T12:52:14.435Z"], dtype=object))
    as_tuple = tuple(by_row([b"1970-01-01T00:00:01.250Z", b"bad", b"2022-06-25T12:52:14.435Z"]))
    assert column == as_tuple and as_tuple == column and column == list(as_tuple)
    assert len(column) == 3 and column[1] is None and column[-1] == as_tuple[-1]
    assert column[1:] == as_tuple[1:] and isinstance(column[1:], TimeColumn)
    assert column != as_tuple[:2] and column != parse_time_column(np.array([b"x"] * 3, dtype=object))


# ---------------------------------------------------------------- rendering
valid_millis = st.lists(st.integers(-62135596800000, 253402300799999), max_size=30)


@settings(max_examples=200, deadline=None)
@given(valid_millis, st.lists(st.booleans(), max_size=30), st.integers(0, 35))
def test_renderers_equal_the_row_path(millis: list[int], valid: list[bool], count: int) -> None:
    valid = (valid + [True] * len(millis))[: len(millis)]
    column = TimeColumn(np.array([m if ok else 0 for m, ok in zip(millis, valid)], dtype=np.int64),
                        np.array(valid, dtype=bool))
    rows = tuple(column)
    assert downloads._time_texts(column, count) == downloads._time_texts(rows, count)
    assert g.render_times(column) == g.render_times(rows)
    fast, slow = g.render_time_array(column), g.render_time_array(rows)
    assert fast.dtype == slow.dtype == g.TIMES_DTYPE and fast.tobytes() == slow.tobytes()
    fast_ms, slow_ms = figures._epoch_ms(column, len(column)), figures._epoch_ms(rows, len(rows))
    assert (fast_ms is None) == (slow_ms is None)
    if fast_ms is not None:
        assert fast_ms.tobytes() == slow_ms.tobytes()  # bit for bit: the downsampler sees the same x


def test_canonical_stamps_render_back_to_themselves() -> None:
    texts = ["2022-06-25T12:52:14.435Z", "1969-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z", "1600-02-29T00:00:00.000Z"]
    column = parse_time_column(np.array([t.encode() for t in texts], dtype=object))
    assert g.render_times(column) == texts
    assert downloads._time_texts(column, 5) == [
        "2022-06-25T12:52:14.435000+00:00", "1969-12-31T23:59:59.999000+00:00", "9999-12-31T23:59:59.999000+00:00",
        "1600-02-29T00:00:00+00:00", ""]
    early = parse_time_column(np.array([b"0012-03-04T05:06:07.008Z"], dtype=object))
    assert g.render_times(early) == ["0012-03-04T05:06:07.008Z"]  # four digits (strftime's %Y dropped them)


# ---------------------------------------------------------------- real files
ODD = ["2022-06-25T12:52:14.435Z", "2022-06-25T12:52:14.435", "2022-06-25T12:52:14.435+02:00",
       "2022-06-25T12:52:14.435123Z", "2022-06-25T12:52:14Z", "nonsense", "2022-13-01T00:00:00.000Z",
       "2022-06-25T12:52:14.435Z", "2021-01-01T00:00:00.000Z"]


def test_odd_stamps_give_the_same_summary_problems_and_files(tmp_path: Path) -> None:
    path = write_job(tmp_path / "p" / "j.hdf5", metadata("p", "j"), [Node("QPU", [
        Out("odd", list(range(len(ODD))), times=ODD),
        Out("fewer", [1.0, 2.0, 3.0], times=ODD[:1]),
        Out("more", [1.0], times=ODD[:3]),
    ])])
    job = read_hdf5_job(path, ReadLimits())
    outputs = {o.name: o for node in job.nodes for o in node.outputs}
    odd = outputs["odd"].times
    # ISO forms with an offset parse too (foreign writers); the naive one, "nonsense" and month 13 do not
    assert (odd.count, odd.unparsable, odd.duplicates, odd.sorted) == (9, 3, 2, False)
    assert (odd.first, odd.last) == (datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 6, 25, 12, 52, 14, 435000, tzinfo=UTC))
    mismatches = sorted(p.reason for p in job.problems if p.code == "time-count-mismatch")
    assert mismatches == ["fewer_time has 1 stamps for 3 sets", "more_time has 3 stamps for 1 sets"]

    data = read_output_data(path, "/QPU/odd")
    assert data.times == tuple(_parse_time_row(t.encode()) for t in ODD)
    csv_times = [line.split(",")[1] for line in downloads.build_csv_text(data).splitlines()[1:]]
    assert csv_times == ["2022-06-25T12:52:14.435000+00:00", "", "2022-06-25T10:52:14.435000+00:00",
                         "2022-06-25T12:52:14.435000+00:00", "2022-06-25T12:52:14+00:00", "", "",
                         "2022-06-25T12:52:14.435000+00:00", "2021-01-01T00:00:00+00:00"]
    fewer = read_output_data(path, "/QPU/fewer")
    assert [line.split(",")[1] for line in downloads.build_csv_text(fewer).splitlines()[1:]] == [
        "2022-06-25T12:52:14.435000+00:00", "", ""]
    assert figures.build_figure(outputs["fewer"], fewer)["layout"]["xaxis"]["title"]["text"] == "set"


def streamed_times(path: Path, hdf5_path: str) -> np.ndarray:
    """``times.npy`` of an output as the export writes it, loaded back."""
    def save(blocks) -> bytes:
        return b"".join(g.render_npy_chunks((blocks.times.count,), g.TIMES_DTYPE,
                                            g.render_time_arrays(blocks.times.blocks())))

    return np.load(io.BytesIO(read_outputs_streamed(path, [hdf5_path], ReadLimits(), save)[hdf5_path]))


def test_a_million_sets_read_render_and_export(tmp_path: Path) -> None:
    n = 10**6
    base = np.datetime64("2023-01-01T00:00:00.000", "ms") + np.arange(n).astype("timedelta64[ms]") * 7
    texts = np.char.add(np.datetime_as_string(base, unit="ms"), "Z").astype(object)
    texts[5], texts[6] = "bad", texts[2]  # one unparsable, one repeat (and out of order)
    path = tmp_path / "p" / "j.hdf5"
    path.parent.mkdir()
    with h5py.File(path, "w") as f:
        f.create_dataset("QPU/v_time", data=texts.astype(STR))
        ds = f.create_dataset("QPU/v", data=np.arange(n, dtype=np.float64))
        ds.attrs["description"], ds.attrs["units"] = "v", "V"
    job = read_hdf5_job(path, ReadLimits())
    summary = job.nodes[0].outputs[0].times
    assert (summary.count, summary.unparsable, summary.duplicates, summary.sorted) == (n, 1, 1, False)

    data = read_output_data(path, "/QPU/v")
    assert isinstance(data.times, TimeColumn) and len(data.times) == n
    assert data.times[5] is None and data.times[n - 1] == datetime(2023, 1, 1, tzinfo=UTC) + timedelta(milliseconds=7 * (n - 1))
    expected = texts.astype("U24")
    expected[5] = ""
    assert np.array_equal(streamed_times(path, "/QPU/v"), expected)  # valid stamps come back as stored
    lines = downloads.build_csv_text(data).splitlines()
    assert len(lines) == n + 1 and lines[6] == "5,,5.0" and lines[-1] == f"{n - 1},2023-01-01T01:56:39.993000+00:00,{n - 1}.0"


@pytest.mark.parametrize("values", [
    np.array([1e-7, 0.1, 2.5, np.nan, 3.0]),  # a NaN in a later block (orjson writes 1e-7, repr 1e-07): the whole file keeps one text form
    np.arange(10, dtype=np.int64).reshape(5, 2), np.zeros((5, 0)), np.array([True, False, True, True, False]),
])
def test_csv_in_blocks_is_the_csv_in_one_piece(monkeypatch: pytest.MonkeyPatch, values: np.ndarray) -> None:
    column = parse_time_column(np.array([b"2022-06-25T12:52:14.435Z", b"bad", b"2022-06-25T12:52:15.000Z"], dtype=object))
    whole = downloads.build_csv_text(downloads.OutputData("/n/o", "float", values, column))
    monkeypatch.setattr(downloads, "CSV_BLOCK_ROWS", 2)
    assert downloads.build_csv_text(downloads.OutputData("/n/o", "float", values, column)) == whole
    assert downloads.build_csv_text(downloads.OutputData("/n/o", "float", values, tuple(column))) == whole
    assert whole.splitlines()[3].startswith("2,2022-06-25T12:52:15+00:00")


def test_a_million_sets_build_and_export_through_the_cli(tmp_path: Path) -> None:
    """The whole path: the site's CSV and the archive's times.npy of a job of 10^6 sets."""
    from bench.bench_times import write_store  # the benchmark's data_store, at its default size

    store = write_store(tmp_path / "store", 10**6)
    assert run_cli("build", store, "-o", tmp_path / "site", "--workers", "1").code == 0
    (csv_file,) = (tmp_path / "site").rglob("*~signal.csv")
    lines = csv_file.read_text().splitlines()
    assert len(lines) == 10**6 + 1 and lines[1].startswith("0,2023-01-01T00:00:00+00:00,")
    assert lines[-1].startswith("999999,2023-01-01T01:56:39.993000+00:00,")
    assert run_cli("export", store, "-o", tmp_path / "a.aiida", "--workers", "1").code == 0
    with zipfile.ZipFile(tmp_path / "a.aiida") as archive:
        (name,) = [n for n in archive.namelist() if n.endswith("/times.npy")]
        times = np.load(io.BytesIO(archive.read(name)))
    assert times.dtype == g.TIMES_DTYPE and times.shape == (10**6,)
    assert times[0] == "2023-01-01T00:00:00.000Z" and times[-1] == "2023-01-01T01:56:39.993Z"
