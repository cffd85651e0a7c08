"""Benchmark: `reportgen export` to tar.zst against `tar -c | zstd` on the same data_store.

    python bench/bench_export.py                # 2,000 generated jobs
    python bench/bench_export.py --jobs 300     # smaller
    python bench/bench_export.py --store DIR    # reuse (or keep) a generated data_store

Prints the export time, the plain pipeline's time at the same zstd level and
thread count (level 3, -T2, as converters.containers writes), their ratio
(goal: at most 1.5) and the sizes of the archive, the tarball and the store.
It also times the floor any AiiDA export must pay and tar does not: h5py
opening every HDF5 file and reading every dataset, over the same cores, so the
ratio export / h5py-walk says how close to that floor export is.
All runs read the store from the page cache (it is read once before timing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportgen.example import write_example  # noqa: E402
from reportgen.export import ExportOptions, export_archive  # noqa: E402

PROJECTS = 3  # the example writes three projects
ZSTD_LEVEL, ZSTD_THREADS = 3, 2


def store_size(root: Path) -> tuple[int, int]:
    sizes = [p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(sizes), len(sizes)


def time_export(root: Path, out: Path, workers: int) -> tuple[float, str]:
    start = time.perf_counter()
    summary = export_archive(root, out, ExportOptions(fmt="tar.zst", force=True, workers=workers))
    return time.perf_counter() - start, summary.render()


def time_pipeline(root: Path, out: Path) -> float:
    start = time.perf_counter()
    with open(out, "wb") as fh:
        tar = subprocess.Popen(["tar", "-c", "-C", str(root.parent), root.name], stdout=subprocess.PIPE)
        zstd = subprocess.run(["zstd", f"-{ZSTD_LEVEL}", f"-T{ZSTD_THREADS}", "-q", "-c"], stdin=tar.stdout, stdout=fh,
                              check=True)
        tar.stdout.close()
        tar.wait()
    assert zstd.returncode == 0 and tar.returncode == 0
    return time.perf_counter() - start


def walk_one(path: str) -> int:
    """Open one HDF5 file and read every attribute and every dataset whole (the decoding floor)."""
    import h5py

    seen = 0

    def visit(_name: str, obj: object) -> None:
        nonlocal seen
        dict(obj.attrs)
        if isinstance(obj, h5py.Dataset):
            obj[()]
            seen += 1

    try:
        with h5py.File(path, "r", locking=False) as f:
            dict(f.attrs)
            f.visititems(visit)
    except Exception:  # the corrupt example files: tar copies them, export carries them raw
        pass
    return seen


def time_h5py_walk(root: Path, workers: int) -> tuple[float, int]:
    files = sorted(str(p) for p in root.rglob("*.hdf5"))
    start = time.perf_counter()
    with get_context("fork").Pool(workers or os.cpu_count()) as pool:
        datasets = sum(pool.map(walk_one, files, chunksize=16))
    return time.perf_counter() - start, datasets


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000, help="jobs in the generated data_store")
    parser.add_argument("--store", type=Path, help="data_store to use (generated there when missing)")
    parser.add_argument("--workers", type=int, default=0, help="reader processes for the export (0: one per core)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side; the best is kept")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        root = args.store or tmp / "data_store"
        if not root.exists():
            start = time.perf_counter()
            write_example(root, seed=0, jobs_per_project=max(1, args.jobs // PROJECTS))
            print(f"generated {root} in {time.perf_counter() - start:.1f} s")
        size, files = store_size(root)
        time_pipeline(root, tmp / "warm.tar.zst")  # page cache
        export_s = min(time_export(root, tmp / "a.tar.zst", args.workers)[0] for _ in range(args.repeat))
        pipe_s = min(time_pipeline(root, tmp / "p.tar.zst") for _ in range(args.repeat))
        walk_s, datasets = min(time_h5py_walk(root, args.workers) for _ in range(args.repeat))
        archive, tarball = (tmp / "a.tar.zst").stat().st_size, (tmp / "p.tar.zst").stat().st_size
        print(f"data_store: {size / 1e6:.1f} MB in {files} files ({os.cpu_count()} cores)")
        print(f"reportgen export (tar.zst):           {export_s:7.2f} s   {archive / 1e6:8.1f} MB")
        print(f"tar -c | zstd -{ZSTD_LEVEL} -T{ZSTD_THREADS}:               {pipe_s:7.2f} s   {tarball / 1e6:8.1f} MB")
        print(f"h5py open + read every dataset:       {walk_s:7.2f} s   ({datasets} datasets)")
        print(f"time ratio export / pipeline: {export_s / pipe_s:.2f}x (goal <= 1.5x)")
        print(f"time ratio export / h5py walk: {export_s / walk_s:.2f}x; h5py walk / pipeline: {walk_s / pipe_s:.2f}x")
        print(f"size ratio archive / tarball: {archive / tarball:.2f}x (archive / data_store: {archive / size:.3f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
