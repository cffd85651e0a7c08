"""Hypothesis round trip: a job written the way Entropy's writer does reads back to equal records."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.example.writer import NodeSpec, OutputSpec, build_jsonb_value, build_stored_values, format_set_time, write_job_hdf5
from reportgen.readers.hdf5 import read_hdf5_job
from reportgen.records import ReadLimits

T0 = datetime(2022, 6, 25, 12, 52, 14, tzinfo=timezone.utc)
NAME = st.text(alphabet="abcXYZ_βΔ測定°µ0123456789", min_size=1, max_size=8).filter(lambda s: not s.endswith("_time"))
TEXT = st.text(alphabet="abc βΔ測定<>&\"'\\", max_size=12).map(lambda s: "x" + s)  # never valid JSON
INT = st.integers(-(2**63), 2**63 - 1)
FLOAT = st.floats(allow_nan=False, allow_infinity=False, width=64)


def rows_of(element: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(element, max_size=7)


def shaped(element: st.SearchStrategy) -> st.SearchStrategy:
    """Equal-shape nested lists: one (d1, d2) shape per output."""
    return st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(
        lambda shape: rows_of(st.lists(st.lists(element, min_size=shape[1], max_size=shape[1]), min_size=shape[0], max_size=shape[0]))
    )


JSONISH = st.one_of(
    st.none(),
    st.dictionaries(st.text(alphabet="ab測é", max_size=3), st.one_of(st.integers(-5, 5), st.text(alphabet="xé", max_size=3)), max_size=3),
    st.just(2**70),
)
VALUES = st.one_of(
    rows_of(INT),
    rows_of(FLOAT),
    rows_of(st.booleans()),
    rows_of(TEXT),
    shaped(INT),
    shaped(FLOAT),
    shaped(TEXT),
    st.lists(JSONISH, min_size=1, max_size=5).map(lambda rows: [*rows, None]),
)


@st.composite
def output_specs(draw, name: str) -> OutputSpec:
    values = draw(VALUES)
    offsets = draw(st.lists(st.integers(0, 10**6), min_size=len(values), max_size=len(values)))
    stamps = [format_set_time(T0 + timedelta(milliseconds=ms)) for ms in offsets]
    return OutputSpec(name, draw(TEXT), draw(st.sampled_from(["", "MHz", "°C", "µs", "JSON", "bool"])), values, stamps)


@st.composite
def node_specs(draw) -> list[NodeSpec]:
    names = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
    nodes = []
    for name in names:
        out_names = draw(st.lists(NAME, max_size=3, unique=True))
        outputs = tuple(draw(output_specs(out)) for out in out_names)
        nodes.append(NodeSpec(name, "QPUcircuitRunner", draw(TEXT), "circuitExec.py", outputs))
    return nodes


def expected_output(node: NodeSpec, spec: OutputSpec) -> dict:
    stored = build_stored_values(spec.values)
    rows = [build_jsonb_value(v) for v in spec.values][:5]
    if stored.kind == "json":
        preview = tuple(json.loads(json.dumps(v)) for v in rows)
    else:
        preview = tuple(stored.data[:5].tolist())
    millis = sorted(spec.times)
    return {
        "name": spec.name,
        "hdf5_path": f"/{node.name}/{spec.name}",
        "kind": stored.kind,
        "shape": tuple(stored.data.shape),
        "preview": preview,
        "description": spec.description,
        "units": spec.units,
        "times": (len(spec.times), millis[0] if millis else None, millis[-1] if millis else None, spec.times == millis),
    }


def actual_output(out) -> dict:
    first = format_set_time(out.times.first) if out.times.first else None
    last = format_set_time(out.times.last) if out.times.last else None
    return {
        "name": out.name,
        "hdf5_path": out.hdf5_path,
        "kind": out.kind,
        "shape": out.shape,
        "preview": out.preview,
        "description": out.description,
        "units": out.units,
        "times": (out.times.count, first, last, out.times.sorted),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes=node_specs(), description=TEXT)
def test_written_job_reads_back_equal(nodes, description):
    metadata = {"project": "p", "job_eui": "#/j1", "job_description": description, "creation_timestamp": "2022-06-25T14:41:05+02:00"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "j1.hdf5"
        write_job_hdf5(path, metadata, nodes)
        job = read_hdf5_job(path, "p/j1.hdf5", ReadLimits())
    assert job.readable and not job.problems
    assert dict(job.root_attrs)["job_description"] == description
    assert [n.name for n in job.nodes] == sorted(n.name for n in nodes)
    by_name = {n.name: n for n in job.nodes}
    for node in nodes:
        got = by_name[node.name]
        assert (got.type, got.description, got.bin) == (node.type, node.description, node.bin)
        want = [expected_output(node, spec) for spec in sorted(node.outputs, key=lambda s: s.name)]
        assert [actual_output(o) for o in got.outputs] == want
