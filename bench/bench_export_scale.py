"""Benchmark: peak memory of `reportgen export` and `reportgen restore` against the number of jobs.

    python -m bench.bench_export_scale                       # 250 and 1,000 jobs
    python -m bench.bench_export_scale --jobs 2000 8000      # the scale audit's sizes
    python -m bench.bench_export_scale --format zip

Each data_store is one project of N copies of one job of the example
generator (`reportgen example --jobs 1`: an HDF5 file of six nodes, one with
a PNG ``final_plot``, and six log files, about 110 KB), each copy with its own
``@job_eui``.  Export and restore run as real CLI processes; their peak
memory is the kernel's own count (``ru_maxrss`` of the CLI and of every
worker it reaped: the largest of them).  Printed per size: the peaks, then,
between the smallest and the largest size, the growth of each peak per 1,000
jobs and the ratio of the peaks against the ratio of the job counts (goal: a
peak ratio near 1, whatever the job ratio; the scale audit measured about
300 KB per job, so 300 MB per 1,000 jobs, before data.json was streamed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py

from bench.bench_export_memory import run_measured

PROJECT = "default_project"


def write_template(folder: Path) -> Path:
    """A one-job-per-project example data_store (the job copied by ``write_scaled_store``)."""
    subprocess.run([sys.executable, "-m", "reportgen", "example", str(folder), "--jobs", "1"], check=True,
                   capture_output=True, env={**os.environ, "CI": "1"})
    return folder


def write_scaled_store(template: Path, out: Path, jobs: int) -> Path:
    """``out``: project ``default_project`` of ``template`` with its one job copied ``jobs`` times
    (byte copies, ``@job_eui`` rewritten with h5py), and its git repositories."""
    source = template / PROJECT
    hdf5 = next(source.glob("*.hdf5"))
    logs = {log.name: log.read_bytes() for log in (source / hdf5.stem).iterdir()}
    shutil.copytree(template / "git" / PROJECT, out / "git" / PROJECT, symlinks=True)
    folder = out / PROJECT
    folder.mkdir(parents=True)
    for i in range(1, jobs + 1):
        job = folder / f"j{i}.hdf5"
        shutil.copyfile(hdf5, job)
        with h5py.File(job, "r+") as fh:
            fh.attrs["job_eui"] = f"#/j{i}"
        (folder / f"j{i}").mkdir()
        for name, content in logs.items():
            (folder / f"j{i}" / name).write_bytes(content)
    return out


def measure(store: Path, work: Path, fmt: str = "tar.zst", workers: int = 2) -> tuple[int, int, float]:
    """(export peak, restore peak, seconds) in bytes for ``store``; raises SystemExit if either fails."""
    archive = work / f"{store.name}.{fmt}"
    start = time.perf_counter()
    code, export_peak, err = run_measured("export", store, "-o", archive, "--workers", workers)
    if code:
        raise SystemExit(f"export failed ({code}): {err}")
    code, restore_peak, err = run_measured("restore", archive, "-o", work / f"{store.name}-restored")
    if code:
        raise SystemExit(f"restore failed ({code}): {err}")
    shutil.rmtree(work / f"{store.name}-restored")
    archive.unlink()
    return export_peak, restore_peak, time.perf_counter() - start


def render_growth(what: str, sizes: tuple[int, int], peaks: tuple[int, int]) -> str:
    per_1000 = (peaks[1] - peaks[0]) / (sizes[1] - sizes[0]) * 1000
    return (f"{what}: growth {per_1000 / 2**20:+.1f} MiB per 1,000 jobs; peak ratio {peaks[1] / peaks[0]:.2f}x "
            f"for {sizes[1] / sizes[0]:.1f}x the jobs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="+", default=[250, 1000], help="store sizes in jobs")
    parser.add_argument("--format", default="tar.zst", choices=["zip", "tar.gz", "tar.zst"], help="archive format")
    parser.add_argument("--workers", type=int, default=2, help="export's reader processes")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-scale-"))
    try:
        template = write_template(tmp / "template")
        results: list[tuple[int, int, int]] = []
        for jobs in sorted(set(args.jobs)):
            store = write_scaled_store(template, tmp / f"store-{jobs}", jobs)
            export_peak, restore_peak, seconds = measure(store, tmp, args.format, args.workers)
            shutil.rmtree(store)
            results.append((jobs, export_peak, restore_peak))
            print(f"{jobs:6d} jobs: export peak {export_peak / 2**20:7.1f} MiB, restore peak "
                  f"{restore_peak / 2**20:7.1f} MiB, {seconds:6.1f} s ({args.format})", flush=True)
        if len(results) > 1:
            (n0, e0, r0), (n1, e1, r1) = results[0], results[-1]
            print(render_growth("export", (n0, n1), (e0, e1)))
            print(render_growth("restore", (n0, n1), (r0, r1)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
