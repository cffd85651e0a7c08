"""The graph a job becomes, from hand-built records (pure: no files)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest

from reportgen.export import graph as g
from reportgen.records import Commit, Job, LogFile, NodeGroup, Output, OutputData, Problem, Timestamps

END = datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)


def _output(node: str, name: str, kind: str, shape: tuple[int, ...], **extra) -> Output:
    return Output(
        name=name, hdf5_path=f"/{node}/{name}", description=f"{name} description", units="MHz", kind=kind,
        dtype="float64", shape=shape, n_sets=shape[0] if shape else 0, nbytes=8, preview=(), preview_truncated=False,
        times=Timestamps(shape[0] if shape else 0, None, None, True, 0, ()), **extra,
    )


def _log(node: str, traceback: bool = False) -> LogFile:
    return LogFile(node=node, path=f"p/j1/{node}.log", size=10, mtime=END, preview="hello\n", truncated=False,
                   line_count=1, error_lines=(), traceback_lines=(3,) if traceback else (), invalid_utf8=False)


def _job(**changes) -> Job:
    qpu = NodeGroup("QPU", "/QPU", "QPUcircuitRunner", "runs circuits", "qpu.py", (("bin", "qpu.py"),), (
        _output("QPU", "freq", "float", (2, 3)),
        _output("QPU", "report", "json", (1,)),
        _output("QPU", "names", "str", (2,)),
        _output("QPU", "lost", "missing", (0,)),
        _output("QPU", "huge", "float", (10**9,), too_large=True),
    ))
    job = Job(
        project="p", job_id="j1", hdf5_file="p/j1.hdf5", log_dir="p/j1", file_size=100, file_mtime=END,
        root_attrs=(("job_eui", "#/j1"), ("project", "p")), description="a run", job_eui="#/j1",
        creation_timestamp=END.isoformat(), end_time=END, start_time=None, start_time_source="",
        nodes=(qpu,), logs=(_log("QPU"), _log("crashed node", traceback=True)),
        workflow=Commit("workflow", "a" * 40, "present"), params=Commit("params", "b" * 40, "present"),
        status="failed-nodes", problems=(Problem("warning", "log-without-node", "p/j1/crashed node.log", "", "x"),),
    )
    return replace(job, **changes)


def _data() -> dict[str, OutputData]:
    return {
        "/QPU/freq": OutputData("/QPU/freq", "float", np.arange(6.0).reshape(2, 3), (END, None)),
        "/QPU/report": OutputData("/QPU/report", "json", ({"png": "abc", "n": float("nan")},), (END,)),
        "/QPU/names": OutputData("/QPU/names", "str", ("a", "β"), (END, END)),
        "/QPU/lost": OutputData("/QPU/lost", "missing", np.zeros(0), (END,)),
    }


def _inputs(job: Job | None = None) -> g.JobInputs:
    raw = (g.StoreFile("p/j1.hdf5", 100, "0" * 64, 1), g.StoreFile("p/j1/crashed node.log", 10, "1" * 64, 2))
    return g.JobInputs(
        job=job or _job(), outputs=_data(), workflow_files={"workflow.py": b"print(1)\n"},
        parameters=b'{"QPU": {"shots": 100}, "other": 3}', raw_files=raw,
    )


def _by_type(graph: g.Graph) -> dict[str, list[g.GraphNode]]:
    found: dict[str, list[g.GraphNode]] = {}
    for node in graph.nodes:
        found.setdefault(node.node_type, []).append(node)
    return found


def test_job_becomes_workflow_with_calculations_inputs_and_outputs():
    graph = g.build_job_graph(_inputs())
    types = _by_type(graph)
    (job,) = types[g.WORKFLOW_NODE]
    assert job.process_type == "entropy.job" and job.label == "j1" and job.description == "a run"
    assert job.attributes["exit_status"] == g.EXIT_STATUS["failed-nodes"] != 0
    assert job.attributes["sealed"] is True and job.attributes["process_state"] == "finished"
    assert job.attributes["entropy_root_attributes"] == {"job_eui": "#/j1", "project": "p"}
    assert job.ctime == "2024-03-01T12:00:00.250000"
    calcs = {c.label: c for c in types[g.CALC_NODE]}
    assert set(calcs) == {"QPU", "crashed node"}  # the second is known only from its log
    assert calcs["crashed node"].attributes["exit_status"] == 1
    assert calcs["QPU"].attributes["process_label"] == "QPUcircuitRunner"
    links = {(ln.type, ln.label) for ln in graph.links}
    assert {("input_work", "workflow"), ("input_work", "parameters"), ("input_work", "raw_files")} <= links
    assert ("call_calc", "QPU") in links and ("input_calc", "parameters") in links
    assert ("create", "freq") in links and ("return", "QPU__freq") in links
    # one create and one return per exported output; the too-large one is a Log instead
    assert sum(ln.type == "create" for ln in graph.links) == 4
    assert any("huge" in log.message and log.levelname == "WARNING" for log in graph.logs)
    assert {log.loggername for log in graph.logs} == {"entropy.node", "reportgen.inspect", "reportgen.export"}


def test_output_kinds_map_to_aiida_data_types():
    graph = g.build_job_graph(_inputs())
    outputs = {n.label: n for n in graph.nodes if n.extras.get("entropy_output")}
    freq = outputs["freq"]
    assert freq.node_type == g.ARRAY and freq.attributes == {"array|times": [2], "array|values": [2, 3]}
    values = np.load(io.BytesIO(next(f.content for f in freq.files if f.path == "values.npy")))
    assert values.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert freq.extras["entropy_units"] == "MHz" and freq.description == "freq description"
    assert outputs["report"].node_type == g.DICT and outputs["report"].attributes == {"png": "abc", "n": "nan"}
    assert outputs["names"].node_type == g.LIST and outputs["names"].attributes == {"list": ["a", "β"]}
    assert outputs["names"].extras["entropy_times"] == ["2024-03-01T12:00:00.250Z"] * 2
    assert outputs["lost"].node_type == g.ARRAY and outputs["lost"].attributes == {"array|times": [1]}


def test_uuids_are_deterministic_and_distinct():
    first, second = g.build_job_graph(_inputs()), g.build_job_graph(_inputs())
    assert first == second
    uuids = [n.uuid for n in first.nodes] + [log.uuid for log in first.logs]
    assert len(set(uuids)) == len(uuids)
    other = g.build_job_graph(_inputs(_job(job_id="j2")))
    assert not {n.uuid for n in first.nodes} & {n.uuid for n in other.nodes}


def test_corrupt_job_keeps_its_logs_and_problems():
    problem = Problem("error", "hdf5-unreadable", "p/j1.hdf5", "", "not a valid HDF5 file")
    job = _job(nodes=(), status="corrupt", problems=(problem,), root_attrs=())
    graph = g.build_job_graph(replace(_inputs(job), outputs={}))
    (wf,) = [n for n in graph.nodes if n.node_type == g.WORKFLOW_NODE]
    assert wf.attributes["exit_status"] == g.EXIT_STATUS["corrupt"] and wf.attributes["entropy_status"] == "corrupt"
    assert any(log.node == wf.uuid and log.levelname == "ERROR" and "not a valid HDF5" in log.message
               for log in graph.logs)
    assert sorted(n.label for n in graph.nodes if n.node_type == g.CALC_NODE) == ["QPU", "crashed node"]
    raw = next(n for n in graph.nodes if n.attributes.get("entropy_role") == g.ROLE_RAW)
    assert [f.store_path for f in raw.files] == ["p/j1.hdf5", "p/j1/crashed node.log"]


@pytest.mark.parametrize("name", ["QPU", "a.b", "a-b", "測定", "<script>", "1x", "", "a__b", "_x_"])
def test_safe_label_is_an_identifier(name):
    label = g.safe_label(name)
    assert label.isidentifier() and label.isascii() and "__" not in label and label[0].isalpha()


def test_safe_labels_do_not_collide():
    names = ["a.b", "a-b", "a b", "a_b", "A_b"]
    assert len({g.safe_label(n) for n in names}) == len(names)


def test_member_names_keep_plain_paths_and_encode_the_rest():
    names = g.build_member_names(["p/j1.hdf5", "p/J1.HDF5", "p/測定.log", "p/CON", "p/.hidden"])
    assert names["p/j1.hdf5"] == "p/j1.hdf5"
    assert all(names[p].startswith(".encoded/") for p in ["p/J1.HDF5", "p/測定.log", "p/CON", "p/.hidden"])
    assert len(set(names.values())) == 5


def test_jsonable_values_stay_valid_json():
    assert g.build_jsonable([float("inf"), 2**70, np.int64(3), (1, 2)]) == ["inf", str(2**70), 3, [1, 2]]
