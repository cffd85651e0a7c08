"""Generate large legacy archives without holding them in memory (tests and bench/).

The shape follows the reference's aiida-core measurement: cloned Dict nodes
with attributes, every tenth node a CalcJob fed by the nine before it and
creating the next one, and ``files`` repository files of which only
``distinct`` contents differ (a deduplicating repository is expected).
Versions 0.10 and 0.13 are written (field and type names differ).
"""

from __future__ import annotations

import os
import tempfile
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import orjson

from converters.containers import OutMember, write_archive
from converters.streaming import JsonObjectWriter
from tests.converters_main.builders import all_fields_info


def _uid(i: int) -> str:
    return str(uuidlib.UUID(int=(0xABCD << 112) + i))


def _types(version: str) -> tuple[str, str, str, str]:
    core = "" if version == "0.10" else "core."
    return f"data.{core}dict.Dict.", "process.calculation.calcjob.CalcJobNode.", f"{core}direct", f"{core}local"


def _node(i: int, version: str) -> tuple[dict, dict]:
    dict_type, calc_type, _, _ = _types(version)
    calc = i % 10 == 0
    row = {
        "uuid": _uid(i), "node_type": calc_type if calc else dict_type,
        "process_type": "aiida.calculations:templatereplacer" if calc else None,
        "label": f"n{i}", "description": "", "ctime": "2021-03-04T05:06:07.123456",
        "mtime": "2021-03-04T05:06:08.000000", "user": 1, "dbcomputer": 1 if calc else None,
    }  # fmt: skip
    attrs = {"sealed": True, "process_state": "finished", "exit_status": 0} if calc else {
        "value": i, "parameters": {"ecut": 30.5, "kpoints": [4, 4, 4], "name": f"param-{i % 97}"}}
    return row, attrs


def _write_data(out, n: int, version: str) -> None:
    w = JsonObjectWriter(out, orjson.dumps)
    _, _, scheduler, transport = _types(version)
    label = "name" if version == "0.10" else "label"
    w.open_object()
    w.open_object("export_data")
    w.item({"1": {"email": "bench@example.org", "first_name": "B", "last_name": "M", "institution": "I"}}, key="User")
    w.item({"1": {"uuid": _uid(10**9), label: "localhost", "hostname": "localhost", "description": "",
                  "scheduler_type": scheduler, "transport_type": transport, "metadata": {}}}, key="Computer")  # fmt: skip
    w.item({"1": {"uuid": _uid(10**9 + 1), "label": "all", "type_string": "core", "time": "2021-01-01T00:00:00.000000",
                  "description": "", "extras": {}, "user": 1}}, key="Group")  # fmt: skip
    w.open_object("Node")
    for i in range(1, n + 1):
        w.item(_node(i, version)[0], key=str(i))
    w.close_object()
    w.item({}, key="Log")
    w.item({}, key="Comment")
    w.close_object()
    for section in ("node_attributes", "node_extras"):
        w.open_object(section)
        for i in range(1, n + 1):
            w.item(_node(i, version)[1] if section == "node_attributes" else {"_aiida_hash": f"{i:064x}"}, key=str(i))
        w.close_object()
    w.open_array("links_uuid")
    for i in range(1, n + 1):
        if i % 10:
            calc = (i // 10 + 1) * 10
            if calc <= n:
                w.item({"input": _uid(i), "output": _uid(calc), "label": f"x{i % 10}", "type": "input_calc"})
        elif i + 1 <= n:
            w.item({"input": _uid(i), "output": _uid(i + 1), "label": "result", "type": "create"})
    w.close_array()
    w.item({_uid(10**9 + 1): [_uid(i) for i in range(1, min(n, 1000) + 1)]}, key="groups_uuid")
    w.close_object()


def _metadata(version: str) -> bytes:
    info = all_fields_info()
    if version == "0.10":
        info["Computer"]["name"] = info["Computer"].pop("label")
    return orjson.dumps({"export_version": version, "aiida_version": "1.6.9", "all_fields_info": info,
                         "unique_identifiers": {k: "uuid" for k in ("Node", "Group", "Computer", "Log", "Comment")} | {"User": "email"}})  # fmt: skip


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            yield chunk


def _repo(n: int, files: int, distinct: int) -> Iterator[OutMember]:
    for i in range(1, min(files, n) + 1):
        u = _uid(i)
        content = (f"&control calculation='scf' prefix='p{i % distinct}' /\n" * 20).encode()
        yield OutMember(f"nodes/{u[:2]}/{u[2:4]}/{u[4:]}/path/aiida.in", data=content, size=len(content))


def write_big_legacy(path: Path, nodes: int, files: int = 20_000, distinct: int = 1000,
                     version: str = "0.10", fmt: str = "zip") -> Path:  # fmt: skip
    """A legacy archive of ``nodes`` nodes at ``version`` in ``fmt``, written in bounded memory."""
    fd, tmp = tempfile.mkstemp(prefix=".data-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            _write_data(out, nodes, version)
        meta = _metadata(version)
        members = [OutMember("metadata.json", data=meta, size=len(meta)),
                   OutMember("data.json", size=os.path.getsize(tmp), chunks=_file_chunks(Path(tmp)))]  # fmt: skip
        write_archive(path, fmt, iter([*members, *_repo(nodes, files, distinct)]))
    finally:
        os.unlink(tmp)
    return path
