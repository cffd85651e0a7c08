"""Benchmark: legacy -> main_0001 against aiida-core's `verdi archive migrate`, and the 1M-node run.

    .venv/bin/python bench/bench_migrate_main.py                 # 200,000 nodes vs verdi (if installed)
    .venv/bin/python bench/bench_migrate_main.py --nodes 20000   # quick
    .venv/bin/python bench/bench_migrate_main.py --million       # 1,000,000 nodes, tar.zst and zip: peak memory

Each tool runs as a child process; peak memory is its VmHWM polled from
/proc (not ru_maxrss, which carries the parent's peak), every 50 ms: a poll
costs CPU on the same two cores, and reportgen uses both.  The peak disk is
taken in a second run of reportgen, whose time is not shown: the disk poll
walks the work folder and every open file, and timed with it reportgen lost
about 1 s at 200,000 nodes (a 10 ms poll of memory alone cost 0.3-0.7 s).  The input is the
shape of the reference's aiida-core measurement: a 0.10 archive of cloned
Dict nodes, every tenth a CalcJob, and 20,000 repository files.  verdi is
found at $REPORTGEN_VERDI or /tmp/venv-aiida/bin/verdi.  The same is done for the
0.4 archive of the legacy benchmark (``bench_migrate_legacy``), which the
issue names; aiida-core runs its in-memory legacy chain on it first.

**The floor** (0.10 input).  A third process times only what any tool writing
this archive's main_0001 database from Python must do, in one process: inflate
``data.json``, parse it in warm memory (orjson), build each node row with its
attributes and extras dumped and each link resolved by a dict, store them with
``executemany`` into a fresh database of the main_0001 schema, build its
indexes and deflate it on our deflate threads (``floor_seconds``).  No
repository, no legacy steps, no checks, no staging.  ``aiida-core / floor`` is
the most such a one-process tool could be faster than aiida-core here; 5x needs
reportgen within ``(aiida-core / floor) / 5`` of the floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_migrate_legacy import DEFLATE_BODY, reported_seconds, run_program  # noqa: E402
from bench.bench_migrate_legacy import write_archive as write_legacy_04  # noqa: E402
from tests.converters_main.bigarchive import write_big_legacy  # noqa: E402
from tests.converters_main.memory import Measured, measure  # noqa: E402


# The floor's program (module docstring); argv: input zip, level, block, threads (DEFLATE_BODY), database path
FLOOR = DEFLATE_BODY + """
import sqlite3
from converters.main.schema import TABLES, column_names, render_index_ddl, render_schema
db = sys.argv[5]
start = time.perf_counter()
raw = zipfile.ZipFile(sys.argv[1]).read("data.json")
inflated = time.perf_counter()
orjson.loads(raw)  # the first parse pays for fresh memory; a streaming tool reuses its memory
warm = time.perf_counter()
data = orjson.loads(raw)
nodes, attributes, extras, dumps = data["export_data"]["Node"], data["node_attributes"], data["node_extras"], orjson.dumps
rows = [(int(pk), n["uuid"], n["node_type"], n["process_type"], n["label"], n["description"],
         n["ctime"].replace("T", " "), n["mtime"].replace("T", " "), dumps(attributes[pk]).decode(),
         dumps(extras[pk]).decode(), "{}", n["dbcomputer"], n["user"]) for pk, n in nodes.items()]
ids = {n["uuid"]: int(pk) for pk, n in nodes.items()}
links = [(ids[k["input"]], ids[k["output"]], k["label"], k["type"]) for k in data["links_uuid"]]
conn = sqlite3.connect(db, isolation_level=None)
for pragma in ("page_size=4096", "journal_mode=OFF", "synchronous=OFF", "cache_size=-16000"):
    conn.execute("PRAGMA " + pragma)
for statement in render_schema("main_0001"):
    conn.execute(statement)
conn.execute("BEGIN")
conn.executemany(f"INSERT INTO db_dbnode ({', '.join(column_names('db_dbnode'))}) VALUES ({', '.join('?' * 13)})", rows)
conn.executemany("INSERT INTO db_dblink (input_id, output_id, label, type) VALUES (?, ?, ?, ?)", links)
conn.execute("COMMIT")
for table in TABLES:
    for statement in render_index_ddl(table):
        conn.execute(statement)
conn.close()
body = open(db, "rb").read()
with ThreadPoolExecutor(threads) as pool:
    packed = list(pool.map(deflate, range(0, len(body), size)))
