"""The notebook hand-off: each job with an HDF5 file gets a notebook, in its page as a data: URI
when small, else as ``<job>~notebook.ipynb`` beside the page.

The notebook is checked against Jupyter's own schema (nbformat), and its code
is run for real from the data_store folder: the values it loads must be the
values h5py reads.  Hostile names must stay data (string literals, escaped
markdown), and the file is part of the job for incremental builds.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import h5py
import nbformat
import numpy as np
import pytest

from reportgen.site.notebook import MAX_OUTPUTS
from tests.invariants import run_cli
from tests.readers.builders import STR, metadata, times, write_log


def write_job(root: Path, job_id: str, nodes: dict[str, dict[str, object]], **attrs: object) -> Path:
    """A job file in Entropy's layout: ``nodes`` maps node name -> {output name: values}."""
    path = root / "p" / f"{job_id}.hdf5"
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for key, value in {**metadata("p", job_id), **attrs}.items():
            f.attrs[key] = value
        for node, outputs in nodes.items():
            group = f.create_group(node)
            group.attrs.update(type="T", description="a node", bin="x.py")
            for name, values in outputs.items():
                group.create_dataset(name + "_time", data=np.array(times(len(values)), dtype=object), dtype=STR)
                ds = group.create_dataset(name, data=values)
                ds.attrs.update(description="an output", units="u")
            write_log(root / "p" / job_id / f"{node}.log", "done\n")
    return path


def notebook_bytes(site: Path, job: str = "j1") -> bytes:
    """The notebook the job page links: decoded from its data: URI, or read from its file."""
    page = (site / "p" / f"{job}.html").read_text("utf-8")
    href = re.search(r'<a class="download" href="([^"]+)" download="[^"]+\.ipynb"', page).group(1)
    if href.startswith("data:application/x-ipynb+json;base64,"):
        return base64.b64decode(href.split(",", 1)[1])
    return (site / "p" / href).read_bytes()


def code_of(notebook: dict) -> str:
    """Every code cell but the plot (matplotlib is not a dependency), as one script."""
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    return "\n\n".join(c for c in cells if "matplotlib" not in c)


