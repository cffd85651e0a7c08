"""Export in bounded memory whatever the dataset size.

A real data_store with one large output: the export's peak memory (parent and
reader workers, as the kernel counts it) must not grow with the dataset, the
``.npy`` in the archive must be the dataset, and an export stopped by a signal
while the large ``.npy`` waits in the work folder must leave nothing behind.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import zstandard

from bench.bench_export_memory import ROW, STAMP, build_values, run_measured
from bench.bench_export_memory import write_big_store as write_store
from reportgen.errors import WriteError
from reportgen.export import graph as g
from reportgen.export.write import NpySpool, read_work_chunks
from reportgen.readers.hdf5 import read_outputs_streamed
from reportgen.readers.sandbox import iter_job_results
from reportgen.records import JobRef, ReadLimits

BIG_SETS = 32  # 128 MiB: the old export peaked at about 3x this over its baseline
SMALL_SETS = 8  # 32 MiB: enough for zstd's own buffers to reach their size (they do not grow further)


def read_tar_zst_member(archive: Path, suffix: str) -> tuple[str, bytes]:
    with (open(archive, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as raw,
          tarfile.open(fileobj=raw, mode="r|") as tar):
        for member in tar:
            if member.name.endswith(suffix):
                return member.name, tar.extractfile(member).read()
    raise AssertionError(f"no member ending in {suffix}")


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_store(tmp_path_factory.mktemp("big") / "data_store", BIG_SETS)


def test_export_memory_does_not_grow_with_the_dataset(big_store: Path, tmp_path: Path):
    small = write_store(tmp_path / "small_store", SMALL_SETS)
    code, baseline, err = run_measured("export", small, "-o", tmp_path / "small.tar.zst", "--workers", "1")
    assert code == 0, err
    code, peak, err = run_measured("export", big_store, "-o", tmp_path / "big.tar.zst", "--workers", "1")
    assert code == 0, err
    more_data = (BIG_SETS - SMALL_SETS) * ROW[0] * ROW[1] * 8
    # the old export held the values about three times over (read, np.save, pickle): 3x, 290 MB more here
    assert peak - baseline < more_data // 4, f"peak {peak >> 20} MiB, with 4x less data {baseline >> 20} MiB"
    assert peak < 512 * 1024**2  # the security reference, section 7 (g): worker VmHWM under 512 MiB

    name, data = read_tar_zst_member(tmp_path / "big.tar.zst", "/values.npy")
    values = np.load(io.BytesIO(data), allow_pickle=False)
    assert values.shape == (BIG_SETS, *ROW) and values.dtype == np.float64
    for start in range(0, BIG_SETS, 8):
        assert np.array_equal(values[start : start + 8], build_values(8, start))
    _, times = read_tar_zst_member(tmp_path / "big.tar.zst", name.replace("values.npy", "times.npy"))
    assert np.load(io.BytesIO(times)).tolist() == [STAMP] * BIG_SETS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.tar.zst", "small.tar.zst", "small_store"]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_export_stopped_while_a_work_file_waits_leaves_nothing(big_store: Path, tmp_path: Path, signum: int,
                                                                code: int):
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "reportgen", "export", big_store, "-o", out / "a.tar.zst",
                             "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CI": "1"})
    try:
        deadline = time.monotonic() + 120
        while not any(out.glob(".a.tar.zst.work-*/npy-*")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert proc.poll() is None, "the export ended before its work file was seen"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert list(out.iterdir()) == []  # no archive, no staging file, no work folder, no .npy


# ---------------------------------------------------------------- the parts, in process
def test_npy_of_blocks_is_what_numpy_save_writes_for_the_whole():
    enum = h5py.enum_dtype({"FALSE": 0, "TRUE": 1}, basetype="i1")
    cases = [
        np.arange(24.0).reshape(4, 3, 2),
        np.zeros((3, 0)),
        np.array(["2022", ""], dtype=g.TIMES_DTYPE),
        np.zeros(5, dtype=[("x", "<f4"), ("flag", enum), ("v", "<i8", (2,))]),  # metadata at depth
        np.zeros(2, dtype=[(f"f{i}", "<f8") for i in range(3000)]),  # header over 64 KiB: format 2.0
        np.zeros(2, dtype=[("é€", "<f8")]),  # a name outside latin-1: format 3.0
        np.arange(6, dtype=">i2").reshape(3, 2),
    ]
    for array in cases:
        expected = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's notes on formats 2.0 and 3.0
            np.save(expected, array.view(g.drop_metadata(array.dtype)), allow_pickle=False)
        blocks = [array[i : i + 1] for i in range(len(array))]
        assert b"".join(g.render_npy_chunks(array.shape, array.dtype, blocks)) == expected.getvalue(), array.dtype


def test_streamed_output_is_read_in_small_blocks_in_c_order(tmp_path: Path):
    """A block budget smaller than one row: each set is read in pieces (the one-huge-set case)."""
    path = tmp_path / "j.hdf5"
    values = np.arange(5 * 3 * 7, dtype=np.int64).reshape(5, 3, 7)
    with h5py.File(path, "w") as f:
        f.create_dataset("N/v", data=values, chunks=(2, 3, 7))
        f.create_dataset("N/v_time", data=np.array([STAMP, "bad"] * 2, dtype=h5py.string_dtype()))
    seen: list[np.ndarray] = []

    def save(blocks) -> str:
        seen.extend(blocks.values.blocks())
        times = [t for block in blocks.times.blocks() for t in block]
        return f"{blocks.values.shape} {len(times)} {times.count(None)}"

    found = read_outputs_streamed(path, ["/N/v"], ReadLimits(), save, block_bytes=16)
    assert found == {"/N/v": "(5, 3, 7) 4 2"}
    assert max(block.nbytes for block in seen) <= 16
    assert b"".join(block.tobytes() for block in seen) == values.tobytes()


def test_an_output_over_the_budget_is_not_read_at_all(tmp_path: Path):
    path = tmp_path / "j.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("N/v", data=np.zeros((4, 100)))
    found = read_outputs_streamed(path, ["/N/v"], ReadLimits(max_read_bytes=1000), lambda blocks: "saved")
    assert not found["/N/v"].complete and len(found["/N/v"].values) == 0


def test_work_file_changed_or_lost_is_a_write_error(tmp_path: Path):
    spool = NpySpool(tmp_path, inline_left=0)
    item = spool.write("values.npy", (3,), np.dtype("<f8"), iter([np.arange(3.0)]))
    assert item.content is None and item.spooled is not None
    path = Path(item.spooled.path)
    assert np.load(path).tolist() == [0.0, 1.0, 2.0]
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    with pytest.raises(WriteError, match="changed"):
        b"".join(read_work_chunks(item.spooled))
    assert not path.exists()  # removed whatever the outcome
    with pytest.raises(WriteError, match="lost"):
        b"".join(read_work_chunks(item.spooled))
    with pytest.raises(WriteError, match="work file"):
        NpySpool(tmp_path / "gone", inline_left=0).write("values.npy", (3,), np.dtype("<f8"), iter([np.arange(3.0)]))


def _fail_writing(root, ref, limits, commits):
    raise WriteError(root, "cannot write a work file of the export: no space left on device")


def test_a_worker_that_cannot_write_its_work_file_stops_the_export(tmp_path: Path):
    """Not a job made "corrupt": the output's disk failed (exit 74)."""
    refs = [JobRef("p", "j1", None, (), None)]
    with pytest.raises(WriteError, match="no space left"):
        list(iter_job_results(tmp_path, refs, ReadLimits(), 1, work=_fail_writing))


def test_small_arrays_travel_inline_within_the_job_budget(tmp_path: Path):
    spool = NpySpool(tmp_path)
    small = spool.write("times.npy", (2,), g.TIMES_DTYPE, iter([np.array(["a", "b"], dtype=g.TIMES_DTYPE)]))
    assert small.content is not None and not list(tmp_path.iterdir())
    assert json.dumps(np.load(io.BytesIO(small.content)).tolist()) == '["a", "b"]'
