"""Benchmark of ``reportgen build --precompress gz,zst``: what the siblings cost and save.

    python -m bench.bench_precompress --jobs 300          # the default
    python -m bench.bench_precompress --jobs 2000 --store /tmp/stores   # generate once, reuse after

Full builds of a generated data_store (bench_site's generator) without and with
``--precompress gz,zst``, alternated, the fastest of each kept: the extra time as a ratio of the
plain build, and the siblings' bytes as a ratio of their originals.  The peer is what a
deployment script would do instead: ``gzip -6 -k -r -n`` over the plain site (every file,
the binary ones too, one process), timed as a ratio of the plain build; and ``zstd -9 -r -k``
when the zstd CLI is installed.  The budget: a nightly build must not double (ratio < 2).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.bench_site import make_store, reuse_store

SIBLINGS = (".gz", ".zst")


def cpu_seconds() -> float:
    """CPU of this process (the compressing threads) and its finished children (the page workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_build(store: Path, site: Path, precompress: tuple[str, ...]) -> tuple[float, float]:
    """Wall and CPU seconds of a full build (CPU: not skewed by the other loads of a shared machine)."""
    from reportgen.site.build import BuildOptions, build_site

    shutil.rmtree(site, ignore_errors=True)
    start, cpu = time.perf_counter(), cpu_seconds()
    build_site(store, site, BuildOptions(full=True, show_progress=False, precompress=precompress))
    return time.perf_counter() - start, cpu_seconds() - cpu


def byte_ratios(site: Path) -> dict[str, tuple[int, int]]:
    """Per format: (bytes of the siblings, bytes of their originals)."""
    sums = {suffix: [0, 0] for suffix in SIBLINGS}
    for path in site.rglob("*"):
        if path.suffix in SIBLINGS:
            sums[path.suffix][0] += path.stat().st_size
            sums[path.suffix][1] += path.with_suffix("").stat().st_size
    return {suffix: (a, b) for suffix, (a, b) in sums.items()}


def time_peer(site: Path, command: list[str]) -> float:
    """Seconds of ``command`` over a copy of the plain site (the copy is not timed)."""
    copy = site.with_name(site.name + "-peer")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy)
    start = time.perf_counter()
    subprocess.run([*command, str(copy)], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    shutil.rmtree(copy)
    return seconds


def bench(jobs: int, reuse: Path | None, repeat: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-precompress-"))
    try:
        store = reuse_store(reuse, jobs) if reuse else make_store(root, jobs)
        plain, packed = [], []
        for _ in range(repeat):  # alternated: the machine is shared, its load drifts
            plain.append(time_build(store, root / "plain", ()))
            packed.append(time_build(store, root / "packed", ("gz", "zst")))
        (base, base_cpu), (best, best_cpu) = min(plain), min(packed)
        extra = best - base
        print(f"python -m bench.bench_precompress --jobs {jobs}")
        print(f"build without: {base:.2f} s ({base_cpu:.2f} s CPU), with --precompress gz,zst: {best:.2f} s "
              f"({best_cpu:.2f} s CPU) -> extra time ratio {extra / base:.2f}, extra CPU ratio "
              f"{(best_cpu - base_cpu) / base_cpu:.2f} (budget < 1.0)")
        total = sum(p.stat().st_size for p in (root / "plain").rglob("*") if p.is_file())
        for suffix, (small, big) in byte_ratios(root / "packed").items():
            print(f"{suffix}: {small / 1e6:.1f} MB of {big / 1e6:.1f} MB compressed -> ratio {small / big:.3f} "
                  f"(site {total / 1e6:.1f} MB)")
        peers = [["gzip", "-6", "-k", "-r", "-n"]] + ([["zstd", "-9", "-r", "-k", "-q"]] if shutil.which("zstd") else [])
        peer_total = 0.0
        for command in peers:
            seconds = time_peer(root / "plain", command)
            peer_total += seconds
            print(f"peer `{' '.join(command)} SITE`: {seconds:.2f} s -> {seconds / base:.2f} of the plain build")
        print(f"ours (both formats, text files only, {len(peers)} peers' work): {extra:.2f} s "
              f"-> {extra / peer_total:.2f} of the peers' time together")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=300, help="jobs in the generated data_store")
    parser.add_argument("--store", type=Path, default=None, help="folder to keep generated data_stores in, reused")
    parser.add_argument("--repeat", type=int, default=2, help="builds of each kind; the fastest counts")
    args = parser.parse_args(argv)
    bench(args.jobs, args.store, args.repeat)


if __name__ == "__main__":
    main()
