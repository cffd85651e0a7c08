"""A data_store of one project ``p`` with one job ``j1``, written with h5py as Entropy's writer
would (reference ``entropyhub-layout.md``); its site built in process, its job read and its
page's text."""

from __future__ import annotations

import html
import re
from pathlib import Path

import h5py
import numpy as np

STR = h5py.string_dtype("utf-8")


def write_root_attrs(f: h5py.File, job: str, timestamp: str = "2022-06-25T14:41:05.123456+02:00") -> None:
    for key, value in (("project", "p"), ("job_eui", "#/" + job), ("job_description", "d"),
                       ("workflow_eui", "#/w1"), ("parameters_eui", "#/p1"), ("creation_timestamp", timestamp)):
        f.attrs.create(key, value, dtype=STR)


def write_node(f: h5py.File, name: str = "n") -> h5py.Group:
    group = f.create_group(name)
    for key, value in (("type", "T"), ("description", "node"), ("bin", "n.py")):
        group.attrs.create(key, value, dtype=STR)
    return group


def stamps(n: int) -> np.ndarray:
    return np.array([f"2022-06-25T12:52:14.{i % 1000:03d}Z" for i in range(n)], dtype=object)


def write_output(group: h5py.Group, name: str, data, times=None, units: str = "u", **kw) -> h5py.Dataset:
    n = len(data) if getattr(data, "ndim", 1) else 1
    group.create_dataset(name + "_time", data=stamps(n) if times is None else times, dtype=STR)
    ds = group.create_dataset(name, data=data, **kw)
    ds.attrs.create("description", "desc", dtype=STR)
    ds.attrs.create("units", units, dtype=STR)
    return ds


def new_store(tmp_path: Path, timestamp: str = "2022-06-25T14:41:05.123456+02:00"):
    """(store, open job file, node group) of one project ``p`` with one job ``j1``; close the file."""
    store = tmp_path / "store"
    (store / "p" / "j1").mkdir(parents=True)
    (store / "p" / "j1" / "n.log").write_bytes(b"ok\n")
    f = h5py.File(store / "p" / "j1.hdf5", "w")
    write_root_attrs(f, "j1", timestamp)
    return store, f, write_node(f)


def page_text(site: Path) -> str:
    raw = (site / "p" / "j1.html").read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def build(store: Path, site: Path) -> None:
    from reportgen.site.build import BuildOptions, build_site

    build_site(store, site, BuildOptions(workers=1, show_progress=False))


def read_job_of(store: Path):
    from reportgen.readers.datastore import read_job, scan_data_store
    from reportgen.readers.git import CommitCache

    ref = scan_data_store(store).projects[0].jobs[0]
    return read_job(store, ref, commits=CommitCache())
