"""Benchmark: migrate generated legacy 0.4 archives to 0.13, reportgen against aiida-core.

    python -m bench.bench_migrate_legacy --nodes 20000 --nodes 200000

For each size a 0.4 zip is generated (Dict nodes with attributes and extras,
each linked into one of a few CalcJobs, create links out, 20,000 repository
files), then migrated to 0.13 by

- reportgen (``converters.migrate`` in a fresh interpreter), and
- ``verdi archive migrate --version 0.13`` when aiida-core is installed
  (``/tmp/venv-aiida/bin/verdi`` or ``$REPORTGEN_VERDI``),

each in its own process.  Wall time is measured around the process; peak
memory is the process's own ``VmHWM`` read from ``/proc/self/status`` at exit
(``ru_maxrss`` of a child inherits the parent's peak, see the security
reference section 6).  Ratios are aiida-core / reportgen.

**The floor.**  A third process times only what every migration of the archive
must do with its ``data.json``, and nothing else: inflate it, parse it (orjson,
garbage collector off, in warm memory: the first parse, which pays for fresh
pages, is not counted, since a streaming tool reuses its memory), dump it back,
and deflate it at our level on our deflate threads (``floor_seconds``).  No
interpreter start, no repository, no checks, no step, no output file.  It is a
lower bound on the time of any tool that makes Python objects of every row with
the fastest parser at hand (the performance reference's "warm memory" floor of
about 9 ms per MB), so ``aiida-core / floor`` is the most such a tool could be
faster than aiida-core on this input, and ``reportgen / floor`` is what
reportgen spends on top of it.

**The bytes prototype.**  A tool that never makes most rows into objects is not
bound by that floor.  When msgspec is installed (``pip install msgspec``; not a
dependency), a fourth process runs ``RAW``: a throwaway migration of this
benchmark's own ``data.json`` (it knows the generator's shape) that decodes the
document into msgspec ``Raw`` rows, parses only the rows a step changes (every
node; attributes of process nodes or with ``parser_name``; shadows holding a
date; ``_return`` links), copies every other row as its bytes, and deflates the
result as the floor does.  It checks nothing and skips the repository: a bound
on what a redesign of the streamed reader around ``Raw`` rows could reach.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import orjson

REPO_FILES = 20_000
T = "2019-05-01T10:00:00.000000"
CALCS = 10
HWM = "import atexit,sys\natexit.register(lambda: sys.stderr.write('\\nVMHWM ' + [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1] + '\\n'))\n"


def _uuid(n: int) -> str:
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def build_data(nodes: int) -> tuple[dict, dict]:
    """metadata and data of a 0.4 archive with ``nodes`` nodes (CALCS of them CalcJobs)."""
    node_rows, attrs, attr_conv, links = {}, {}, {}, []
    for pk in range(1, nodes + 1):
        calc = pk <= CALCS
        node_rows[str(pk)] = {
            "uuid": _uuid(pk), "label": "", "description": "", "ctime": T, "mtime": T, "user": 1,
            "dbcomputer": 1 if calc else None, "nodeversion": 1, "public": False,
            "node_type": "process.calculation.calcjob.CalcJobNode." if calc else "data.dict.Dict.",
            "process_type": "aiida.calculations:quantumespresso.pw" if calc else "",
        }  # fmt: skip
        if calc:
            attrs[str(pk)] = {"parser_name": "quantumespresso.pw", "process_label": "PwCalculation",
                              "state": "FINISHED", "resources": {"num_machines": 1}, "retrieve_list": ["aiida.out"],
                              "scheduler_lastchecktime": T}  # fmt: skip
            attr_conv[str(pk)] = {k: None for k in attrs[str(pk)]} | {"scheduler_lastchecktime": "date", "resources": {"num_machines": None}, "retrieve_list": [None]}
        else:
            attrs[str(pk)] = {"ecutwfc": 30.0 + pk % 7, "kpoints": [4, 4, 4], "name": f"param {pk}"}
            attr_conv[str(pk)] = {"ecutwfc": None, "kpoints": [None, None, None], "name": None}
            calc_pk = 1 + pk % CALCS
            links.append({"input": _uuid(pk), "output": _uuid(calc_pk), "label": f"param_{pk}", "type": "input_calc"})
    export = {
        "User": {"1": {"email": "a@b.c", "first_name": "A", "last_name": "B", "institution": "L"}},
        "Computer": {"1": {"uuid": _uuid(10**9), "name": "c", "hostname": "h", "description": "", "transport_type": "ssh",
                           "scheduler_type": "slurm", "metadata": {}, "transport_params": {}}},
        "Group": {}, "Node": node_rows,
    }  # fmt: skip
    data = {"links_uuid": links, "export_data": export, "groups_uuid": {}, "node_attributes": attrs,
            "node_attributes_conversion": attr_conv, "node_extras": {pk: {} for pk in node_rows},
            "node_extras_conversion": {pk: {} for pk in node_rows}}  # fmt: skip
    date, fk = {"convert_type": "date"}, lambda t, r: {"requires": t, "related_name": r}
    metadata = {
        "export_version": "0.4", "aiida_version": "1.0.0b2",
        "unique_identifiers": {"Node": "uuid", "Group": "uuid", "Computer": "uuid", "User": "email", "Link": None,
                               "Attribute": None, "Log": "uuid", "Comment": "uuid"},
        "all_fields_info": {
            "Node": {"uuid": {}, "label": {}, "description": {}, "ctime": date, "mtime": date, "node_type": {},
                     "process_type": {}, "nodeversion": {}, "public": {}, "user": fk("User", "dbnodes"),
                     "dbcomputer": fk("Computer", "dbnodes")},
            "Computer": {k: {} for k in ("uuid", "name", "hostname", "description", "transport_type", "scheduler_type", "metadata", "transport_params")},
            "User": {k: {} for k in ("email", "first_name", "last_name", "institution")},
            "Group": {"uuid": {}, "label": {}, "type_string": {}, "description": {}, "time": date, "user": fk("User", "dbgroups")},
            "Log": {"uuid": {}, "time": date, "loggername": {}, "levelname": {}, "message": {}, "metadata": {},
                    "dbnode": fk("Node", "dblogs")},
            "Comment": {"uuid": {}, "ctime": date, "mtime": date, "content": {}, "dbnode": fk("Node", "dbcomments"),
                        "user": fk("User", "dbcomments")},
            "Link": {}, "Attribute": {},
        },
    }  # fmt: skip
    return metadata, data


def write_archive(path: Path, nodes: int) -> int:
    """The 0.4 zip; returns the size of data.json."""
    metadata, data = build_data(nodes)
    data_json = orjson.dumps(data)
    del data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("metadata.json", orjson.dumps(metadata))
        zf.writestr("data.json", data_json)
        for i in range(min(REPO_FILES, nodes)):
            u = _uuid(1 + i % nodes)
            zf.writestr(f"nodes/{u[:2]}/{u[2:4]}/{u[4:]}/path/file_{i}.txt", f"content {i}\n" * 8)
    return len(data_json)


def run_measured(argv: list[str], env: dict | None = None) -> tuple[float, int]:
    """(wall seconds, VmHWM KiB) of one process that reports its own VmHWM at exit."""
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - start
    lines = [line for line in proc.stderr.splitlines() if line.startswith("VMHWM ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{argv[:3]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, int(lines[-1].split()[1])


def reportgen_cmd(src: Path, dst: Path) -> list[str]:
    code = HWM + f"from converters import migrate\nmigrate({str(src)!r}, {str(dst)!r}, to_version='0.13', force=True)\n"
    return [sys.executable, "-c", code]


# The start of both timed programs below: argv, and one block of our parallel deflate of ``body``
# (primed with the 32 KiB before it), as containers.ParallelDeflate does it.
DEFLATE_BODY = """
import gc, sys, time, zipfile, zlib, orjson
from concurrent.futures import ThreadPoolExecutor
from zlib_ng import zlib_ng
level, size, threads = (int(a) for a in sys.argv[2:5])
def deflate(start):
    window = body[max(0, start - 32768) : start]
    z = zlib_ng.compressobj(level, zlib.DEFLATED, -15, **({"zdict": window} if window else {}))
    last = start + size >= len(body)
    return z.compress(body[start : start + size]) + z.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
