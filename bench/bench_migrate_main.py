"""Benchmark: legacy -> main_0001 against aiida-core's `verdi archive migrate`, and the 1M-node run.

    .venv/bin/python bench/bench_migrate_main.py                 # 200,000 nodes vs verdi (if installed)
    .venv/bin/python bench/bench_migrate_main.py --nodes 20000   # quick
    .venv/bin/python bench/bench_migrate_main.py --million       # 1,000,000 nodes, tar.zst and zip: peak memory

Each tool runs as a child process; peak memory is its VmHWM polled from
/proc (not ru_maxrss, which carries the parent's peak).  The input is the
shape of the reference's aiida-core measurement: a 0.10 archive of cloned
Dict nodes, every tenth a CalcJob, and 20,000 repository files.  verdi is
found at $REPORTGEN_VERDI or /tmp/venv-aiida/bin/verdi.  The same is done for the
0.4 archive of the legacy benchmark (``bench_migrate_legacy``), which the
issue names; aiida-core runs its in-memory legacy chain on it first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_migrate_legacy import write_archive as write_legacy_04  # noqa: E402
from tests.converters_main.bigarchive import write_big_legacy  # noqa: E402
from tests.converters_main.memory import Measured, measure  # noqa: E402


def verdi_path() -> str | None:
    found = os.environ.get("REPORTGEN_VERDI") or "/tmp/venv-aiida/bin/verdi"
    return found if Path(found).exists() else None


def run_reportgen(*args: object) -> Measured:
    return measure([sys.executable, "-m", "reportgen", "archive", *map(str, args)])


def run_verdi(verdi: str, src: Path, dst: Path, home: Path) -> Measured:
    env = dict(os.environ, AIIDA_PATH=str(home))
    return measure([verdi, "archive", "migrate", str(src), str(dst)], env=env)


def row(name: str, m: Measured) -> str:
    status = "ok" if m.code == 0 else f"FAILED rc={m.code}: {m.stderr.strip().splitlines()[-1:]}"
    return f"  {name:<44} {m.seconds:8.2f} s  {m.peak_mib:8.1f} MiB  {status}"


def bench_vs_aiida(work: Path, nodes: int, files: int) -> None:
    inputs = {
        "0.10": write_big_legacy(work / "in.aiida", nodes, files=files, version="0.10", fmt="zip"),
        "0.4": work / "in-04.aiida",  # the legacy benchmark's archive (issue: "the archive from the legacy issue")
    }
    write_legacy_04(inputs["0.4"], nodes)
    for version, src in inputs.items():
        print(f"input: {nodes} nodes, {version} zip, {src.stat().st_size / 1e6:.1f} MB")
        ours = run_reportgen("migrate", src, work / "ours.aiida", "--to", "main_0001", "--force")
        print(row("reportgen archive migrate --to main_0001", ours))
        check = run_reportgen("validate", work / "ours.aiida")
        print(row("reportgen archive validate (output)", check))
        verdi = verdi_path()
        if verdi is None:
            print("  verdi not found: set REPORTGEN_VERDI or install aiida-core into /tmp/venv-aiida")
            continue
        theirs = run_verdi(verdi, src, work / f"theirs-{version}.aiida", work / "aiida-home")
        print(row("verdi archive migrate (aiida-core)", theirs))
        if ours.code == 0 and theirs.code == 0:
            print(f"  speed-up {theirs.seconds / ours.seconds:.2f}x (goal >= 5x); "
                  f"memory {ours.peak_mib / theirs.peak_mib:.2f} of aiida-core's (goal <= 0.25)")  # fmt: skip


def bench_million(work: Path, nodes: int) -> None:
    for fmt in ("tar.zst", "zip"):
        src = write_big_legacy(work / f"million.{fmt}", nodes, files=20_000, version="0.10", fmt=fmt)
        print(f"input: {nodes} nodes, 0.10 {fmt}, {src.stat().st_size / 1e6:.1f} MB")
        out = work / f"million-{fmt}.aiida"
        print(row(f"migrate {fmt} -> main_0001", run_reportgen("migrate", src, out, "--to", "main_0001")))
        print(row("validate main_0001 output", run_reportgen("validate", out)))
        print(row("inspect main_0001 output", run_reportgen("inspect", out)))
        print(f"  output {out.stat().st_size / 1e6:.1f} MB")
        down = work / f"million-down.{fmt}"  # a folder per node: AiiDA 1.x's import needs one
        print(row(f"downgrade main_0001 -> 0.13 {fmt}", run_reportgen("migrate", out, down, "--to", "0.13", "--format", fmt)))
        print(f"  output {down.stat().st_size / 1e6:.1f} MB")
        for path in (src, out, down):
            path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--million", action="store_true", help="Also run the 1,000,000-node archive (minutes).")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-main-", dir=args.workdir))
    try:
        bench_vs_aiida(work, args.nodes, args.files)
        if args.million:
            bench_million(work, 1_000_000)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