done = time.perf_counter()
sys.stderr.write(f"FLOOR {(inflated - start) + (done - warm)}\\n")
"""


def floor_seconds(src: Path, work: Path) -> float:
    """The floor (module docstring), timed inside a fresh process."""
    db = work / "floor.sqlite3"
    db.unlink(missing_ok=True)
    root = str(Path(__file__).resolve().parents[1])  # the program imports the schema
    proc = run_program(FLOOR, src, str(db), env=dict(os.environ, PYTHONPATH=root))
    db.unlink(missing_ok=True)
    return reported_seconds(proc, "FLOOR")


def verdi_path() -> str | None:
    found = os.environ.get("REPORTGEN_VERDI") or "/tmp/venv-aiida/bin/verdi"
    return found if Path(found).exists() else None


POLL = 0.05  # seconds between polls of /proc (module docstring)


def run_reportgen(*args: object, disk_under: Path | None = None) -> Measured:
    return measure([sys.executable, "-m", "reportgen", "archive", *map(str, args)], interval=POLL, disk_under=disk_under)


def run_verdi(verdi: str, src: Path, dst: Path, home: Path) -> Measured:
    env = dict(os.environ, AIIDA_PATH=str(home))
    return measure([verdi, "archive", "migrate", str(src), str(dst)], env=env, interval=POLL)


def timed_then_disk(out: Path, *args: object, disk_under: Path) -> tuple[Measured, Measured]:
    """One run timed (and its memory), then the same run again for its peak disk alone, after
    ``out`` (the first run's output) is removed: replacing it would count it too."""
    timed = run_reportgen(*args)
    out.unlink(missing_ok=True)
    return timed, run_reportgen(*args, disk_under=disk_under)


def row(name: str, m: Measured) -> str:
    status = "ok" if m.code == 0 else f"FAILED rc={m.code}: {m.stderr.strip().splitlines()[-1:]}"
    return f"  {name:<44} {m.seconds:8.2f} s  {m.peak_mib:8.1f} MiB  {status}"


def disk_row(m: Measured, out: Path) -> str:
    """The issue's bound: temporary disk at most the output's size plus 10 %."""
    size = out.stat().st_size / 1e6
    extra = m.peak_disk_mb - size
    return f"  output {size:.1f} MB; disk peak {m.peak_disk_mb:.1f} MB = output + {extra:.1f} MB ({extra / size:.0%} of it)"


def bench_vs_aiida(work: Path, nodes: int, files: int) -> None:
    inputs = {
        "0.10": write_big_legacy(work / "in.aiida", nodes, files=files, version="0.10", fmt="zip"),
        "0.4": work / "in-04.aiida",  # the legacy benchmark's archive (issue: "the archive from the legacy issue")
    }
    write_legacy_04(inputs["0.4"], nodes)
    for version, src in inputs.items():
        print(f"input: {nodes} nodes, {version} zip, {src.stat().st_size / 1e6:.1f} MB")
        ours_dir = work / "ours"
        ours_dir.mkdir(exist_ok=True)
        ours, disk = timed_then_disk(ours_dir / "ours.aiida", "migrate", src, ours_dir / "ours.aiida", "--to", "main_0001", "--force", disk_under=ours_dir)
        print(row("reportgen archive migrate --to main_0001", ours))
        print(disk_row(disk, ours_dir / "ours.aiida"))
        check = run_reportgen("validate", ours_dir / "ours.aiida")
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
        if version == "0.10":
            floor = floor_seconds(src, work)
            print(f"  floor (one process: parse, rows, executemany, indexes, deflate) {floor:.2f} s: "
                  f"reportgen {ours.seconds / floor:.2f}x the floor; aiida-core {theirs.seconds / floor:.1f}x it")


def bench_million(work: Path, nodes: int) -> None:
    for fmt in ("tar.zst", "zip"):
        src = write_big_legacy(work / f"million.{fmt}", nodes, files=20_000, version="0.10", fmt=fmt)
        print(f"input: {nodes} nodes, 0.10 {fmt}, {src.stat().st_size / 1e6:.1f} MB")
        up_dir, down_dir = work / f"up-{fmt}", work / f"down-{fmt}"
        up_dir.mkdir()
        down_dir.mkdir()
        out = up_dir / f"million-{fmt}.aiida"
        up, disk = timed_then_disk(out, "migrate", src, out, "--to", "main_0001", "--force", disk_under=up_dir)
        print(row(f"migrate {fmt} -> main_0001", up))
        print(disk_row(disk, out))
        print(row("validate main_0001 output", run_reportgen("validate", out)))
        print(row("inspect main_0001 output", run_reportgen("inspect", out)))
        down = down_dir / f"million-down.{fmt}"  # a folder per node: AiiDA 1.x's import needs one
        back, disk = timed_then_disk(down, "migrate", out, down, "--to", "0.13", "--format", fmt, "--force", disk_under=down_dir)
        print(row(f"downgrade main_0001 -> 0.13 {fmt}", back))
        print(disk_row(disk, down))
        for path in (src, out, down):
            path.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--million", action="store_true", help="Also run the 1,000,000-node archive (minutes).")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-main-", dir=args.workdir))
    try:
        bench_vs_aiida(work, args.nodes, args.files)
        if args.million:
            bench_million(work, 1_000_000)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
