"""Benchmark of one big job's pages: split into node pages (``jobpage.SPLIT_NODES``) or not.

    python -m bench.bench_big_job_page --nodes 2000 --outputs 2 --browser   # the audit's sp_nodes2000
    python -m bench.bench_big_job_page --nodes 1 --outputs 10000 --browser  # sp_outs10000
    python -m bench.bench_big_job_page --nodes 64 --outputs 1 --unsplit --browser  # one page, as before

Builds a store of one job (``--nodes`` nodes of ``--outputs`` float outputs of 10 stamped
sets, a short log each), builds its site (``--unsplit``: with the split thresholds out of
reach), and prints the build time, the number and the largest of the job's pages and, with
``--browser``, the load time in headless Chromium (file://, to the load event) of the job page
and of its first node page.  The floor is an ordinary small job page: ``--nodes 1 --outputs 1``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from reportgen.site import jobpage
from reportgen.site.build import BuildOptions, build_site


def make_store(root: Path, nodes: int, outputs: int) -> Path:
    from tests.readers.builders import HEADER, Node, Out, metadata, times, write_job, write_log

    rng = np.random.default_rng(0)
    groups = [Node(f"node_{i:05d}", [Out(f"o_{j:05d}", rng.random(10), times(10), units="MHz")
                                     for j in range(outputs)]) for i in range(nodes)]
    store = root / "store"
    write_job(store / "lab" / "j1.hdf5", metadata("lab", "j1"), groups)
    for node in groups:
        write_log(store / "lab" / "j1" / f"{node.name}.log", HEADER.format(node=node.name) + "done\n")
    return store


def load_seconds(pages: list[Path]) -> list[float]:
    from playwright.sync_api import sync_playwright

    seconds = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for page in pages:
            tab = browser.new_page()
            start = time.perf_counter()
            tab.goto(page.resolve().as_uri(), wait_until="load", timeout=600_000)
            seconds.append(round(time.perf_counter() - start, 2))
            tab.close()
        browser.close()
    return seconds


def bench(nodes: int, outputs: int, unsplit: bool, browser: bool) -> dict:
    root = Path(tempfile.mkdtemp(prefix="bench-bigjob-"))
    try:
        store = make_store(root, nodes, outputs)
        if unsplit:
            jobpage.SPLIT_NODES = jobpage.SPLIT_OUTPUTS = 10**9  # the forked workers inherit it
        start = time.perf_counter()
        build_site(store, root / "site", BuildOptions(show_progress=False))
        seconds = time.perf_counter() - start
        pages = sorted((root / "site" / "lab").glob("j1*.html"), key=lambda p: p.stat().st_size)
        pages = [p for p in pages if "params-diff" not in p.name]
        result = {"nodes": nodes, "outputs_per_node": outputs, "split": not unsplit, "build_s": round(seconds, 2),
                  "pages": len(pages), "largest_page_bytes": pages[-1].stat().st_size}
        if browser:
            job = root / "site" / "lab" / "j1.html"
            node = sorted(p for p in pages if "~node-" in p.name)[:1]
            result["load_s"] = dict(zip(["job page", "first node page"], load_seconds([job, *node])))
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=100, help="nodes of the job")
    parser.add_argument("--outputs", type=int, default=2, help="outputs of each node")
    parser.add_argument("--unsplit", action="store_true", help="build the job as one page, however big")
    parser.add_argument("--browser", action="store_true", help="also time the pages in headless Chromium")
    args = parser.parse_args(argv)
    print(json.dumps(bench(args.nodes, args.outputs, args.unsplit, args.browser)))


if __name__ == "__main__":
    main()