gc.disable()
"""

FLOOR = DEFLATE_BODY + """
start = time.perf_counter()
raw = zipfile.ZipFile(sys.argv[1]).read("data.json")
inflated = time.perf_counter()
orjson.loads(raw)  # the first parse pays for fresh memory; a streaming tool reuses its memory
warm = time.perf_counter()
body = orjson.dumps(orjson.loads(raw))
parsed = time.perf_counter()
with ThreadPoolExecutor(threads) as pool:
    packed = list(pool.map(deflate, range(0, len(body), size)))
done = time.perf_counter()
sys.stderr.write(f"FLOOR {(inflated - start) + (parsed - warm) + (done - parsed)}\\n")
"""


def run_program(program: str, src: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A ``DEFLATE_BODY`` program in a fresh process; its argv: ``src``, our deflate's level, block
    and threads, then ``extra``.  It writes ``TAG <seconds>`` last on stderr (``reported_seconds``)."""
    from converters.containers import DEFLATE_BLOCK, DEFLATE_LEVEL, _deflate_workers

    args = [str(src), str(DEFLATE_LEVEL), str(DEFLATE_BLOCK), str(_deflate_workers()), *extra]
    return subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, env=env)


def reported_seconds(proc: subprocess.CompletedProcess, tag: str) -> float:
    if proc.returncode != 0:
        raise RuntimeError(f"the {tag} program failed: {proc.stderr[-2000:]}")
    return float(proc.stderr.split(f"{tag} ")[-1])


def floor_seconds(src: Path) -> float:
    """The floor (module docstring): data.json inflated, parsed in warm memory, dumped and
    deflated, timed inside a fresh process, nothing more."""
    return reported_seconds(run_program(FLOOR, src), "FLOOR")


