"""The "Scan with error correction" workflow of Entropy's shipped example.

Node names, node classes, bins, outputs, units and retention are those of
``entropylab/flame/example/complex/`` (reference 2.3).  Only retention-2
outputs reach the HDF5 file, so ``calibration_1``, ``scan_list`` and
``external_instruments`` are groups with attributes only.  The value shapes
follow what the example's node scripts pass to ``set()``:

* ``QPU/precorrected_data`` ("JSON"): 2x2 float lists, ``(N, 2, 2) float64``
* ``QPU/final_data`` ("bool"): ``error_correction[0][0]``, an int: ``(N,) int64``
* ``correction_1/correction_data`` ("JSON"): 2x2 int lists, ``(N, 2, 2) int64``
* ``final_report/estimated_parameter`` ("MHz"): 100 floats, ``(N, 100) float64``
* ``final_report/final_plot`` ("png"): ``{"png": <base64 PNG>}``, JSON strings

The source files written into ``workflow.git`` are our own short stand-ins
with the same structure (workflow.py, schemas, library stubs, node scripts).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from reportgen.example.png import encode_base64, render_plot_png
from reportgen.example.writer import NodeSpec, OutputSpec, format_set_time

WORKFLOW_NAME = "Scan with error correction"
WORKFLOW_DESCRIPTION = (
    "Performs Bayesian estimation for the optimal parameters and uses this during the circuit run."
)


@dataclass(frozen=True)
class OutputDef:
    name: str
    description: str
    units: str
    retention: int


@dataclass(frozen=True)
class NodeDef:
    """A node instance of the workflow and the schema of its class."""

    name: str
    type: str
    description: str
    bin: str
    icon: str
    inputs: tuple[tuple[str, str, str, int], ...]  # name, description, units, type
    outputs: tuple[OutputDef, ...]


NODES: tuple[NodeDef, ...] = (
    NodeDef(
        "calibration_1", "CalibrateSystem", "Makes sure that system is calibrated", "calibrate.py",
        "bootstrap/gear-fill.svg",
        (("instrumentAddress", "instrument IP address for calibration", "IP address", 1),),
        (OutputDef("calibration_status", "Calibration status", "calibrated, uncalibrated", 0),),
    ),
    NodeDef(
        "scan_list", "TaskList", "Does scan of parameters and triggers circuit execution", "sequence.py",
        "bootstrap/list-task.svg",
        (
            ("calibration", "node will execute only if it receives positive calibration status", "status", 1),
            ("scan_points", "an array for setpoint execution", "MHz", 1),
            ("laser_setpoint_locked", "Triger when laser setpoint is set", "bool", 2),
            ("circuit_done", "Triger when circuit execution is done", "bool", 2),
        ),
        (
            OutputDef("circuit_specification", "Triggers circuit execution by providing information for run", "JSON", 0),
            OutputDef("scan_setpoint", "Laser setpoint", "MHz", 0),
            OutputDef("status", "window into what node is doing", "json", 1),
        ),
    ),
    NodeDef(
        "external_instruments", "ExternalScan", "Sets and maintains instrument variables", "externalScan.py",
        "bootstrap/sliders.svg",
        (("set_point", "node will execute only if it receives positive calibration status", "status", 2),),
        (OutputDef("setpoint_reached", "Trigger", "bool", 0),),
    ),
    NodeDef(
        "QPU", "QPUcircuitRunner", "Executes given circuit sequence", "circuitExec.py", "bootstrap/cpu.svg",
        (("circuit_param", "cirucuit description", "JSON", 2), ("error_correction", "corrected data", "JSON", 2)),
        (
            OutputDef("precorrected_data", "data send for error correction", "JSON", 2),
            OutputDef("circuit_finished", "Event trigger", "bool", 0),
            OutputDef("final_data", "circuit averaged output", "bool", 2),
        ),
    ),
    NodeDef(
        "correction_1", "BayesianEstimation", "error correction algorithm", "errorCorrection.py",
        "bootstrap/speedometer.svg",
        (("precorrected_data", "cirucuit description", "JSON", 2),),
        (OutputDef("correction_data", "corrected data", "JSON", 2),),
    ),
    NodeDef(
        "final_report", "FinalDataAnalysis", "Final fitting and plotting", "plot.py", "bootstrap/file-bar-graph.svg",
        (("data", "experiment results", "JSON", 2),),
        (
            OutputDef("estimated_parameter", "final result", "MHz", 2),
            OutputDef("final_plot", "to-do", "png", 2),
        ),
    ),
)

DEFAULT_SCAN_POINTS = (1.23, 4.2, 10.2, 18.2, 24.2, 27.8, 28.1, 28.6, 29.1, 29.2, 29.1, 30.0, 30.12)


@dataclass(frozen=True)
class Parameters:
    """One version of ``parameters.json``."""

    instrument_address: str
    scan_points: tuple[float, ...]

    def as_json(self) -> dict:
        return {
            "calibration_1": {"instrumentAddress": self.instrument_address},
            "scan_list": {"scan_points": list(self.scan_points)},
        }


@dataclass(frozen=True)
class Sets:
    """The values every retention-2 output was set to in one run, and when."""

    iterations: tuple[datetime, ...]
    scan: tuple[float, ...]
    precorrected: tuple[list, ...]
    correction: tuple[list, ...]


def build_sets(rng: random.Random, params: Parameters, start: datetime, count: int) -> Sets:
    """``count`` loop iterations of the QPU <-> correction <-> report cycle."""
    moments, scan, pre, corr = [], [], [], []
    moment = start
    for index in range(count):
        moment += timedelta(milliseconds=rng.randint(90, 450))
        circuit = params.scan_points[index % len(params.scan_points)]
        moments.append(moment)
        scan.append(circuit)
        pre.append([
            [circuit + rng.random() * 10, circuit / 2 + rng.random() * 10],
            [circuit / 2 + rng.random() * 10, circuit + rng.random() * 10],
        ])
        corr.append([[rng.randint(1, 9), rng.randint(1, 9)], [rng.randint(1, 9), rng.randint(1, 9)]])
    return Sets(tuple(moments), tuple(scan), tuple(pre), tuple(corr))


def _times(moments: tuple[datetime, ...], offset_ms: int, rng: random.Random) -> list[str]:
    return [format_set_time(m + timedelta(milliseconds=offset_ms + rng.randint(0, 3))) for m in moments]


def estimated_parameter(value: float) -> list[float]:
    """``np.cos(a * x / 10)`` over ``np.linspace(0, 10, 100)``, as plot.py sets it."""
    return [math.cos(value * (10 * i / 99) / 10) for i in range(100)]


def build_final_plot(value: float) -> dict[str, str]:
    return {"png": encode_base64(render_plot_png(value))}


def _output(node: NodeDef, name: str, values: list, times: list[str]) -> OutputSpec:
    spec = next(o for o in node.outputs if o.name == name)
    return OutputSpec(name, spec.description, spec.units, values, times)


def build_node_specs(sets: Sets, rng: random.Random, stop: dict[str, int] | None = None) -> list[NodeSpec]:
    """The six node groups of one job; ``stop`` cuts a node's outputs short.

    ``stop[node] = k`` keeps the first k sets of that node (it crashed), and
    the nodes fed by it stop one iteration later.
    """
    stop = stop or {}
    count = len(sets.iterations)
    qpu_n = min(count, stop.get("QPU", count), stop.get("correction_1", count) + 1)
    corr_n = min(count, stop.get("correction_1", count), qpu_n)
    final_n = min(count, stop.get("final_report", count), corr_n)
    by_name = {node.name: node for node in NODES}
    finals = [sets.correction[i][0][0] for i in range(final_n)]
    outputs = {
        "QPU": (
            _output(by_name["QPU"], "precorrected_data", list(sets.precorrected[:qpu_n]), _times(sets.iterations[:qpu_n], 2, rng)),
            _output(by_name["QPU"], "final_data", finals[:corr_n], _times(sets.iterations[:corr_n], 9, rng)),
        ),
        "correction_1": (
            _output(by_name["correction_1"], "correction_data", list(sets.correction[:corr_n]), _times(sets.iterations[:corr_n], 6, rng)),
        ),
        "final_report": (
            _output(by_name["final_report"], "estimated_parameter", [estimated_parameter(v) for v in finals], _times(sets.iterations[:final_n], 24, rng)),
            _output(by_name["final_report"], "final_plot", [build_final_plot(v) for v in finals], _times(sets.iterations[:final_n], 61, rng)),
        ),
    }
    return [NodeSpec(n.name, n.type, n.description, n.bin, outputs.get(n.name, ())) for n in NODES]


# ---------------------------------------------------------------- repository files
def render_schema(node: NodeDef) -> str:
    """``entropynodes/schema/<Class>.json`` in the layout of Flame's schemas."""
    schema = {
        "name": node.type,
        "description": node.description,
        "command": "python3",
        "bin": node.bin,
        "dependancies": [],
        "icon": node.icon,
        "inputs": [{
            "description": {i[0]: i[1] for i in node.inputs},
            "units": {i[0]: i[2] for i in node.inputs},
            "type": {i[0]: i[3] for i in node.inputs},
        }],
        "outputs": [{
            "description": {o.name: o.description for o in node.outputs},
            "units": {o.name: o.units for o in node.outputs},
            "retention": {o.name: o.retention for o in node.outputs},
        }],
    }
    return json.dumps(schema, indent=2) + "\n"


