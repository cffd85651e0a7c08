"""Node logs ``<project>/<job id>/<node>.log`` as Flame captures them.

Each node's stdout and stderr are merged into one file.  Under the executor
``nodeio.context`` first prints the header below (reference 2.4); after it
comes whatever the node prints, with no timestamps or prefixes, and a Python
traceback when the node crashes.
"""

from __future__ import annotations

from reportgen.example.workflow import Parameters, Sets

RULE = "=" * 40
PLAYBOOK = "localhost,6379,0"


def render_header(node: str) -> str:
    return f"{RULE}\n|- Entropy lab context\n|   Node identity:   #{node}\n|   Playbook:        {PLAYBOOK}\n{RULE}\n"


def render_traceback(bin_name: str, line: int, call: str, error: str) -> str:
    """A real-looking traceback of a node script crashing inside numpy."""
    return (
        "Traceback (most recent call last):\n"
        f'  File "/home/entropy/jobs/current/{bin_name}", line {line}, in <module>\n'
        f"    {call}\n"
        '  File "/usr/local/lib/python3.9/site-packages/numpy/linalg/linalg.py", line 545, in inv\n'
        "    ainv = _umath_linalg.inv(a, signature=signature, extobj=extobj)\n"
        '  File "/usr/local/lib/python3.9/site-packages/numpy/linalg/linalg.py", line 88, in _raise_linalgerror_singular\n'
        '    raise LinAlgError("Singular matrix")\n'
        f"{error}\n"
    )


SINGULAR = ("errorCorrection.py", 41, "correction = np.linalg.inv(precorrected)", "numpy.linalg.LinAlgError: Singular matrix")


def _body(node: str, sets: Sets, params: Parameters, count: int) -> list[str]:
    """What each node of the example prints per loop iteration."""
    if node == "calibration_1":
        return [f"connecting to {params.instrument_address}", "calibration_status: calibrated"]
    if node == "scan_list":
        done = ["scan finished"] if count == len(sets.scan) else []
        return [f"scan point {i + 1}/{len(sets.scan)}: {sets.scan[i]} MHz" for i in range(count)] + done
    if node == "external_instruments":
        return [f"laser setpoint {sets.scan[i]} MHz reached" for i in range(count)]
    if node == "QPU":
        return [f"running circuit param : {sets.scan[i]}" for i in range(count)]
    if node == "correction_1":
        return [f"correction {sets.correction[i]}" for i in range(count)]
    return [f"{sets.correction[i][0][0]}" for i in range(count)]


def render_node_log(node: str, sets: Sets, params: Parameters, count: int, crash: bool = False) -> str:
    """Header, then ``count`` iterations of output, then a traceback if it crashed."""
    lines = _body(node, sets, params, count)
    text = render_header(node) + "".join(line + "\n" for line in lines)
    return text + (render_traceback(*SINGULAR) if crash else "")
