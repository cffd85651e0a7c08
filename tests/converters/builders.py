"""Build small, realistic legacy export archives (0.1 ... 0.13) in code.

Written from the format reference (sections 1.2-1.5), independently of
``converters``: every field name and value below is what an AiiDA of that
export version wrote, so the tests compare the migrations against the
reference rather than against themselves.

The node set: a user, a computer, a code, a Dict input, a CalcJob with an
output Dict, a WorkChain calling it and returning an Int, a TrajectoryData
(``symbols.npy`` in its repository up to 0.3), a group, and from 0.4 a log
and a comment.  ``write_container`` writes members into zip, tar, tar.gz,
tar.zst or a folder with the stdlib and zstandard only.

Regenerate the frozen copies under ``tests/converters/fixtures/`` with
``python -m tests.converters.builders tests/converters/fixtures``.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import zstandard

VERSIONS = tuple(f"0.{n}" for n in range(1, 14))
CONTAINERS = ("zip", "tar", "tar.gz", "tar.zst", "folder")
SUFFIX = {"zip": ".aiida", "tar": ".tar", "tar.gz": ".tar.gz", "tar.zst": ".tar.zst", "folder": ""}

U = {  # node pk -> uuid
    "1": "a1c0de00-0000-4000-8000-000000000001",  # code
    "2": "b2d1c700-0000-4000-8000-000000000002",  # input Dict / ParameterData
    "3": "c3ca1c00-0000-4000-8000-000000000003",  # CalcJob
    "4": "d4d1c700-0000-4000-8000-000000000004",  # output Dict
    "5": "e5f00c00-0000-4000-8000-000000000005",  # WorkChain
    "6": "f6000100-0000-4000-8000-000000000006",  # Int returned by the WorkChain
    "7": "07aa0000-0000-4000-8000-000000000007",  # TrajectoryData
}
COMPUTER_UUID = "c0c0c0c0-0000-4000-8000-0000000000c0"
GROUP_UUID = "90909090-0000-4000-8000-000000000090"
LOG_UUID = "10101010-0000-4000-8000-000000000010"
COMMENT_UUID = "20202020-0000-4000-8000-000000000020"
T0, T1 = "2018-03-01T10:00:00.123456", "2018-03-01T11:00:00.654321"
SYMBOLS = ["H", "O"]


def vi(version: str) -> int:
    return VERSIONS.index(version)


def at_least(version: str, other: str) -> bool:
    return vi(version) >= vi(other)


def entity(version: str, short: str) -> str:
    if version == "0.1":
        return f"aiida.djsite.db.models.Db{short}"
    if version == "0.2":
        return f"aiida.backends.djsite.db.models.Db{short}"
    return short


# ---------------------------------------------------------------- node types per version
def node_types(version: str) -> dict[str, str]:
    if not at_least(version, "0.4"):
        return {
            "1": "code.Code.",
            "2": "data.parameter.ParameterData.",
            "3": "calculation.job.quantumespresso.pw.PwCalculation.",
            "4": "data.parameter.ParameterData.",
            "5": "calculation.work.WorkCalculation.",
            "6": "data.base.Int.",
            "7": "data.array.trajectory.TrajectoryData.",
        }
    core = "core." if at_least(version, "0.12") else ""
    return {
        "1": f"data.{core}code.Code.",
        "2": f"data.{core}dict.Dict.",
        "3": "process.calculation.calcjob.CalcJobNode.",
        "4": f"data.{core}dict.Dict.",
        "5": "process.workflow.workchain.WorkChainNode.",
        "6": f"data.{core}int.Int.",
        "7": f"data.{core}array.trajectory.TrajectoryData.",
    }


def process_types(version: str) -> dict[str, str]:
    return {"3": "aiida.calculations:quantumespresso.pw", "5": "aiida.workflows:my.workchain"}


# ---------------------------------------------------------------- rows
def node_row(version: str, pk: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uuid": U[pk],
        "label": f"node {pk}",
        "description": "",
        "ctime": T0,
        "mtime": T1,
        "user": 1,
        "dbcomputer": 1 if pk == "3" else None,
    }
    row["node_type" if at_least(version, "0.4") else "type"] = node_types(version)[pk]
    if not at_least(version, "0.5"):
        row["nodeversion"] = 1
        row["public"] = False
    if at_least(version, "0.4"):
        row["process_type"] = process_types(version).get(pk, "")
    return row


def computer_row(version: str) -> dict[str, Any]:
    core = at_least(version, "0.12")
    row: dict[str, Any] = {
        "uuid": COMPUTER_UUID,
        "hostname": "cluster.example.org",
        "description": "the cluster",
        "transport_type": "core.ssh" if at_least(version, "0.13") else "ssh",
        "scheduler_type": "core.slurm" if core else "slurm",
        "metadata": {"workdir": "/scratch/{username}/"},
    }
    row["label" if at_least(version, "0.11") else "name"] = "cluster"
    if not at_least(version, "0.4"):
        row["enabled"] = True
        row["metadata"] = json.dumps(row["metadata"])  # JSON strings until 0.4
        row["transport_params"] = "{}"
    elif not at_least(version, "0.5"):
        row["transport_params"] = {}
    return row


def group_row(version: str) -> dict[str, Any]:
    row: dict[str, Any] = {"uuid": GROUP_UUID, "description": "", "time": T0, "user": 1}
    if at_least(version, "0.4"):
        row["label"] = "my-group"
        row["type_string"] = "core" if at_least(version, "0.9") else "user"
    else:
        row["name"] = "my-group"
        row["type"] = ""
    return row


def user_row() -> dict[str, Any]:
    return {"email": "alice@example.org", "first_name": "Alice", "last_name": "A", "institution": "Lab"}


# ---------------------------------------------------------------- attributes
def calc_attributes(version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """CalcJob attributes and their conversion shadow (``None`` leaves, ``"date"`` for dates)."""
    old = not at_least(version, "0.4")
    attrs: dict[str, Any] = {
        "jobresource_params" if old else "resources": {"num_machines": 1},
        "parser" if old else "parser_name": "quantumespresso.pw",
        "_process_label" if old else "process_label": "PwCalculation",
        "scheduler_lastchecktime": T0 + ("+00:00" if at_least(version, "0.6") else ""),
        "retrieve_list": ["aiida.out", "aiida.xml"],
    }
    if not at_least(version, "0.6"):
        attrs["state"] = "FINISHED"
    else:
        attrs["process_state"] = "finished"
        attrs["exit_status"] = 0
    attrs.update(_sealed_flags(version))
    shadow = {key: None for key in attrs}
    shadow["scheduler_lastchecktime"] = "date"
    shadow["resources" if not old else "jobresource_params"] = {"num_machines": None}
    shadow["retrieve_list"] = [None, None]
    return attrs, shadow


def _sealed_flags(version: str) -> dict[str, Any]:
    return {"sealed": True} if at_least(version, "0.7") else {"_sealed": True}


def attributes(version: str) -> dict[str, dict[str, Any]]:
    old = not at_least(version, "0.4")
    work = {"_process_label" if old else "process_label": "MyWorkChain"}
    if at_least(version, "0.4"):
        work["process_state"] = "finished"
    work.update(_sealed_flags(version))
    trajectory: dict[str, Any] = {"array|positions": [3, 2, 3]}
    if old:
        trajectory["array|symbols"] = [2]
    else:
        trajectory["symbols"] = SYMBOLS
    return {
        "1": {"input_plugin": "quantumespresso.pw", "remote_exec_path": "/bin/pw.x"},
        "2": {"ecutwfc": 30.0, "kpoints": [4, 4, 4]},
        "3": calc_attributes(version)[0],
        "4": {"energy": -42.5},
        "5": work,
        "6": {"value": 7},
        "7": trajectory,
    }


def _shadow(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _shadow(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_shadow(v) for v in tree]
    return None


def attribute_shadows(version: str) -> dict[str, Any]:
    shadows = {pk: _shadow(attrs) for pk, attrs in attributes(version).items()}
    shadows["3"] = calc_attributes(version)[1]
    return shadows


# ---------------------------------------------------------------- metadata
def fields_info(version: str) -> dict[str, Any]:
    def fk(target: str, related: str) -> dict[str, str]:
        return {"requires": entity(version, target), "related_name": related}

    date = {"convert_type": "date"}
    node = {k: {} for k in ("uuid", "label", "description")}
    node.update(ctime=date, mtime=date, user=fk("User", "dbnodes"), dbcomputer=fk("Computer", "dbnodes"))
    node["node_type" if at_least(version, "0.4") else "type"] = {}
    if not at_least(version, "0.5"):
        node.update(nodeversion={}, public={})
    computer = {k: {} for k in ("uuid", "hostname", "description", "transport_type", "scheduler_type", "metadata")}
    computer["label" if at_least(version, "0.11") else "name"] = {}
    group = {"uuid": {}, "description": {}, "time": date, "user": fk("User", "dbgroups")}
    info = {
        entity(version, "Node"): node,
        entity(version, "Computer"): computer,
        entity(version, "User"): {k: {} for k in ("email", "first_name", "last_name", "institution")},
        entity(version, "Group"): group,
    }
    _version_fields(version, info, node, computer, group)
    return info


def _version_fields(version: str, info: dict, node: dict, computer: dict, group: dict) -> None:
    if at_least(version, "0.4"):
        node["process_type"] = {}
        group.update(label={}, type_string={})
        info["Log"] = {
            "uuid": {}, "time": {"convert_type": "date"}, "loggername": {}, "levelname": {}, "message": {},
            "metadata": {}, "dbnode": {"requires": "Node", "related_name": "dblogs"},
        }  # fmt: skip
        info["Comment"] = {
            "uuid": {}, "ctime": {"convert_type": "date"}, "mtime": {"convert_type": "date"}, "content": {},
            "dbnode": {"requires": "Node", "related_name": "dbcomments"},
            "user": {"requires": "User", "related_name": "dbcomments"},
        }  # fmt: skip
    else:
        group.update(name={}, type={})
        computer.update(enabled={}, transport_params={})
    if version == "0.4":
        computer["transport_params"] = {}
    if not at_least(version, "0.7"):
        info[entity(version, "Link")] = {}
        info[entity(version, "Attribute")] = {}
    if at_least(version, "0.10"):
        node["attributes"] = {"convert_type": "jsonb"}
        node["extras"] = {"convert_type": "jsonb"}
        group["extras"] = {"convert_type": "jsonb"}


def unique_identifiers(version: str) -> dict[str, Any]:
    ids = {entity(version, n): "uuid" for n in ("Node", "Group", "Computer")}
    ids[entity(version, "User")] = "email"
    if not at_least(version, "0.7"):
        ids[entity(version, "Link")] = None
        ids[entity(version, "Attribute")] = None
    if at_least(version, "0.4"):
        ids["Log"] = "uuid"
        ids["Comment"] = "uuid"
    return ids


def build_metadata(version: str) -> dict[str, Any]:
    return {
        "export_version": version,
        "aiida_version": "0.0.test",
        "unique_identifiers": unique_identifiers(version),
        "all_fields_info": fields_info(version),
    }


# ---------------------------------------------------------------- data.json
def link_rows(version: str) -> list[dict[str, Any]]:
    kinds = {
        "0.3": ("inputlink", "inputlink", "createlink", "calllink", "returnlink", "inputlink"),
        "new": ("input_calc", "input_calc", "create", "call_calc", "return", "input_work"),
    }
    ends = [("1", "3", "code"), ("2", "3", "parameters"), ("3", "4", "output_parameters"),
            ("5", "3", "CALL"), ("5", "6", "_return" if not at_least(version, "0.8") else "result"),
            ("2", "5", "parameters")]  # fmt: skip
    links = []
    for index, (source, target, label) in enumerate(ends):
        link = {"input": U[source], "output": U[target], "label": label}
        if at_least(version, "0.3"):
            link["type"] = kinds["0.3" if version == "0.3" else "new"][index]
        links.append(link)
    return links


def build_data(version: str) -> dict[str, Any]:
    export: dict[str, Any] = {
        entity(version, "User"): {"1": user_row()},
        entity(version, "Computer"): {"1": computer_row(version)},
        entity(version, "Group"): {"1": group_row(version)},
        entity(version, "Node"): {pk: node_row(version, pk) for pk in U},
    }
    if at_least(version, "0.4"):
        export["Log"] = {"1": {"uuid": LOG_UUID, "time": T1, "loggername": "aiida", "levelname": "REPORT",
                               "message": "done", "metadata": {}, "dbnode": 3}}  # fmt: skip
        export["Comment"] = {"1": {"uuid": COMMENT_UUID, "ctime": T0, "mtime": T1, "content": "nice",
                                   "dbnode": 3, "user": 1}}  # fmt: skip
    data: dict[str, Any] = {
        "links_uuid": link_rows(version),
        "export_data": export,
        "groups_uuid": {GROUP_UUID: [U["2"], U["4"]]},
        "node_attributes": attributes(version),
    }
    if not at_least(version, "0.6"):
        data["node_attributes_conversion"] = attribute_shadows(version)
    if at_least(version, "0.4"):
        data["node_extras"] = {pk: ({"_aiida_hash": "abc"} if pk == "2" else {}) for pk in U}
    if version in ("0.4", "0.5"):
        data["node_extras_conversion"] = {pk: _shadow(v) for pk, v in data["node_extras"].items()}
    return data


# ---------------------------------------------------------------- repository and containers
def node_dir(uuid: str) -> str:
    return f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}"


def npy_bytes(values: list, dtype: str | None = None) -> bytes:
    out = io.BytesIO()
    np.save(out, np.array(values, dtype=dtype), allow_pickle=False)
    return out.getvalue()


def repository(version: str) -> dict[str, bytes]:
    files = {
        f"{node_dir(U['3'])}/path/aiida.in": b"&control calculation='scf' /\n",
        f"{node_dir(U['3'])}/path/_aiidasubmit.sh": b"#!/bin/bash\nmpirun pw.x < aiida.in\n",
        f"{node_dir(U['3'])}/path/out/.gitignore": b"",
        f"{node_dir(U['7'])}/path/array|positions.npy": npy_bytes(["0.0"]),
        f"{node_dir(U['1'])}/path/.gitkeep": b"",
    }
    if not at_least(version, "0.4"):
        files[f"{node_dir(U['3'])}/raw_input/aiida.in"] = b"&control calculation='scf' /\n"
        files[f"{node_dir(U['7'])}/path/symbols.npy"] = npy_bytes(SYMBOLS)
    return files


def build_members(version: str, metadata: dict | None = None, data: dict | None = None) -> dict[str, bytes]:
    """Every member of the archive of ``version``: name -> bytes (as AiiDA 1.x dumped JSON)."""
    members = {
        "metadata.json": json.dumps(metadata or build_metadata(version)).encode(),
        "data.json": json.dumps(data or build_data(version)).encode(),
    }
    members.update(repository(version))
    return members


def write_container(
    path: Path, members: dict[str, bytes | None], container: str, dirs: bool = False, dot_slash: bool = False
) -> Path:
    """Write ``members`` (None = directory entry) as ``container``; returns ``path``."""
    items = dict(members)
    if dirs:  # explicit directory entries, as some writers add them
        for name in list(items):
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                items.setdefault("/".join(parts[:i]) + "/", None)
    names = {(f"./{n}" if dot_slash else n): v for n, v in items.items()}
    if container == "folder":
        for name, value in names.items():
            target = path / name
            if value is None:
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(value)
        path.mkdir(parents=True, exist_ok=True)
        return path
    if container == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, value in names.items():
                zf.writestr(name, b"" if value is None else value)
        return path
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, value in names.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            if value is None:
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            else:
                info.size = len(value)
                tf.addfile(info, io.BytesIO(value))
    raw = buffer.getvalue()
    if container == "tar.gz":
        import gzip

        raw = gzip.compress(raw, mtime=0)
    elif container == "tar.zst":
        raw = zstandard.ZstdCompressor().compress(raw)
    path.write_bytes(raw)
    return path


def build_archive(directory: Path, version: str, container: str = "zip", **options: Any) -> Path:
    """The fixture archive of ``version`` in ``container`` under ``directory``."""
    name = f"export_{version}{SUFFIX[container]}"
    return write_container(Path(directory) / name, build_members(version), container, **options)


def main(argv: list[str]) -> None:
    """Freeze one zip fixture per version into the folder given (regeneration command)."""
    target = Path(argv[0] if argv else "tests/converters/fixtures")
    target.mkdir(parents=True, exist_ok=True)
    for version in VERSIONS:
        print(build_archive(target, version, "zip"))


if __name__ == "__main__":
    main(sys.argv[1:])
