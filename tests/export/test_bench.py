"""Smoke test of bench/bench_export.py: a handful of jobs, and the ratios it exists to print."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_export.py"


@pytest.mark.skipif(shutil.which("zstd") is None, reason="the bench compares against the zstd CLI")
def test_bench_runs_on_a_few_jobs_and_prints_both_ratios(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH), "--jobs", "3", "--store", str(tmp_path / "store")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    time_ratio = re.search(r"time ratio export / pipeline: (\d+\.\d+)x", done.stdout)
    size_ratio = re.search(r"size ratio archive / tarball: (\d+\.\d+)x", done.stdout)
    assert time_ratio and float(time_ratio.group(1)) > 0, done.stdout
    assert size_ratio and float(size_ratio.group(1)) > 0, done.stdout
