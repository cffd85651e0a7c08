"""The notebook hand-off: a Jupyter notebook per job that loads its outputs with h5py.

The page's h5py snippet opens one dataset; the notebook opens them all, with
their ``_time`` stamps, so an analysis starts from the job in one click.  It is
plain nbformat 4.5 JSON rendered here (cell ids numbered, keys sorted), so two
builds give the same bytes and the site needs no Jupyter package.  Every name
from the data_store reaches the code as a Python string literal (``repr``) and
the markdown holds only escaped text, so an output called ``")\\nimport os`` or
a description with ``<script>`` stays data.
"""

from __future__ import annotations

import builtins
import json
import keyword
import re
from datetime import timezone
from typing import Any

from reportgen.jsondepth import load_json
from reportgen.records import Job, Output
from reportgen.site.paths import build_saved_name

# A notebook is a starting point, not a copy of the page: past this many outputs
# the rest are named in a comment, which keeps the file small for huge jobs.
MAX_OUTPUTS = 500
PARAMETERS_BYTES = 256 * 1024  # parameters.json embedded up to this size

_READER = '''\
from datetime import datetime, timezone


def read_output(path):
    """(values, times) of one output.

    values: numpy values, text as str (UTF-8, an undecodable byte shown as U+FFFD); None for a
    dataset with no dataspace.  times: the _time stamps as numpy datetime64[ms] in UTC; None
    without a _time dataset; the stamps as stored when any is not an ISO time with an offset
    (a stamp without one is not taken to be UTC, as the run catalog does not guess either)."""
    with h5py.File(JOB_FILE, "r") as f:
        values = read_dataset(f[path])
        stamps = read_dataset(f[path + "_time"]) if path + "_time" in f else None
    return values, stamps_as_utc(stamps)


def read_dataset(ds):
    if ds.shape is None:  # a null dataspace: no value at all
        return None
    if h5py.check_string_dtype(ds.dtype):  # ASCII-tagged text may hold UTF-8 all the same
        return ds.asstr("utf-8", "replace")[()]
    return ds[()]


def stamps_as_utc(stamps):
    if stamps is None or np.size(stamps) == 0:  # an output never set has an empty float _time
        return None if stamps is None else np.array([], dtype="datetime64[ms]")
    moments = []
    for stamp in np.ravel(stamps):
        try:
            moment = datetime.fromisoformat(stamp[:-1] + "+00:00" if stamp.endswith("Z") else stamp)
        except (AttributeError, TypeError, ValueError):
            return stamps
        if moment.tzinfo is None:
            return stamps
        moments.append(moment.astimezone(timezone.utc).replace(tzinfo=None))
    return np.array(moments, dtype="datetime64[ms]").reshape(np.shape(stamps))'''