def render_library_class(node: NodeDef) -> str:
    inputs = "\n".join(f"        self.i.declare({i[0]!r})" for i in node.inputs)
    outputs = "\n".join(f"        self.o.declare({o.name!r})" for o in node.outputs)
    return (
        f'"""Generated node class {node.type}: {node.description}."""\n\n'
        "from entropylab.flame.workflow import Node\n\n\n"
        f"class {node.type}(Node):\n"
        f"    def __init__(self, name, **inputs):\n"
        f"        super().__init__({node.type!r}, name, schema={node.type + '.json'!r}, **inputs)\n"
        f"{inputs}\n{outputs}\n"
    )


def render_library_init() -> str:
    return "".join(f"from .{n.type} import {n.type}\n" for n in NODES)


def render_workflow_py(revision: int) -> str:
    timeout = 30 + 10 * revision
    return f'''import entropynodes.library as expNodes
from entropylab.flame.workflow import Workflow

# revision {revision}: execution timeout {timeout} s
wf = Workflow(
    {WORKFLOW_NAME!r},
    description={WORKFLOW_DESCRIPTION!r},
)

calibration = expNodes.CalibrateSystem("calibration_1")
scan_list = expNodes.TaskList("scan_list", calibration=calibration.o.calibration_status)
laser = expNodes.ExternalScan("external_instruments", set_point=scan_list.o.scan_setpoint)
scan_list.i.laser_setpoint_locked = laser.o.setpoint_reached

qpu = expNodes.QPUcircuitRunner("QPU", circuit_param=scan_list.o.circuit_specification)
scan_list.i.circuit_done = qpu.o.circuit_finished

correction = expNodes.BayesianEstimation("correction_1", precorrected_data=qpu.o.precorrected_data)
qpu.i.error_correction = correction.o.correction_data

final_report = expNodes.FinalDataAnalysis("final_report", data=qpu.o.final_data)

wf.register()
'''


