"""The HDF5 writer follows the dtype table of the layout reference, 2.3."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.example.writer import NodeSpec, OutputSpec, build_jsonb_value, build_stored_values, write_job_hdf5

T = "2022-06-25T12:52:14.435Z"

CASES = {
    "ints": ([1, 2], "int64", (2,)),
    "floats": ([1, 2.5], "float64", (2,)),
    "one_scalar": ([3], "int64", (1,)),
    "one_matrix": ([[[1, 2], [3, 4]]], "int64", (1, 2, 2)),
    "float_matrix": ([[[1.5, 2], [3, 4]], [[0, 1], [2, 3]]], "float64", (2, 2, 2)),
    "strs": (["a", "β"], "str", (2,)),
    "str_rows": ([["I", "Q"], ["I", "Q"], ["x", "y"]], "str", (3, 2)),
    "bools": ([True, False, True], "bool", (3,)),
    "dicts": ([{"zeta": 1, "a": "Ω"}], "json", (1,)),
    "nones": ([None], "json", (1,)),
    "mixed": (["a", 1], "json", (2,)),
    "big": ([2**64 + 1, 1], "json", (2,)),
    "ragged": ([[1, 2], [3]], "json", (2,)),
    "bytes": ([b"\x00"], "json", (1,)),
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("writer") / "j1.hdf5"
    outputs = tuple(OutputSpec(name, f"d {name}", "u", values, [T] * len(values)) for name, (values, _, _) in CASES.items())
    outputs += (OutputSpec("never", "never set", "V", [], []),)
    metadata = {"project": "p", "job_eui": "#/j1", "workflow_commit_id": "a" * 40, "creation_timestamp": "2022-06-25T14:41:05.123456+02:00"}
    assert write_job_hdf5(path, metadata, [NodeSpec("n", "T", "desc", "b.py", outputs)])
    return path


def _is_vlen_utf8(type_id) -> bool:
    return isinstance(type_id, h5py.h5t.TypeStringID) and type_id.is_variable_str() and type_id.get_cset() == h5py.h5t.CSET_UTF8


@pytest.mark.parametrize("name", sorted(CASES))
def test_dtype_and_shape_follow_the_table(written: Path, name: str) -> None:
    values, kind, shape = CASES[name]
    with h5py.File(written) as f:
        dataset = f["n"][name]
        assert dataset.shape == shape
        type_id = dataset.id.get_type()
        if kind in ("str", "json"):
            assert _is_vlen_utf8(type_id)
        elif kind == "bool":
            assert isinstance(type_id, h5py.h5t.TypeEnumID)
            assert type_id.get_super().get_size() == 1
            assert {type_id.get_member_name(i): type_id.get_member_value(i) for i in range(2)} == {b"FALSE": 0, b"TRUE": 1}
        else:
            assert dataset.dtype == np.dtype(kind)
        assert dataset.attrs["units"] == "u"
        assert f["n"][f"{name}_time"].asstr()[:].tolist() == [T] * len(values)
        assert not f["n"][f"{name}_time"].attrs.keys()


def test_json_fallback_is_python_json_dumps_after_jsonb(written: Path) -> None:
    with h5py.File(written) as f:
        rows = f["n"]
        assert rows["dicts"].asstr()[0] == '{"a": "\\u03a9", "zeta": 1}'  # jsonb key order, ensure_ascii
        assert rows["nones"].asstr()[0] == "null"
        assert rows["mixed"].asstr()[:].tolist() == ['"a"', "1"]
        assert rows["ragged"].asstr()[:].tolist() == ["[1, 2]", "[3]"]
        assert rows["bytes"].asstr()[0] == "null"
        assert json.loads(rows["big"].asstr()[0]) == 2**64 + 1


def test_never_set_gives_two_empty_float64_datasets(written: Path) -> None:
    with h5py.File(written) as f:
        for name in ("never", "never_time"):
            assert f["n"][name].shape == (0,) and f["n"][name].dtype == np.float64


def test_root_and_group_attributes_are_scalar_vlen_utf8(written: Path) -> None:
    with h5py.File(written) as f:
        assert sorted(f.attrs) == sorted(
            ["project", "job_eui", "job_description", "workflow_eui", "parameters_eui", "workflow_commit", "creation_timestamp"]
        )
        for obj in (f, f["n"], f["n"]["ints"]):
            for key in obj.attrs:
                attr = obj.attrs.get_id(key)
                assert attr.shape == () and _is_vlen_utf8(attr.get_type()), key
        assert f.attrs["job_description"] == ""
        assert dict(f["n"].attrs) == {"type": "T", "description": "desc", "bin": "b.py"}


def test_ragged_values_abort_the_flush_like_numpy_1_24(tmp_path: Path) -> None:
    first = OutputSpec("a", "", "", [[1, 2], [3]], [T, T])
    later = OutputSpec("b", "", "", [1], [T])
    nodes = [NodeSpec("n1", "T", "", "b.py", (first, later)), NodeSpec("n2", "T", "", "b.py")]
    assert not write_job_hdf5(tmp_path / "x.hdf5", {"project": "p"}, nodes, ragged="abort")
    with h5py.File(tmp_path / "x.hdf5") as f:
        assert list(f) == ["n1"]
        assert list(f["n1"]) == ["a_time"]
        assert f.attrs["project"] == "p"


def test_jsonb_round_trip_orders_keys_and_drops_tuples() -> None:
    assert list(build_jsonb_value({"bbb": 1, "a": 2, "cc": (1, b"x")})) == ["a", "cc", "bbb"]
    assert build_jsonb_value({"cc": (1, b"x")}) == {"cc": [1, None]}
    assert build_stored_values([True, 2]).kind == "int"
    assert build_stored_values([[1, 2], [3]], ragged="abort").data is None
