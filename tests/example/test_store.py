"""The example data_store: layout (reference 2.3, 2.4, D1-D3), determinism, CLI."""

from __future__ import annotations

import json
import re
import subprocess
from base64 import b64decode
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.example import write_example
from reportgen.example.store import PROJECTS
from reportgen.example.workflow import NODES
from reportgen.errors import OutputError
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, tree_digest

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEADER = (
    "========================================\n|- Entropy lab context\n|   Node identity:   #{node}\n"
    "|   Playbook:        localhost,6379,0\n========================================\n"
)
STORED = {  # (node, output): (dtype, shape after N, units)
    ("QPU", "precorrected_data"): ("float64", (2, 2), "JSON"),
    ("QPU", "final_data"): ("int64", (), "bool"),
    ("correction_1", "correction_data"): ("int64", (2, 2), "JSON"),
    ("final_report", "estimated_parameter"): ("float64", (100,), "MHz"),
    ("final_report", "final_plot"): ("object", (), "png"),
}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    parent = tmp_path_factory.mktemp("faithful")
    first, second = parent / "one", parent / "two"
    write_example(first, seed=3, jobs_per_project=4)
    write_example(second, seed=3, jobs_per_project=4)
    return first, second


@pytest.fixture(scope="module")
def store(stores: tuple[Path, Path]) -> Path:
    return stores[0]


def _jobs(store: Path) -> list[Path]:
    return sorted(p for p in store.glob("*/*.hdf5") if p.parent.name != "git")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={repo}", *args], capture_output=True, text=True, check=True).stdout.strip()


def test_same_seed_gives_identical_trees_and_shas(stores: tuple[Path, Path]) -> None:
    first, second = stores
    assert tree_digest(first) == tree_digest(second)
    for project, _, _ in PROJECTS:
        for repo in ("workflow.git", "params.git"):
            assert _git(first / "git" / project / repo, "rev-parse", "main") == _git(second / "git" / project / repo, "rev-parse", "main")
    assert_no_staging_left(first.parent)


def test_other_seed_gives_other_data(store: Path, tmp_path: Path) -> None:
    write_example(tmp_path / "s", seed=4, jobs_per_project=1)
    assert (tmp_path / "s/default_project").exists()
    assert tree_digest(tmp_path / "s") != tree_digest(store)


def test_projects_and_job_ids(store: Path) -> None:
    assert sorted(p.name for p in store.iterdir()) == sorted([*(p for p, _, _ in PROJECTS), "git"])
    ids = sorted(int(p.stem[1:]) for p in _jobs(store))
    assert ids == list(range(1, 3 * 4 + 1))
    for path in _jobs(store):
        with h5py.File(path) as f:
            assert f.attrs["job_eui"] == f"#/{path.stem}"
            assert f.attrs["project"] == path.parent.name
            assert re.fullmatch(r"[0-9a-f]{40}", f.attrs["workflow_commit"])
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+03:00", f.attrs["creation_timestamp"])


def test_every_job_has_the_six_nodes_with_real_schema_attributes(store: Path) -> None:
    for path in _jobs(store):
        with h5py.File(path) as f:
            assert sorted(f) == sorted(n.name for n in NODES)
            for node in NODES:
                assert dict(f[node.name].attrs) == {"type": node.type, "description": node.description, "bin": node.bin}
                retained = {o.name for o in node.outputs if o.retention == 2}
                assert set(f[node.name]) == retained | {f"{o}_time" for o in retained}


def test_outputs_have_the_real_dtypes_shapes_units_and_times(store: Path) -> None:
    for path in _jobs(store):
        with h5py.File(path) as f:
            for (node, name), (dtype, tail, units) in STORED.items():
                values, times = f[node][name], f[node][f"{name}_time"]
                assert values.dtype == np.dtype(dtype) and values.shape[1:] == tail
                assert values.attrs["units"] == units
                assert values.shape[0] == times.shape[0]
                assert all(TIME.match(t) for t in times.asstr()[:])
            assert 1 <= f["final_report/final_plot"].shape[0] <= 50


def test_final_plot_is_json_with_a_real_png(store: Path) -> None:
    with h5py.File(_jobs(store)[0]) as f:
        row = json.loads(f["final_report/final_plot"].asstr()[0])
    assert list(row) == ["png"]
    assert b64decode(row["png"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_every_log_starts_with_the_flame_header(store: Path) -> None:
    for path in _jobs(store):
        logs = sorted((path.parent / path.stem).glob("*.log"))
        assert sorted(p.stem for p in logs) == sorted(n.name for n in NODES)
        for log in logs:
            assert log.read_text(encoding="utf-8").startswith(HEADER.format(node=log.stem))


def test_failed_jobs_end_a_log_with_a_traceback(store: Path) -> None:
    crashed = [p for p in store.glob("*/*/correction_1.log") if "Traceback (most recent call last):" in p.read_text()]
    assert crashed, "the first project always has a failed job"
    for log in crashed:
        assert log.read_text().endswith("numpy.linalg.LinAlgError: Singular matrix\n")


def test_repositories_are_bare_on_main_and_hold_the_recorded_shas(store: Path) -> None:
    for project, _, _ in PROJECTS:
        for repo in ("workflow.git", "params.git"):
            path = store / "git" / project / repo
            assert _git(path, "rev-parse", "--is-bare-repository") == "true"
            assert _git(path, "symbolic-ref", "HEAD") == "refs/heads/main"
        files = _git(store / "git" / project / "workflow.git", "ls-tree", "-r", "--name-only", "main").split()
        assert {"workflow.py", "entropynodes/library/__init__.py", "entropynodes/schema/QPUcircuitRunner.json", "circuitExec.py"} <= set(files)
        assert _git(store / "git" / project / "params.git", "ls-tree", "--name-only", "main") == "parameters.json"
    for path in _jobs(store):
        with h5py.File(path) as f:
            for attr, repo in (("workflow_commit", "workflow.git"), ("parameters_commit", "params.git")):
                subprocess.run(["git", f"--git-dir={store / 'git' / path.parent.name / repo}", "cat-file", "-e",
                                f"{f.attrs[attr]}^{{commit}}"], check=True)


def test_several_commits_are_used(store: Path) -> None:
    used = set()
    for path in _jobs(store):
        with h5py.File(path) as f:
            used.add((f.attrs["project"], f.attrs["workflow_commit"], f.attrs["parameters_commit"]))
    assert len(used) > len(PROJECTS)


def test_library_refuses_an_existing_directory(store: Path) -> None:
    with pytest.raises(OutputError):
        write_example(store, jobs_per_project=1)


def test_cli_exit_codes(tmp_path: Path) -> None:
    target = tmp_path / "data_store"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    refused = run_cli("example", target, "--jobs", "1")
    assert_one_error_line(refused, 73, "exists", str(target))
    assert (target / "keep.txt").read_text() == "mine"
    usage = run_cli("example", tmp_path / "other", "--huge")
    assert_one_error_line(usage, 64, "--edge-cases")
    done = run_cli("example", target, "--jobs", "1", "--force")
    assert done.code == 0 and "wrote 3 jobs" in done.stdout
    assert not (target / "keep.txt").exists() and (target / "default_project/j1.hdf5").exists()
    assert_no_staging_left(tmp_path)
