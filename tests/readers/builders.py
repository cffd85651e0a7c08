"""Test builders: Entropy-style HDF5 files, bare git repositories and logs, made in code.

``write_job`` writes exactly what reference 2.3 describes (scalar vlen UTF-8
attributes, ``<out>_time`` before ``<out>``, (0,) float64 never-set pairs);
``make_repo`` makes a bare repository with the git CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

STR = h5py.string_dtype("utf-8")
T0 = "2022-06-25T12:52:14.435Z"


@dataclass
class Out:
    """One output: stored ``data`` (an array, or None for an aborted flush) and its times."""

    name: str
    data: Any
    times: list[str] | None = None
    description: str = "an output"
    units: str = ""


@dataclass
class Node:
    name: str
    outputs: list[Out] = field(default_factory=list)
    type: str = "QPUcircuitRunner"
    description: str = "a node"
    bin: str = "circuitExec.py"


def times(n: int, start_ms: int = 0) -> list[str]:
    base = np.datetime64("2022-06-25T12:52:14.000", "ms")
    return [str(base + np.timedelta64(start_ms + 10 * i, "ms")) + "Z" for i in range(n)]


def metadata(project: str, job_id: str, **extra: str) -> dict[str, str]:
    attrs = {
        "project": project,
        "job_eui": f"#/{job_id}",
        "job_description": "a test job",
        "workflow_eui": "#/w1",
        "parameters_eui": "#/p1",
        "creation_timestamp": "2022-06-25T14:41:05.123456+02:00",
    }
    attrs.update(extra)
    return attrs


def stored(values: Any) -> np.ndarray:
    """Values as Flame's create_dataset stores them (str lists -> vlen UTF-8; dicts -> JSON)."""
    if isinstance(values, np.ndarray):
        return values
    if not len(values):
        return np.zeros((0,), np.float64)
    flat = np.asarray(values, dtype=object).ravel()
    if all(isinstance(v, str) for v in flat):
        return np.array(values, dtype=STR)
    if any(isinstance(v, dict) or v is None for v in flat) or any(isinstance(v, str) for v in flat):
        return np.array([json.dumps(v) for v in values], dtype=STR)
    return np.array(values)


def write_job(path: Path, attrs: dict[str, str], nodes: list[Node]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for key, value in attrs.items():
            f.attrs[key] = value
        for node in nodes:
            group = f.create_group(node.name)
            group.attrs["type"] = node.type
            group.attrs["description"] = node.description
            group.attrs["bin"] = node.bin
            for out in node.outputs:
                write_output(group, out)
    return path


def write_output(group: h5py.Group, out: Out) -> None:
    data = None if out.data is None else stored(out.data)
    n = len(out.times) if out.times is not None else (len(data) if data is not None else 0)
    stamps = out.times if out.times is not None else times(n)
    group.create_dataset(out.name + "_time", data=np.array(stamps, dtype=STR) if stamps else np.zeros((0,), np.float64))
    if data is None:
        return
    ds = group.create_dataset(out.name, data=data)
    ds.attrs["description"] = out.description
    ds.attrs["units"] = out.units


def write_log(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


HEADER = "=" * 40 + "\n|- Entropy lab context\n|   Node identity:   #{node}\n|   Playbook:        localhost,6379,0\n" + "=" * 40 + "\n"


def simple_job(root: Path, folder: str, job_id: str, nodes: list[Node] | None = None, **attrs: str) -> Path:
    """A job file plus one clean log per node, in project folder ``folder``."""
    nodes = nodes if nodes is not None else [Node("QPU", [Out("final_data", [True, False])])]
    project = folder
    path = write_job(root / project / f"{job_id}.hdf5", {**metadata(folder, job_id), **attrs}, nodes)
    for node in nodes:
        write_log(root / project / job_id / f"{node.name}.log", HEADER.format(node=node.name) + "done\n")
    return path


# ---------------------------------------------------------------- git
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_AUTHOR_DATE": "2022-06-25T12:00:00+02:00",
    "GIT_COMMITTER_DATE": "2022-06-25T12:00:00+02:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(bare: Path, commits: list[tuple[str, dict[str, str | bytes]]]) -> list[str]:
    """A bare repository on branch main with one commit per (message, files); returns the SHAs."""
    work = bare.parent / (bare.name + ".work")
    git("init", "-q", "-b", "main", str(work))
    shas = []
    for message, files in commits:
        for rel, content in files.items():
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", message, cwd=work)
        shas.append(git("rev-parse", "HEAD", cwd=work))
    bare.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "-q", "--bare", str(work), str(bare))
    subprocess.run(["rm", "-rf", str(work)], check=True)
    return shas


TB_LOG = 'Traceback (most recent call last):\n  File "node.py", line 3, in <module>\nValueError: boom\n'