def render_node_script(node: NodeDef, revision: int) -> str:
    defines = "\n".join(
        f"output.define({o.name!r}, units={o.units!r}, description={o.description!r}, retention={o.retention})"
        for o in node.outputs
    )
    streams = "\n".join(f"input.stream({i[0]!r}, units={i[2]!r}, description={i[1]!r})" for i in node.inputs)
    return f'''import time

import entropylab.flame.nodeio as nodeio

nodeio.context(name={node.type!r}, description={node.description!r}, icon={node.icon!r})

input = nodeio.Inputs()
{streams}

output = nodeio.Outputs()
{defines}

nodeio.register()

POLL_S = {0.05 * (revision + 1):.2f}  # revision {revision}

while nodeio.status.active:
    time.sleep(POLL_S)
'''


def build_workflow_tree(revision: int) -> dict[str, str]:
    """Every file of ``workflow.git`` at one revision, by path."""
    files = {"workflow.py": render_workflow_py(revision), "entropynodes/library/__init__.py": render_library_init()}
    for node in NODES:
        files[f"entropynodes/schema/{node.type}.json"] = render_schema(node)
        files[f"entropynodes/library/{node.type}.py"] = render_library_class(node)
        files[node.bin] = render_node_script(node, revision)
    return files


def build_params_tree(params: Parameters) -> dict[str, str]:
    return {"parameters.json": json.dumps(params.as_json(), indent=2) + "\n"}


def build_parameters(rng: random.Random, revision: int) -> Parameters:
    """A plausible edit of parameters.json: shifted and re-spaced scan points."""
    if revision == 0:
        return Parameters("123.192.41.5", DEFAULT_SCAN_POINTS)
    shift = round(rng.uniform(-1.0, 1.0), 2)
    count = rng.randint(8, 16)
    points = tuple(round(1.0 + shift + 29.0 * (i / (count - 1)) ** 0.7, 2) for i in range(count))
    address = f"123.192.41.{rng.choice((5, 5, 6, 17))}"
    return Parameters(address, points)
