"""Benchmark of the incremental build's check of the site (``manifest.check_site``).

    python -m bench.bench_site_check --jobs 3000 --store /tmp/stores   # generate the store once
    python -m bench.bench_site_check                                   # smoke run (150 jobs)

One full build, then no-change incremental builds, each timed in a fresh process:
``no_change_s`` (every file ``lstat``-ed, the stats match the records kept in SITE.lock),
``lost_records_s`` (SITE.lock deleted: every file hashed once, as after restoring the site
from a cache), ``one_page_edited_s`` (one job page edited by hand: that job rebuilt).
The physical floor is ``lstat_only_s``: a bare loop of ``os.lstat`` over the same files.
Run it with ``PYTHONPATH`` at a checkout without the check for the "before" numbers
(those builds trust the site: the lost-records and edited-page lines then rebuild nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.bench_site import make_store, reuse_store, run_build


def time_lstat(site: Path) -> tuple[float, int]:
    names = [os.path.join(root, name) for root, _, files in os.walk(site) for name in files]
    start = time.perf_counter()
    for name in names:
        os.lstat(name)
    return time.perf_counter() - start, len(names)


def bench(jobs: int, workers: int, reuse: Path | None, repeat: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="bench-check-"))
    try:
        store = reuse_store(reuse, jobs) if reuse else make_store(root, jobs)
        site = root / "site"
        full = run_build(store, site, workers, full=True)
        run_build(store, site, workers, full=False)  # settles the page cache and the records
        none = min(run_build(store, site, workers, full=False)["seconds"] for _ in range(repeat))
        lost = []
        for _ in range(repeat):
            site.with_name("site.lock").unlink(missing_ok=True)
            lost.append(run_build(store, site, workers, full=False)["seconds"])
        page = next(p for p in sorted((site / "default_project").glob("*.html")) if "~" not in p.name
                    and p.name != "index.html")
        page.write_text(page.read_text() + "<!-- edited -->")
        edited = run_build(store, site, workers, full=False)
        floor, files = time_lstat(site)
        return {"jobs": full["jobs"], "site_files": files, "full_build_s": round(full["seconds"], 2),
                "no_change_s": round(none, 3), "lost_records_s": round(min(lost), 3),
                "one_page_edited_s": round(edited["seconds"], 3), "one_page_edited_built": edited["built"],
                "lstat_only_s": round(floor, 3)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="+", default=[150], help="data_store sizes (e.g. 3000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the full build")
    parser.add_argument("--store", type=Path, help="keep generated data_stores here and reuse them on later runs")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each no-change build; the best is shown")
    args = parser.parse_args(argv)
    for jobs in args.jobs:
        print(json.dumps(bench(jobs, args.workers, args.store, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
