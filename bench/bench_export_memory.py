"""Benchmark: peak memory of `reportgen export` against the size of its largest dataset.

    python -m bench.bench_export_memory                 # datasets of 32, 128 and 512 MiB
    python -m bench.bench_export_memory --mib 64 256    # other sizes
    python -m bench.bench_export_memory --format zip

Each data_store holds one job whose one output is a (N, 512, 1024) float64
dataset (4 MiB per set, written with h5py in slices).  The export runs as a
real CLI process with one reader worker; its peak memory is the kernel's own
count (``ru_maxrss`` of the CLI and of every worker it reaped: the largest of
them).  Printed per size: the peak, the peak over the dataset size (the audit
found about 4x before the export streamed its ``.npy`` files) and the growth
per dataset byte against the smallest size (goal: near 0; the security
reference, section 7 (g), asks for a worker under 512 MiB whatever the input).
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

import numpy as np

ROW = (512, 1024)  # 4 MiB of float64 per set
SET_BYTES = ROW[0] * ROW[1] * 8
STAMP = "2022-06-25T12:52:14.435Z"


def build_values(sets: int, first: int = 0) -> np.ndarray:
    """Sets ``first`` .. ``first + sets - 1``: deterministic, distinct, cheap to compress."""
    base = (np.arange(ROW[0] * ROW[1], dtype=np.float64) % 4099).reshape(ROW)
    return np.stack([base + i for i in range(first, first + sets)]) if sets else np.zeros((0, *ROW))


def write_big_store(root: Path, sets: int) -> Path:
    """One project, one job whose node has one (sets, 512, 1024) float64 output, written in slices."""
    import h5py  # writing only: the readers are the only h5py readers

    (root / "p" / "j1").mkdir(parents=True)
    with h5py.File(root / "p" / "j1.hdf5", "w") as f:
        f.attrs.update({"project": "p", "job_eui": "#/j1", "job_description": "big", "workflow_eui": "",
                        "parameters_eui": "", "creation_timestamp": "2022-06-25T14:41:05+02:00"})
        node = f.create_group("N")
        node.attrs.update(type="T", description="", bin="n.py")
        node.create_dataset("o_time", data=np.array([STAMP] * sets, dtype=h5py.string_dtype()))
        ds = node.create_dataset("o", shape=(sets, *ROW), dtype="f8")
        ds.attrs.update(description="", units="")
        for start in range(0, sets, 4):
            ds[start : start + 4] = build_values(min(4, sets - start), start)
    (root / "p" / "j1" / "N.log").write_text("x\n")
    return root


_WRAPPER = """import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.stderr.write(done.stderr)
"""


def run_measured(*args: object, env: dict[str, str] | None = None) -> tuple[int, int, str]:
    """``python -m reportgen ARGS`` as the one child of a fresh wrapper: (exit code, the largest peak
    RSS in bytes of the CLI and of every process it reaped, i.e. its reader workers; stderr)."""
    done = subprocess.run([sys.executable, "-c", _WRAPPER, sys.executable, "-m", "reportgen", *map(str, args)],
                          capture_output=True, text=True, timeout=1800, check=False, env={**os.environ, "CI": "1", **(env or {})})
    code, kib = map(int, done.stdout.split())
    return code, kib * 1024, done.stderr


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, nargs="+", default=[32, 128, 512], help="dataset sizes in MiB")
    parser.add_argument("--format", default="tar.zst", choices=["zip", "tar.gz", "tar.zst"], help="archive format")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-memory-"))
    try:
        first: tuple[int, int] | None = None
        for mib in sorted(args.mib):
            sets = max(1, mib * 1024**2 // SET_BYTES)
            root = write_big_store(tmp / f"store-{sets}", sets)
            start = time.perf_counter()
            code, peak, err = run_measured("export", root, "-o", tmp / f"a-{sets}.{args.format}", "--workers", "1")
            seconds = time.perf_counter() - start
            if code:
                raise SystemExit(f"export failed ({code}): {err}")
            size = sets * SET_BYTES
            growth = f"{(peak - first[1]) / (size - first[0]):+.3f}" if first and size > first[0] else "  -   "
            print(f"dataset {size / 2**20:6.0f} MiB: peak {peak / 2**20:6.1f} MiB, peak/dataset {peak / size:5.2f}x, "
                  f"growth per dataset byte {growth}, {seconds:5.1f} s ({args.format})", flush=True)
            first = first or (size, peak)
            shutil.rmtree(root)
            (tmp / f"a-{sets}.{args.format}").unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