RAW = DEFLATE_BODY + """
import msgspec
Raw = msgspec.Raw
class Doc(msgspec.Struct):
    links_uuid: list[Raw]
    export_data: dict[str, dict[str, Raw]]
    groups_uuid: dict[str, Raw]
    node_attributes: dict[str, Raw]
    node_attributes_conversion: dict[str, Raw]
    node_extras: dict[str, Raw]
    node_extras_conversion: dict[str, Raw]
def member(pk, raw):
    return orjson.dumps(pk) + b":" + raw
start = time.perf_counter()
doc = msgspec.json.Decoder(Doc).decode(zipfile.ZipFile(sys.argv[1]).read("data.json"))
process, nodes = set(), []
for pk, raw in doc.export_data["Node"].items():
    row = orjson.loads(bytes(raw))
    row.pop("nodeversion", None), row.pop("public", None)
    if row.get("node_type") == "data.dict.Dict.":
        row["node_type"] = "data.core.dict.Dict."
    elif str(row.get("node_type")).startswith("process."):
        process.add(pk)
    nodes.append(member(pk, orjson.dumps(row)))
dated = {pk for pk, raw in doc.node_attributes_conversion.items() if b'"date"' in bytes(raw)}
attributes = []
for pk, raw in doc.node_attributes.items():
    raw = bytes(raw)
    if pk in process or pk in dated or b'"parser_name"' in raw:
        row = orjson.loads(raw)
        if pk in process:
            row["sealed"] = True
        raw = orjson.dumps(row)
    attributes.append(member(pk, raw))
extras = [member(pk, bytes(raw)) for pk, raw in doc.node_extras.items()]
links = [bytes(raw) for raw in doc.links_uuid]
body = b"".join([b'{"links_uuid":[', b",".join(links), b'],"export_data":{"Node":{', b",".join(nodes),
                 b'}},"node_attributes":{', b",".join(attributes), b'},"node_extras":{', b",".join(extras), b"}}"])
with ThreadPoolExecutor(threads) as pool:
    packed = list(pool.map(deflate, range(0, len(body), size)))
sys.stderr.write(f"RAW {time.perf_counter() - start}\\n")
"""


def raw_prototype_seconds(src: Path) -> float | None:
    """The bytes prototype (module docstring), timed inside a fresh process; None without msgspec."""
    proc = run_program(RAW, src)
    if "No module named 'msgspec'" in proc.stderr:
        return None
    return reported_seconds(proc, "RAW")


def verdi_path() -> Path | None:
    candidate = Path(os.environ.get("REPORTGEN_VERDI", "/tmp/venv-aiida/bin/verdi"))
    return candidate if candidate.exists() else None


def verdi_cmd(verdi: Path, src: Path, dst: Path) -> list[str]:
    python = verdi.parent / "python"
    args = ["verdi", "archive", "migrate", "--version", "0.13", "-f", str(src), str(dst)]
    code = HWM + f"sys.argv = {args!r}\nfrom aiida.cmdline.commands.cmd_verdi import verdi\nverdi()\n"
    return [str(python), "-c", code]


def bench_size(nodes: int, work: Path) -> None:
    src = work / f"legacy_{nodes}.aiida"
    data_bytes = write_archive(src, nodes)
    print(f"{nodes} nodes: data.json {data_bytes / 1e6:.1f} MB, archive {src.stat().st_size / 1e6:.1f} MB")
    wall, hwm = run_measured(reportgen_cmd(src, work / f"rg_{nodes}.zip"))
    print(f"  reportgen   {wall:7.2f} s  VmHWM {hwm / 1024:7.1f} MiB")
    floor = floor_seconds(src)
    print(f"  floor       {floor:7.2f} s  (data.json inflated, parsed in warm memory, dumped, deflated: nothing else)")
    print(f"              reportgen takes {wall / floor:.2f}x the floor")
    raw = raw_prototype_seconds(src)
    if raw is None:
        print("  bytes prototype: msgspec not installed (pip install msgspec)")
    else:
        print(f"  bytes prototype {raw:5.2f} s  (untouched rows kept as bytes; no checks, no repository)")
    verdi = verdi_path()
    if verdi is None:
        print("  aiida-core  not installed (set REPORTGEN_VERDI or create /tmp/venv-aiida)")
        return
    env = {"AIIDA_PATH": str(work / "aiida-home")}
    subprocess.run([str(verdi), "archive", "version", str(src)], capture_output=True, env={**os.environ, **env})
    a_wall, a_hwm = run_measured(verdi_cmd(verdi, src, work / f"aiida_{nodes}.aiida"), env)
    print(f"  aiida-core  {a_wall:7.2f} s  VmHWM {a_hwm / 1024:7.1f} MiB")
    print(f"  ratio       {a_wall / wall:7.1f}x faster, {hwm / a_hwm:.2f} of aiida-core's peak memory")
    print(f"  aiida-core / floor {a_wall / floor:.1f}x: the most a tool making every row a Python object could gain here")
    if raw is not None:
        print(f"  aiida-core / bytes prototype {a_wall / raw:.1f}x")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, action="append", help="archive size (repeatable); default 2000")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as tmp:
        for nodes in args.nodes or [2000]:
            bench_size(nodes, Path(tmp))


if __name__ == "__main__":
    main(sys.argv[1:])
