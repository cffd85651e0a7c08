"""--edge-cases: every row of the generator table is present, as the manifest says."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest

from reportgen.example import edge_case_manifest, write_example
from reportgen.example.edge import CANARY_BYTES, CANARY_FILE, CANARY_HDF5
from tests.invariants import tree_digest

TABLE_ROWS = {
    "normal", "command-line run", "empty job", "failed job", "aborted flush", "corrupt HDF5", "huge arrays",
    "string/JSON", "non-ASCII", "HTML/path hostile", "git gaps", "log gaps", "time quirks", "dry-run job",
}


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edge") / "data_store"
    write_example(root, seed=0, jobs_per_project=1, edge_cases=True)
    return root


def test_every_table_row_is_in_the_manifest() -> None:
    rows = {case.row for case in edge_case_manifest(huge=True)}
    assert TABLE_ROWS <= rows
    assert {"security", "project named git", "stray"} <= rows
    assert all(case.huge_only for case in edge_case_manifest(huge=True) if case not in edge_case_manifest())


@pytest.mark.parametrize("case", edge_case_manifest(), ids=lambda c: f"{c.row}:{c.case}")
def test_every_case_is_written(edge: Path, case) -> None:
    path = edge / case.file
    assert path.exists() or case.expect == "repo-missing", case
    if case.status == "no-data":
        assert path.is_dir() and not path.with_name(path.name + ".hdf5").exists()
    if case.status == "corrupt" and case.row == "corrupt HDF5" and case.expect != "root attribute":
        with pytest.raises(OSError):
            h5py.File(path, "r").close()


def test_reported_cases_name_their_file_and_a_keyword() -> None:
    reported = [case for case in edge_case_manifest() if case.reported]
    assert {case.row for case in reported} >= {"corrupt HDF5", "security", "git gaps", "stray", "aborted flush"}
    assert all(case.file and case.expect for case in reported)


def test_huge_cases_are_absent_without_the_flag(edge: Path) -> None:
    for case in edge_case_manifest(huge=True):
        if case.huge_only:
            assert not (edge / case.file).exists()


def test_aborted_flush_and_missing_root_attributes(edge: Path) -> None:
    with h5py.File(edge / "edge_cases/j1006.hdf5") as f:
        assert "correction_1" not in f and "final_report" not in f
        assert "precorrected_data_time" in f["QPU"] and "precorrected_data" not in f["QPU"]
    with h5py.File(edge / "edge_cases/j1010.hdf5") as f:
        assert not f.attrs.keys() and "QPU" in f


def test_command_line_run_has_empty_euis_and_no_commits(edge: Path) -> None:
    with h5py.File(edge / "test_from_command_line/output_data.hdf5") as f:
        assert f.attrs["job_eui"] == f.attrs["workflow_eui"] == f.attrs["parameters_eui"] == ""
        assert "workflow_commit" not in f.attrs and f.attrs["project"] == "test_from_command_line"


def test_security_cases_point_at_canaries_next_to_the_store(edge: Path) -> None:
    assert (edge.parent / CANARY_FILE).read_bytes() == CANARY_BYTES
    assert (edge.parent / CANARY_HDF5).exists() and not (edge / CANARY_FILE).exists()
    with h5py.File(edge / "edge_cases/j1036.hdf5") as f:
        assert f["QPU/final_data"].external[0][0] == str((edge.parent / CANARY_FILE).resolve())
    with h5py.File(edge / "edge_cases/j1037.hdf5") as f:
        assert isinstance(f["QPU"].get("leak", getlink=True), h5py.ExternalLink)
    with h5py.File(edge / "edge_cases/j1038.hdf5") as f:
        assert f["QPU/final_data"].is_virtual
    with h5py.File(edge / "edge_cases/j1039.hdf5") as f:
        assert f["QPU/final_data"].shape == (10**12,)
    assert (edge / "edge_cases/j1039.hdf5").stat().st_size < 200_000


def test_project_named_git_shares_the_repository_folder(edge: Path) -> None:
    assert (edge / "git/j1035.hdf5").is_file() and (edge / "git/git/workflow.git/HEAD").is_file()
    assert (edge / "git/empty_repos/workflow.git/HEAD").is_file()
    assert not list((edge / "git/empty_repos/workflow.git/refs/heads").iterdir())
    assert not (edge / "git/no_repos").exists()


def test_non_ascii_and_hostile_names_survive(edge: Path) -> None:
    with h5py.File(edge / "量子実験_Ω/j1016.hdf5") as f:
        assert f["Qubit_β/Δf"].attrs["units"] == "MHz" and f["測定/持続時間"].attrs["units"] == "µs"
        assert "°C" in {f["Qubit_β"][k].attrs.get("units") for k in f["Qubit_β"] if not k.endswith("_time")}
    assert (edge / "量子実験_Ω/j1016/測定.log").is_file()
    with h5py.File(edge / "edge_cases/j1017.hdf5") as f:
        assert {"<script>alert(1)", "..", ".hidden_node", "a&b%20#frag"} <= set(f)
        assert "</script><script>alert(1)</script>" in f.attrs["job_description"]
        assert f.attrs["workflow_eui"] == "javascript:alert(1)"


def test_log_gaps(edge: Path) -> None:
    logs = edge / "log_gaps"
    assert not (logs / "j1022").exists() and not (logs / "j1023/QPU.log").exists()
    assert (logs / "j1024/QPU.log").stat().st_size == 0
    assert not (logs / "j1025/QPU.log").read_bytes().endswith(b"\n")
    with pytest.raises(UnicodeDecodeError):
        (logs / "j1026/QPU.log").read_bytes().decode("utf-8")
    assert b"\r\n" in (logs / "j1027/QPU.log").read_bytes()
    assert b"\x1b[1;31m" in (logs / "j1028/QPU.log").read_bytes()


def test_edge_store_is_deterministic_next_to_the_first(edge: Path) -> None:
    again = edge.parent / "again"
    write_example(again, seed=0, jobs_per_project=1, edge_cases=True)
    assert tree_digest(again) == tree_digest(edge)


@pytest.mark.slow
def test_huge_cases_are_written_with_the_flag(tmp_path: Path) -> None:
    """About 120 MB and 10 s: only the huge rows are checked."""
    root = tmp_path / "data_store"
    write_example(root, jobs_per_project=1, edge_cases=True, huge=True)
    for case in edge_case_manifest(huge=True):
        path = root / case.file
        assert path.exists() or case.expect == "repo-missing", case
    with h5py.File(root / "edge_cases/j1011.hdf5") as f:
        assert f["camera/frame"].shape == (12, 1024, 1024)
    with h5py.File(root / "edge_cases/j1013.hdf5") as f:
        sizes = [len(row) for row in f["final_report/final_plot"].asstr()[:]]
    assert min(sizes) > 10**6 and max(sizes) < 6 * 10**6
