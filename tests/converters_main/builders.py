"""Build small legacy 0.13 archives in code (real containers, written by converters.containers)."""

from __future__ import annotations

import json
import uuid as uuidlib
from pathlib import Path

from converters.containers import OutMember, write_archive


def uid(n: int) -> str:
    return str(uuidlib.UUID(int=0x1234_0000_0000_4000_8000_0000_0000_0000 + n))


def all_fields_info() -> dict:
    date = {"convert_type": "date"}
    jsonb = {"convert_type": "jsonb"}
    return {
        "Node": {"uuid": {}, "node_type": {}, "process_type": {}, "label": {}, "description": {}, "ctime": date,
                 "mtime": date, "user": {"requires": "User", "related_name": "dbnodes"},
                 "dbcomputer": {"requires": "Computer", "related_name": "dbnodes"}, "attributes": jsonb, "extras": jsonb},
        "User": {"email": {}, "first_name": {}, "last_name": {}, "institution": {}},
        "Computer": {"uuid": {}, "label": {}, "hostname": {}, "description": {}, "scheduler_type": {},
                     "transport_type": {}, "metadata": {}},
        "Group": {"uuid": {}, "label": {}, "type_string": {}, "time": date, "description": {}, "extras": jsonb,
                  "user": {"requires": "User", "related_name": "dbgroups"}},
        "Log": {"uuid": {}, "time": date, "loggername": {}, "levelname": {}, "message": {}, "metadata": {},
                "dbnode": {"requires": "Node", "related_name": "dblogs"}},
        "Comment": {"uuid": {}, "ctime": date, "mtime": date, "content": {},
                    "dbnode": {"requires": "Node", "related_name": "dbcomments"},
                    "user": {"requires": "User", "related_name": "dbcomments"}},
    }


def legacy_013(n_nodes: int = 4, *, dangling: bool = False, unknown_member: bool = False, null_times: bool = False):
    """(metadata, data, files) of a small 0.13 archive: a CalcJob with inputs and outputs, a group, a log, a comment."""
    metadata = {
        "export_version": "0.13",
        "aiida_version": "2.9.4",
        "unique_identifiers": {k: "uuid" for k in ("Node", "Group", "Computer", "Log", "Comment")} | {"User": "email"},
        "all_fields_info": all_fields_info(),
        "export_parameters": {"include_comments": True},
    }
    nodes = {}
    attributes, extras = {}, {}
    for i in range(1, n_nodes + 1):
        kind = "process.calculation.calcjob.CalcJobNode." if i == 1 else "data.core.dict.Dict."
        nodes[str(i)] = {
            "uuid": uid(i), "node_type": kind, "process_type": "aiida.calculations:core.arithmetic.add" if i == 1 else None,
            "label": f"node {i}", "description": "", "ctime": f"2020-01-0{1 + i % 9}T10:00:00.{i:06d}",
            "mtime": f"2020-01-0{1 + i % 9}T11:00:00.000001", "user": 1, "dbcomputer": 1 if i == 1 else None,
        }
        attributes[str(i)] = {"value": i, "nested": {"f": 1.5, "l": [1, "two", None]}} if i > 1 else {"sealed": True, "process_state": "finished"}
        extras[str(i)] = {"_aiida_hash": f"h{i}"}
    if null_times:
        nodes["2"]["mtime"] = None
        nodes["2"]["label"] = None
    links = [{"input": uid(i), "output": uid(1), "label": f"x{i}", "type": "input_calc"} for i in range(2, n_nodes)]
    links.append({"input": uid(1), "output": uid(n_nodes), "label": "sum", "type": "create"})
    if dangling:
        links.append({"input": uid(999), "output": uid(1), "label": "ghost", "type": "input_calc"})
    members = [uid(i) for i in range(2, n_nodes + 1)] + ([uid(777)] if unknown_member else [])
    data = {
        "export_data": {
            "User": {"1": {"email": "a@b.c", "first_name": "A", "last_name": "B", "institution": "C"}},
            "Computer": {"1": {"uuid": uid(500), "label": "localhost", "hostname": "localhost", "description": "",
                               "scheduler_type": "core.direct", "transport_type": "core.local", "metadata": {"x": 1}}},
            "Group": {"1": {"uuid": uid(600), "label": "g1", "type_string": "core", "time": "2020-02-01T00:00:00.000000",
                            "description": "d", "extras": {}, "user": 1}},
            "Node": nodes,
            "Log": {"1": {"uuid": uid(700), "time": "2020-01-02T00:00:00.000000", "loggername": "l", "levelname": "INFO",
                          "message": "m", "metadata": {}, "dbnode": 1}},
            "Comment": {"1": {"uuid": uid(800), "ctime": "2020-01-02T00:00:00.000000", "mtime": "2020-01-02T00:00:00.000000",
                              "content": "c", "dbnode": 1, "user": 1}},
        },
        "links_uuid": links,
        "groups_uuid": {uid(600): members},
        "node_attributes": attributes,
        "node_extras": extras,
    }
    files: dict[str, bytes | None] = {}
    u1 = uid(1)
    base = f"nodes/{u1[:2]}/{u1[2:4]}/{u1[4:]}"
    files[f"{base}/raw_input/aiida.in"] = b"input file\n"
    files[f"{base}/path/out/.gitignore"] = b""
    files[f"{base}/path/empty"] = None  # an empty directory
    files[f"{base}/path/_aiidasubmit.sh"] = b"#!/bin/bash\n"
    u2 = uid(2)
    files[f"nodes/{u2[:2]}/{u2[2:4]}/{u2[4:]}/path/.gitignore"] = b""  # same blob as above
    return metadata, data, files


def write_legacy(path: Path, metadata: dict, data: dict, files: dict, fmt: str = "zip") -> Path:
    members = [
        OutMember("metadata.json", data=json.dumps(metadata).encode(), size=len(json.dumps(metadata).encode())),
        OutMember("data.json", data=json.dumps(data).encode(), size=len(json.dumps(data).encode())),
    ]
    for name in sorted(files):
        content = files[name]
        if content is None:
            members.append(OutMember(name, is_dir=True))
        else:
            members.append(OutMember(name, data=content, size=len(content)))
    write_archive(path, fmt, members)
    return path
