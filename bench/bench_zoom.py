"""Benchmark of zoom detail (``reportgen/site/zoom.py``): what the zoom files cost a build.

    python -m bench.bench_zoom                       # 4 jobs, each one 1,000,000-point and one 200,000-point output
    python -m bench.bench_zoom --jobs 2 --points 300000 100000

Builds a store of ``--jobs`` jobs whose one node holds an output of each of ``--points`` (float64,
stamped: the x a page draws is epoch ms, the costliest kind), builds its site twice, serially,
with zoom files and with the zoom step replaced by what it leaves the figures without one, and
prints the build time and the bytes of the site and of its zoom files, as ratios to the build
without zoom (best of ``--repeat`` builds each).  The bytes a page loads at first do not change:
the zoom file is only loaded by a zoom.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from reportgen.site import jobpage
from reportgen.site.build import BuildOptions, build_site


def make_store(root: Path, jobs: int, points: list[int]) -> Path:
    from tests.readers.builders import Node, Out, simple_job, times

    rng = np.random.default_rng(0)
    for j in range(jobs):
        outputs = [Out(f"trace_{n}", np.cumsum(rng.normal(size=n)), times(n)) for n in points]
        simple_job(root / "store", "lab", f"j{j}", [Node("qpu", outputs)])
    return root / "store"


def _without_zoom(job, datas, figures, job_dir, job_slug):  # jobpage.write_zoom_files' signature
    for figure in figures.values():
        if figure is not None:
            figure.pop("series", None)
    return figures


def _build(store: Path, site: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        shutil.rmtree(site, ignore_errors=True)
        start = time.perf_counter()
        build_site(store, site, BuildOptions(workers=1, show_progress=False))
        best = min(best, time.perf_counter() - start)
    return best


def _bytes(site: Path, pattern: str = "*") -> int:
    return sum(p.stat().st_size for p in site.rglob(pattern) if p.is_file())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--points", type=int, nargs="+", default=[1_000_000, 200_000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store = make_store(root, args.jobs, args.points)
        with_zoom = _build(store, root / "zoom", args.repeat)
        original = jobpage.write_zoom_files
        jobpage.write_zoom_files = _without_zoom
        try:
            plain = _build(store, root / "plain", args.repeat)
        finally:
            jobpage.write_zoom_files = original
        zoom_bytes, site_bytes, plain_bytes = _bytes(root / "zoom", "*~zoom.js"), _bytes(root / "zoom"), _bytes(root / "plain")
        page = root / "zoom" / "lab" / "j0.html"
        print(f"{args.jobs} jobs of {', '.join(f'{n:,}' for n in args.points)} points: build {with_zoom:.2f} s with zoom,"
              f" {plain:.2f} s without ({with_zoom / plain:.2f}x)")
        print(f"site {site_bytes / 1e6:.1f} MB with zoom, {plain_bytes / 1e6:.1f} MB without ({site_bytes / plain_bytes:.2f}x);"
              f" zoom files {zoom_bytes / 1e6:.1f} MB ({zoom_bytes / args.jobs / 1e6:.2f} MB per job);"
              f" job page {page.stat().st_size / 1e3:.0f} kB vs {(root / 'plain' / 'lab' / 'j0.html').stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
