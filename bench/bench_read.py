"""Benchmark of ``read_data_store`` against a pure-h5py open-and-walk of the same files.

    python -m bench.bench_read --jobs 1000          # the issue's figure
    python -m bench.bench_read                      # smoke run (60 jobs)
    python -m bench.bench_read --store /tmp/ds      # reuse (or keep) the generated store

The store is the example generator's faithful output (``write_example``),
``--jobs`` jobs over its three projects.  The peer opens every HDF5 file with
h5py, reads every attribute and every dataset whole (``ds[()]``), in a pool
of the same number of processes.  ``read_data_store`` does more (logs, git
commits with their files, checks) but reads only bounded previews; the ratio
printed is reportgen's time over the peer's, so below 1.0 means faster.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path


def walk_file(path: str) -> int:
    """The peer: open, every attribute, every dataset read whole."""
    import h5py

    count = 0
    with h5py.File(path, "r", locking=False) as f:
        dict(f.attrs)

        def visit(name, obj):
            nonlocal count
            dict(obj.attrs)
            if isinstance(obj, h5py.Dataset):
                obj[()]
            count += 1

        f.visititems(visit)
    return count


def run_peer(files: list[str], workers: int) -> float:
    start = time.perf_counter()
    with get_context("fork").Pool(workers) as pool:
        pool.map(walk_file, files, chunksize=max(1, len(files) // (workers * 8)))
    return time.perf_counter() - start


def run_reportgen(root: Path, workers: int) -> tuple[float, int]:
    from reportgen.readers.datastore import read_data_store

    start = time.perf_counter()
    store = read_data_store(root, workers=workers)
    return time.perf_counter() - start, sum(len(p.jobs) for p in store.projects)


def make_store(root: Path, jobs: int) -> Path:
    from reportgen.example import write_example

    if not root.exists():
        started = time.perf_counter()
        write_example(root, seed=0, jobs_per_project=math.ceil(jobs / 3))
        print(f"generated {root} in {time.perf_counter() - started:.1f} s")
    return root


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_read", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=60, help="jobs to generate (default 60; the issue uses 1000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for both sides")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the best is reported")
    parser.add_argument("--store", type=Path, help="where to write (or find) the generated data_store")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        root = make_store(args.store or Path(tmp) / "data_store", args.jobs)
        files = sorted(str(p) for p in root.glob("*/*.hdf5"))
        peer = min(run_peer(files, args.workers) for _ in range(args.repeat))
        ours, jobs = min(run_reportgen(root, args.workers) for _ in range(args.repeat))
    print(f"jobs: {jobs} ({len(files)} HDF5 files), workers: {args.workers}, best of {args.repeat}")
    print(f"h5py open+walk+read-all: {peer:.3f} s  ({len(files) / peer:.0f} files/s)")
    print(f"read_data_store:         {ours:.3f} s  ({jobs / ours:.0f} jobs/s, logs and git included)")
    print(f"ratio read_data_store / h5py walk: {ours / peer:.2f}")


if __name__ == "__main__":
    main()