def render_notebook(job: Job) -> bytes:
    """The notebook of ``job`` as UTF-8 JSON; the job must have an HDF5 file."""
    cells = [_markdown(_title(job)), _code(_setup(job))]
    if parameters := _parameters_source(job):
        cells.append(_code(parameters))
    cells.append(_code(_READER))
    listed = 0
    variables = _variables([node.name for node in job.nodes])
    for node in job.nodes:
        outputs = [o for o in node.outputs if o.kind != "missing"][: max(0, MAX_OUTPUTS - listed)]
        if outputs:
            cells += [_markdown(f"## Node {_md(node.name)}"),
                      _code(_node_source(node.name, variables[node.name], outputs))]
        listed += len(outputs)
    total = sum(1 for node in job.nodes for o in node.outputs if o.kind != "missing")
    if total > listed:
        cells.append(_markdown(f"{total - listed:,} more outputs are not listed here; `read_output(path)` "
                               "reads any of them (the job page gives each path)."))
    if plotted := _first_plotted(job):
        cells.append(_code(_plot_source(*plotted)))
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    # ensure_ascii: a name held with surrogates (undecodable bytes) still makes valid JSON
    return (json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def notebook_download_name(job: Job) -> str:
    """The file name a browser saves the notebook as: ``<project>_<job>.ipynb``, safe on any OS
    (``paths.build_saved_name``), so the notebooks of two projects' ``j1`` do not overwrite each other."""
    return build_saved_name((job.project, job.job_id), "ipynb")


def _title(job: Job) -> str:
    lines = [f"# Job {_md(job.job_id)} ({_md(job.project)})", ""]
    if job.description:
        lines += [_md(job.description), ""]
    lines.append("Run this notebook from the data_store folder, or set `DATA_STORE` below to where it is. "
                 "`JOB` holds what the run catalog shows of the job.")
    return "\n".join(lines)


def _setup(job: Job) -> str:
    summary = {
        "project": job.project,
        "job_id": job.job_id,
        "status": job.status,
        "start_time": job.start_time.astimezone(timezone.utc).isoformat() if job.start_time else None,
        "end_time": job.end_time.astimezone(timezone.utc).isoformat() if job.end_time else None,
        "workflow_commit": job.workflow.sha or None,
        "parameters_commit": job.params.sha or None,
    }
    lines = ["from pathlib import Path", "", "import h5py", "import numpy as np", "",
             'DATA_STORE = Path(".")  # the data_store folder',
             f"JOB_FILE = DATA_STORE / {job.hdf5_file!r}", "JOB = {"]
    lines += [f"    {key!r}: {value!r}," for key, value in summary.items()]
    lines.append("}")
    return "\n".join(lines)


def _parameters_source(job: Job) -> str:
    """``PARAMETERS``: the job's parameters.json at its commit, when it is JSON and small enough."""
    text = next((f.text for f in job.params.files if f.path == "parameters.json" and f.text is not None), None)
    if text is None or len(text.encode("utf-8", "surrogatepass")) > PARAMETERS_BYTES:
        return ""
    try:
        load_json(text)
    except (ValueError, RecursionError):
        return ""
    return ("import json\n\n"
            f"# parameters.json at the job's parameters commit {job.params.sha[:12]}\n"
            f"PARAMETERS = json.loads({text!r})")


def _node_source(node: str, variable: str, outputs: list[Output]) -> str:
    lines = [f"# node {_comment(node)}: {{output name: (values, times)}}", f"{variable} = {{"]
    for output in outputs:
        note = f"  # units {_comment(output.units)}" if output.units else ""
        lines.append(f"    {output.name!r}: read_output({output.hdf5_path!r}),{note}")
    lines.append("}")
    return "\n".join(lines)


def _first_plotted(job: Job) -> tuple[str, str] | None:
    """(name, path) of the first output with numbers set one at a time: the one to plot first."""
    for node in job.nodes:
        for output in node.outputs:
            if output.is_series:
                return output.name, output.hdf5_path
    return None


def _plot_source(name: str, path: str) -> str:
    return "\n".join([
        "# A first look (needs matplotlib)",
        "import matplotlib.pyplot as plt",
        "",
        f"values, times = read_output({path!r})",
        "x = times if times is not None and times.dtype.kind == \"M\" else np.arange(len(values))",
        "plt.plot(x, values, marker=\".\")",
        f"plt.title({name!r})",
        "plt.show()",
    ])


def _variables(nodes: list[str]) -> dict[str, str]:
    """A distinct Python identifier for each node's dict (``QPU``, ``node_2_scan``, ``a_b_2``),
    never a keyword nor a name the notebook defines."""
    used: set[str] = set()
    names = {}
    for node in nodes:
        base = re.sub(r"\W", "_", node, flags=re.ASCII) or "node"
        base = f"node_{base}" if not base[0].isalpha() or base in _RESERVED else base
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        names[node] = name
    return names


# What a node's dict must never be called: a keyword, a builtin (``print``, ``list``), or a name the
# notebook itself defines (a node called ``JOB_FILE`` would break every later cell).
_RESERVED = frozenset((*keyword.kwlist, *dir(builtins), "DATA_STORE", "JOB_FILE", "JOB", "PARAMETERS", "read_output", "read_dataset", "stamps_as_utc", "datetime", "timezone",
                       "values", "times", "x", "h5py", "np", "json", "Path", "plt"))


def _md(text: str) -> str:
    """Text shown as itself in a markdown cell: every ASCII punctuation character backslash-escaped
    (CommonMark allows it for all of them), so ``<script>`` or ``**`` is never markup."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", " ".join(text.split()))


def _comment(text: str) -> str:
    """Text on one comment line, as a literal: no newline ends the comment, no NUL breaks the source."""
    return repr(" ".join(text.split()))


def _markdown(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source.splitlines(keepends=True)}


def _code(source: str) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source.splitlines(keepends=True)}