def run_notebook(notebook: dict, data_store: Path, tail: str) -> str:
    """Run the notebook's code from the data_store folder, then ``tail``; its stdout."""
    proc = subprocess.run([sys.executable, "-c", code_of(notebook) + "\n" + tail], cwd=data_store,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("nb") / "data_store"
    write_job(root, "j1", {"QPU": {"signal": np.array([0.5, 1.5, -2.0]), "counts": np.arange(3),
                                   "label": np.array(["a", "é"], dtype=object).astype(STR)},
                           "fit": {"curve": np.arange(6.0).reshape(3, 2)}})
    site = root.parent / "site"
    assert run_cli("build", root, "-o", site).code == 0
    return root, site


def test_the_notebook_is_valid_and_loads_what_h5py_reads(built: tuple[Path, Path]):
    root, site = built
    raw = notebook_bytes(site).decode("ascii")
    notebook = json.loads(raw)
    nbformat.validate(nbformat.reads(raw, as_version=4))
    out = run_notebook(notebook, root, "\n".join([
        "import json",
        "signal, stamps = QPU['signal']",
        "print(json.dumps({'signal': signal.tolist(), 'counts': QPU['counts'][0].tolist(),",
        "  'label': QPU['label'][0].tolist(), 'curve': fit['curve'][0].tolist(),",
        "  'stamps': [str(s) for s in stamps], 'kind': stamps.dtype.kind, 'job': JOB['job_id'],",
        "  'parameters': 'PARAMETERS' in globals()}))",
    ]))
    loaded = json.loads(out)
    with h5py.File(root / "p" / "j1.hdf5") as f:
        assert loaded["signal"] == f["QPU/signal"][()].tolist()
        assert loaded["counts"] == f["QPU/counts"][()].tolist()
        assert loaded["label"] == ["a", "é"]
        assert loaded["curve"] == f["fit/curve"][()].tolist()
        first = f["QPU/signal_time"].asstr()[0]
    assert loaded["kind"] == "M" and loaded["stamps"][0] == first.removesuffix("Z")
    assert loaded["job"] == "j1"


def test_a_small_notebook_travels_in_the_page(built: tuple[Path, Path]):
    _, site = built
    page = (site / "p" / "j1.html").read_text("utf-8")
    assert 'href="data:application/x-ipynb+json;base64,' in page and 'download="p_j1.ipynb"' in page  # <project>_<job>: session 22
    assert not (site / "p" / "j1~notebook.ipynb").exists()


def test_hostile_names_stay_data(tmp_path: Path):
    """An output name that closes the string literal, a node name that is a keyword, a builtin or a
    name the notebook defines, or repeats another one once cleaned, markup in the description: the
    code still runs, nothing executes."""
    root = tmp_path / "data_store"
    evil = "x'); open('pwned', 'w').write('1'); ('"
    write_job(root, "j1", {"class": {evil: np.arange(2.0)}, "a-b": {"v": np.arange(2)}, "a_b": {"v": np.arange(3)},
                           "n\nl": {"w": np.arange(4)}, "JOB_FILE": {"z": np.arange(1)}, "print": {"p": np.arange(1)}},
              job_description="<script>alert(1)</script> **bold** [x](javascript:alert(1))")
    assert run_cli("build", root, "-o", tmp_path / "site").code == 0
    raw = notebook_bytes(tmp_path / "site").decode("ascii")
    notebook = json.loads(raw)
    nbformat.validate(nbformat.reads(raw, as_version=4))
    markdown = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    assert "<script>" not in markdown and "**bold**" not in markdown and "](" not in markdown
    out = run_notebook(notebook, root, "print(node_class[%r][0].tolist(), [len(a_b['v'][0]), len(a_b_2['v'][0])],"
                       " n_l['w'][0].tolist(), node_JOB_FILE['z'][0].tolist(), node_print['p'][0].tolist(),"
                       " JOB_FILE.name)" % evil)
    assert out.split() == ["[0.0,", "1.0]", "[2,", "3]", "[0,", "1,", "2,", "3]", "[0]", "[0]", "j1.hdf5"]
    assert not (root / "pwned").exists()


def test_a_huge_job_lists_a_bounded_number_of_outputs(tmp_path: Path):
    root = tmp_path / "data_store"
    write_job(root, "j1", {"N": {f"o{i:04d}": np.arange(2.0) for i in range(MAX_OUTPUTS + 3)}})
    assert run_cli("build", root, "-o", tmp_path / "site").code == 0
    assert (tmp_path / "site" / "p" / "j1~notebook.ipynb").is_file()  # too big for the page
    notebook = json.loads(notebook_bytes(tmp_path / "site"))
    code = "".join("".join(c["source"]) for c in notebook["cells"])
    assert code.count("read_output('/N/") == MAX_OUTPUTS + 1  # the listed ones and the plot cell's
    assert "3 more outputs are not listed here" in code


def test_the_notebook_is_part_of_the_job_for_incremental_builds(tmp_path: Path):
    root = tmp_path / "data_store"
    many = {f"output_{i:04d}": np.arange(2.0) for i in range(MAX_OUTPUTS)}  # a notebook too big for the page
    write_job(root, "j1", {"N": many})
    write_job(root, "j2", {"N": many})
    site = tmp_path / "site"
    assert run_cli("build", root, "-o", site).code == 0
    first = (site / "p" / "j1~notebook.ipynb").read_bytes()
    (site / "p" / "j1~notebook.ipynb").unlink()
    assert run_cli("build", root, "-o", site).code == 0
    assert (site / "p" / "j1~notebook.ipynb").read_bytes() == first  # repaired, and the same bytes
    (root / "p" / "j2.hdf5").unlink()
    for log in (root / "p" / "j2").iterdir():
        log.unlink()
    (root / "p" / "j2").rmdir()
    assert run_cli("build", root, "-o", site).code == 0
    assert not (site / "p" / "j2~notebook.ipynb").exists()


def test_outputs_other_writers_leave_load_too(tmp_path: Path):
    """Session 24 review: an output Flame defined but never set (float64 (0,) value and _time), text
    a lab script stored as ASCII-tagged bytes holding UTF-8, stamps with an offset, stamps without
    one (not guessed to be UTC: returned as stored, as the catalog does not guess either), and a
    dataset with a null dataspace all load instead of stopping the notebook."""
    root = tmp_path / "data_store"
    path = write_job(root, "j1", {"QPU": {"counts": np.arange(2)}})
    with h5py.File(path, "a") as f:
        group = f["QPU"]
        for name, values, stamps in (
            ("never", np.zeros(0), np.zeros(0)),
            ("unit", np.array(["µs".encode(), b"ns\xff"]), np.array(["2022-06-25T12:00:00.000+02:00"] * 2, dtype=object).astype(STR)),
            ("local", np.arange(2.0), np.array(["2022-06-25T12:00:00.000"] * 2, dtype=object).astype(STR)),
            ("nothing", h5py.Empty("f8"), None),
        ):
            if stamps is not None:
                group.create_dataset(name + "_time", data=stamps)
            group.create_dataset(name, data=values).attrs.update(description="d", units="u")
    site = tmp_path / "site"
    assert run_cli("build", root, "-o", site).code in (0, 1)  # warnings about the odd outputs are fine
    out = run_notebook(json.loads(notebook_bytes(site)), root, "\n".join([
        "import json",
        "never, unit, local, nothing = QPU['never'], QPU['unit'], QPU['local'], QPU['nothing']",
        "print(json.dumps({'never': [never[0].tolist(), never[1].dtype.kind, len(never[1])],",
        "  'unit': [list(unit[0]), [str(t) for t in unit[1]]],",
        "  'local': [str(t) for t in local[1]], 'nothing': nothing[0]}))",
    ]))
    loaded = json.loads(out)
    assert loaded["never"] == [[], "M", 0]
    assert loaded["unit"] == [["µs", "ns\ufffd"], ["2022-06-25T10:00:00.000"] * 2]  # +02:00 becomes UTC
    assert loaded["local"] == ["2022-06-25T12:00:00.000"] * 2  # as stored: no offset, no guess
    assert loaded["nothing"] is None
