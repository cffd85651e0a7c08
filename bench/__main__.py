"""``python -m bench``: run every ``bench/bench_*.py`` at a small size (a few minutes in all).

A module's own defaults are the sizes its issue names (200,000 nodes, 2,000 jobs); run it
alone for those, e.g. ``python -m bench.bench_migrate_main``."""

from __future__ import annotations

import importlib
import pkgutil

import bench

SMALL = {  # the arguments of the short run, per module (the others are small by default)
    "bench_export": ["--jobs", "200"],
    "bench_export_scale": ["--jobs", "100", "400"],
    "bench_migrate_main": ["--nodes", "20000", "--files", "2000"],
}


def main() -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")):
        print(f"== {module} {' '.join(SMALL.get(module, []))}".rstrip(), flush=True)
        importlib.import_module(f"bench.{module}").main(SMALL.get(module, []))


if __name__ == "__main__":
    main()
