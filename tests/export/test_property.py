"""Hypothesis: any generated data_store comes back from export + restore byte for byte."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.example.writer import NodeSpec, OutputSpec, write_job_hdf5
from reportgen.export import export_archive, restore_data_store
from tests.export.helpers import contents

NAMES = st.text(alphabet="abQ_-.β測 <&", min_size=1, max_size=8).filter(lambda s: s.strip(" .") == s and "/" not in s)
TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=10)  # HDF5 vlen: no NUL
SCALARS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, width=64),
    TEXT,
    st.dictionaries(TEXT, st.integers(-5, 5), max_size=3),
)


@st.composite
def outputs(draw) -> OutputSpec:
    kind = draw(SCALARS)  # one value drawn only to pick the type of every set
    same_type = {int: st.integers(), float: st.floats(allow_nan=False), str: TEXT}.get(type(kind), SCALARS)
    values = draw(st.lists(same_type.filter(lambda v: not (isinstance(v, float) and v != v)), min_size=0, max_size=4))
    times = [f"2024-01-01T00:00:0{i}.000Z" for i in range(len(values))]
    return OutputSpec(draw(NAMES.filter(lambda s: not s.endswith("_time"))), "d", draw(st.sampled_from(["", "MHz"])),
                      values, times)


@st.composite
def stores(draw) -> list[tuple[str, list[NodeSpec], dict[str, bytes]]]:
    jobs = []
    for index in range(draw(st.integers(1, 3))):
        node_names = draw(st.lists(NAMES, min_size=0, max_size=3, unique=True))
        nodes = [NodeSpec(n, "T", "desc", "bin.py", tuple({o.name: o for o in draw(st.lists(outputs(), max_size=3))}.values()))
                 for n in node_names]
        logs = {f"{n}.log": draw(st.binary(max_size=64)) for n in draw(st.lists(NAMES, max_size=3, unique=True))}
        jobs.append((f"j{index}", nodes, logs))
    return jobs


def _write_store(root: Path, jobs, stray: bytes) -> None:
    project = root / "proj"
    project.mkdir(parents=True)
    for job_id, nodes, logs in jobs:
        metadata = {"project": "proj", "job_eui": f"#/{job_id}", "job_description": "generated",
                    "creation_timestamp": "2024-01-01T00:00:10+00:00"}
        write_job_hdf5(project / f"{job_id}.hdf5", metadata, nodes)
        if logs:
            (project / job_id).mkdir()
            for name, data in logs.items():
                (project / job_id / name).write_bytes(data)
    (root / "notes.txt").write_bytes(stray)
    (root / "empty-dir").mkdir()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(jobs=stores(), stray=st.binary(max_size=32), fmt=st.sampled_from(["zip", "tar.gz", "tar.zst"]))
def test_export_restore_round_trip(jobs, stray: bytes, fmt: str):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data_store"
        _write_store(root, jobs, stray)
        summary = export_archive(root, Path(tmp) / "a", _options(fmt))
        assert summary.jobs == len(jobs)
        restore_data_store(Path(tmp) / "a", Path(tmp) / "restored")
        assert contents(Path(tmp) / "restored") == contents(root)
        shutil.rmtree(root)


def _options(fmt: str):
    from reportgen.export import ExportOptions

    return ExportOptions(fmt=fmt, workers=1)
