"""Benchmark of ``reportgen build``: full, no-change and one-job-changed builds, peak memory.

    python -m bench.bench_site --jobs 2000        # the issue's sizes: 2000 and 10000
    python -m bench.bench_site                     # smoke run (150 jobs)
    python -m bench.bench_site --jobs 500 --store /tmp/stores   # generate once, reuse after

The data_store is the example generator's output, replicated to N jobs with
hard links (writing 10,000 distinct jobs would take longer than the build).
The peer is a pure h5py open-and-walk of the same files (open, every
attribute, every dataset read whole) in a pool of the same size: the build
should be no slower than 3x that.  Peak memory is VmHWM of the build process
(from /proc) and the largest worker's max RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

RUNNER = """
import json, resource, sys, time
from pathlib import Path
from reportgen.site.build import BuildOptions, build_site
ready = resource.getrusage(resource.RUSAGE_SELF)  # CPU of the imports is not the build's
start = time.perf_counter()
report = build_site(Path(sys.argv[1]), Path(sys.argv[2]), BuildOptions(workers=int(sys.argv[3]), full=sys.argv[4] == "full", show_progress=False))
elapsed = time.perf_counter() - start
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime - ready.ru_utime - ready.ru_stime + children.ru_utime + children.ru_stime
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "built": report.built, "jobs": report.jobs, "vmhwm_kb": hwm,
                  "worker_maxrss_kb": children.ru_maxrss}))
"""


def make_store(root: Path, jobs: int) -> Path:
    """An example data_store with ``jobs`` jobs: a small generated base, replicated by hard links."""
    from reportgen.example import write_example

    store = root / "data_store"
    write_example(store, seed=0, jobs_per_project=max(4, min(12, jobs // 3)))
    projects = sorted(p for p in store.iterdir() if p.is_dir() and p.name != "git")
    bases = {p: sorted(f.stem for f in p.glob("*.hdf5")) for p in projects}
    have = sum(len(b) for b in bases.values())
    for number in range(jobs - have):
        project = projects[number % len(projects)]
        base = bases[project][number % len(bases[project])]
        _link_job(project, base, f"r{number:06d}")
    return store


def reuse_store(folder: Path, jobs: int) -> Path:
    """``folder/<jobs>/data_store``, generated on first use and kept for the next runs."""
    store = folder / str(jobs) / "data_store"
    if not store.is_dir():
        store.parent.mkdir(parents=True, exist_ok=True)
        make_store(store.parent, jobs)
    return store


def _link_job(project: Path, base: str, new: str) -> None:
    os.link(project / f"{base}.hdf5", project / f"{new}.hdf5")
    if (project / base).is_dir():
        (project / new).mkdir()
        for log in (project / base).iterdir():
            os.link(log, project / new / log.name)


def _walk_file(path: str) -> int:
    import h5py

    count = 0
    with h5py.File(path, "r", locking=False) as f:
        dict(f.attrs)

        def visit(name: str, obj: object) -> None:
            nonlocal count
            dict(obj.attrs)  # type: ignore[attr-defined]
            if isinstance(obj, h5py.Dataset):
                obj[()]
                count += 1

        f.visititems(visit)
    return count


def time_h5py_walk(store: Path, workers: int) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all workers) of the walk."""
    import resource

    files = sorted(str(p) for p in store.rglob("*.hdf5"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with get_context("fork").Pool(workers) as pool:
        list(pool.imap_unordered(_walk_file, files, chunksize=32))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def run_build(store: Path, site: Path, workers: int, full: bool) -> dict:
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(store), str(site), str(workers), "full" if full else "inc"],
                          capture_output=True, text=True, check=True, env=dict(os.environ, CI="1"))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def change_one_job(store: Path) -> None:
    """Give one job its own copy (it may be a hard link) with a new mtime."""
    job = sorted(store.glob("*/r*.hdf5"))[0] if list(store.glob("*/r*.hdf5")) else sorted(store.glob("*/*.hdf5"))[0]
    copy = job.with_suffix(".tmp")
    shutil.copyfile(job, copy)
    os.replace(copy, job)
    os.utime(job, ns=(time.time_ns(), time.time_ns()))


def bench(jobs: int, workers: int, keep: Path | None, reuse: Path | None = None, repeat: int = 1) -> dict:
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench-site-"))
    try:
        t = time.perf_counter()
        store = reuse_store(reuse, jobs) if reuse else make_store(root, jobs)
        made = time.perf_counter() - t
        walked = [time_h5py_walk(store, workers)]
        fulls = []
        for number in range(repeat):  # each build into its own folder, all kept to the end (see main's help)
            fulls.append(run_build(store, root / f"site-{number}", workers, full=True))
            walked.append(time_h5py_walk(store, workers))  # between builds: the machine is shared
        full = min(fulls, key=lambda run: run["seconds"])
        walks = [w for w, _ in walked]
        walk, walk_cpu = min(walks), min(c for _, c in walked)
        site = root / "site-0"
        none = run_build(store, site, workers, full=False)
        change_one_job(store)
        one = run_build(store, site, workers, full=False)
        return {
            "jobs": full["jobs"], "workers": workers, "store_seconds": round(made, 1),
            "h5py_walk_s": round(walk, 2), "h5py_walks_s": [round(w, 2) for w in walks],
            "full_build_s": round(full["seconds"], 2), "full_builds_s": [round(f["seconds"], 2) for f in fulls],
            "jobs_per_s": round(full["jobs"] / full["seconds"], 1),
            "ratio_to_h5py_walk": round(full["seconds"] / walk, 2),
            "ratio_median": round(statistics.median(f["seconds"] for f in fulls) / statistics.median(walks), 2),
            "h5py_walk_cpu_s": round(walk_cpu, 2), "full_build_cpu_s": round(min(f["cpu_seconds"] for f in fulls), 2),
            "cpu_ratio": round(min(f["cpu_seconds"] for f in fulls) / walk_cpu, 2),
            "site_files_per_job": round(sum(1 for _ in site.rglob("*")) / full["jobs"], 1),
            "no_change_s": round(none["seconds"], 3), "no_change_built": none["built"],
            "one_changed_s": round(one["seconds"], 2), "one_changed_built": one["built"],
            "build_vmhwm_mb": round(max(full["vmhwm_kb"], none["vmhwm_kb"], one["vmhwm_kb"]) / 1024, 1),
            "worker_maxrss_mb": round(full["worker_maxrss_kb"] / 1024, 1),
        }
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="+", default=[150], help="data_store sizes (e.g. 2000 10000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for build and walk")
    parser.add_argument("--keep", type=Path, help="build under this folder and keep it")
    parser.add_argument("--store", type=Path, help="keep generated data_stores here and reuse them on later runs")
    parser.add_argument("--repeat", type=int, default=3,
                        help="full builds per size; the best is compared with the best walk, and the medians too. "
                             "Why several: creating files is most of what a build asks of the kernel, and on ext4 "
                             "without a journal each new inode skips past every inode freed in the last minutes, "
                             "so one build's time swings by 2x with what the machine deleted just before")
    args = parser.parse_args(argv)
    for jobs in args.jobs:
        keep = args.keep / str(jobs) if args.keep else None
        print(json.dumps(bench(jobs, args.workers, keep, args.store, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
