"""Benchmark: `build` and `export` of a job whose one output has N sets (N `_time` stamps), against h5py.

    python -m bench.bench_times                       # 10^6 sets
    python -m bench.bench_times --sets 1e6 1e7        # and 10^7 (about 2 minutes more)
    python -m bench.bench_times --code /tmp/old-copy  # the same runs with another copy of reportgen (before/after)

The data_store holds one job whose node has one float64 output of N scalar sets
and its `<name>_time` of N vlen UTF-8 stamps ("YYYY-MM-DDTHH:MM:SS.mmmZ", as
Entropy writes them).  The floor is h5py reading every dataset of the job file
whole (CPU of the reads alone, in a fresh process).  `build` and `export`
(tar.zst) run as real CLI processes with one worker; their CPU is user + sys of
the CLI and of every worker it reaped, start-up included.  Printed per N: each
step's CPU, its ratio to the floor, and its peak RSS (the largest process).
Scale audit finding 2 measured, before the time stamps were vectorised: build
5.4 s (15x the floor) at 10^6 sets; export 79.6 s (18x) at 10^7.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_WRAPPER = """import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(done.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
sys.stderr.write(done.stderr[-2000:])
"""

_FLOOR = """import sys, time, h5py
start = time.process_time()
with h5py.File(sys.argv[1], "r") as f:
    found = []
    f.visititems(lambda name, item: found.append(item[()]) if isinstance(item, h5py.Dataset) else None)
print(time.process_time() - start)
"""


def write_store(root: Path, sets: int) -> Path:
    """One project, one job, one node with one output of ``sets`` float64 sets and their stamps."""
    import h5py  # writing only: the readers are the only h5py readers

    (root / "p" / "j1").mkdir(parents=True)
    base = np.datetime64("2023-01-01T00:00:00.000", "ms")
    with h5py.File(root / "p" / "j1.hdf5", "w") as f:
        f.attrs.update({"project": "p", "job_eui": "#/j1", "job_description": "a monitor", "workflow_eui": "",
                        "parameters_eui": "", "creation_timestamp": "2023-01-02T10:00:00+02:00"})
        node = f.create_group("N")
        node.attrs.update(type="T", description="", bin="n.py")
        stamps = node.create_dataset("signal_time", shape=(sets,), dtype=h5py.string_dtype())
        for start in range(0, sets, 10**6):  # in slices: 10^7 Python strings at once would be GBs
            moments = base + np.arange(start, min(sets, start + 10**6)).astype("timedelta64[ms]") * 7
            stamps[start : start + len(moments)] = np.char.add(np.datetime_as_string(moments, unit="ms"), "Z").astype(object)
        ds = node.create_dataset("signal", data=np.cumsum(np.random.default_rng(0).standard_normal(sets)))
        ds.attrs.update(description="a signal", units="V")
    (root / "p" / "j1" / "N.log").write_text("done\n")
    return root


def run_measured(args: list[object], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """(CPU seconds, peak RSS in bytes) of ``python -m reportgen ARGS`` and the workers it reaped.

    ``cwd`` is a folder without a ``reportgen`` package: ``-m`` puts the working folder first on
    ``sys.path``, before ``--code``."""
    done = subprocess.run([sys.executable, "-c", _WRAPPER, sys.executable, "-m", "reportgen", *map(str, args)],
                          capture_output=True, text=True, timeout=3600, check=False, env=env, cwd=cwd)
    code, cpu, kib = done.stdout.split()
    if int(code):
        raise SystemExit(f"reportgen {args[0]} failed ({code}): {done.stderr}")
    return float(cpu), int(kib) * 1024


def floor_cpu(path: Path, env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-c", _FLOOR, str(path)], capture_output=True, text=True, check=True, env=env)
    return float(done.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", type=float, nargs="+", default=[1e6], help="numbers of sets (1e6 1e7)")
    parser.add_argument("--code", type=Path, help="run this copy of reportgen (put first on PYTHONPATH)")
    args = parser.parse_args(argv)
    env = {**os.environ, "CI": "1"}
    if args.code:
        env["PYTHONPATH"] = str(args.code)
    tmp = Path(tempfile.mkdtemp(prefix="bench-times-"))
    try:
        for sets in map(int, args.sets):
            root = write_store(tmp / f"store-{sets}", sets)
            floor = floor_cpu(root / "p" / "j1.hdf5", env)
            build = run_measured(["build", root, "-o", tmp / f"site-{sets}", "--workers", "1"], env, tmp)
            export = run_measured(["export", root, "-o", tmp / f"a-{sets}.tar.zst", "--workers", "1"], env, tmp)
            print(f"{sets:>10,} sets: h5py floor {floor:6.2f} s CPU | "
                  f"build {build[0]:6.2f} s = {build[0] / floor:5.1f}x, peak {build[1] / 2**20:6.0f} MiB | "
                  f"export {export[0]:6.2f} s = {export[0] / floor:5.1f}x, peak {export[1] / 2**20:6.0f} MiB", flush=True)
            shutil.rmtree(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
