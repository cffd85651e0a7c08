"""Write one job's HDF5 file exactly as Entropy Flame's executor does.

This emulates ``__flush_runtimedata_into_hdf5`` and ``write_metadata_to_h5``
of ``entropylab/flame/execute`` (tags v0.12.0 to v0.15.6), see section 2.3 of
``shared/reference/entropyhub-layout.md``:

* the file is opened in mode ``"w"``; root attributes come first, as scalar
  variable-length UTF-8 strings, the two ``*_commit`` ones only when the
  metadata has ``workflow_commit_id`` / ``parameters_commit_id``;
* one group per node, in workflow order, with ``@type``, ``@description`` and
  ``@bin``; for each retention-2 output FIRST ``<name>_time`` then ``<name>``
  with ``@description`` and ``@units``;
* values travel ``set()`` -> msgpack -> PostgreSQL ``jsonb`` -> Python before
  ``create_dataset(name, data=list)``; when that raises ``TypeError`` each
  element is stored as ``json.dumps(elem)``.

The h5py and numpy installed here do not behave like Flame's (h5py 3.x with
numpy < 1.24) for mixed types, so the dtype is decided here, by
``build_stored_values``, following the reference's table, and h5py only gets
arrays whose dtype is already fixed.  Tests use this module to build inputs
(Hypothesis round trips), so its API is small and stable:
``OutputSpec``, ``NodeSpec``, ``write_job_hdf5``, ``build_stored_values``,
``build_jsonb_value``, ``format_set_time``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Sequence

import h5py
import numpy as np

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
STR_DTYPE = h5py.string_dtype("utf-8")

# How a list of set() values ends up on disk (reference 2.3, dtype table).
StoredKind = Literal["int", "float", "bool", "str", "json", "empty", "abort"]
# numpy < 1.24 (Flame's era) turns ragged lists into the JSON fallback;
# numpy >= 1.24 raises ValueError and the flush aborts.
RaggedMode = Literal["json", "abort"]


@dataclass(frozen=True)
class OutputSpec:
    """One retention-2 output: the values ``set()`` was called with, and when.

    ``values`` may also be a numpy array standing for N equal-shape numeric
    sets (a fast path for the huge-array case); it is stored as it is.
    ``times`` are ``"YYYY-MM-DDTHH:MM:SS.mmmZ"`` strings, one per value.
    """

    name: str
    description: str
    units: str
    values: Sequence[Any] | np.ndarray
    times: Sequence[str]


@dataclass(frozen=True)
class NodeSpec:
    """One node instance of the workflow: its schema fields and outputs."""

    name: str
    type: str
    description: str
    bin: str
    outputs: tuple[OutputSpec, ...] = field(default=())


@dataclass(frozen=True)
class StoredValues:
    """What ``create_dataset`` receives; ``data`` is None for ``abort``."""

    kind: StoredKind
    data: np.ndarray | None


class _Ragged(Exception):
    """numpy cannot make a rectangular array of the values."""


def format_set_time(moment: datetime) -> str:
    """``to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')``."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def build_jsonb_value(value: Any) -> Any:
    """A ``set()`` value as it comes back from the runtime database.

    msgpack has no tuples (they become lists) and bytes decode to JSON null
    (``execute/msgpack_decode.sql``); ``jsonb`` keeps one value per key and
    orders object keys by length, then bytewise (PostgreSQL's jsonb order).
    """
    if isinstance(value, (bytes, bytearray)):
        return None
    if isinstance(value, (list, tuple)):
        return [build_jsonb_value(item) for item in value]
    if isinstance(value, dict):
        items = {str(key): build_jsonb_value(item) for key, item in value.items()}
        ordered = sorted(items, key=lambda key: (len(key.encode()), key.encode()))
        return {key: items[key] for key in ordered}
    return value


def _shape_of(value: Any) -> tuple[int, ...]:
    """numpy's shape discovery: lists nest, everything else is a scalar."""
    if not isinstance(value, list):
        return ()
    shapes = {_shape_of(item) for item in value}
    if len(shapes) > 1:
        raise _Ragged()
    return (len(value), *(shapes.pop() if shapes else ()))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _leaf_kind(leaves: list[Any]) -> StoredKind:
    """The dtype numpy would pick, or ``json`` when h5py raises TypeError."""
    if any(leaf is None or isinstance(leaf, dict) for leaf in leaves):
        return "json"
    if leaves and all(isinstance(leaf, bool) for leaf in leaves):
        return "bool"
    if leaves and all(isinstance(leaf, str) for leaf in leaves):
        return "str"
    if any(isinstance(leaf, str) for leaf in leaves):
        return "json"  # mixed str + number
    ints = [leaf for leaf in leaves if isinstance(leaf, int) and not isinstance(leaf, bool)]
    if any(not INT64_MIN <= leaf <= INT64_MAX for leaf in ints):
        return "json"  # Python int beyond int64: object array
    if any(isinstance(leaf, float) for leaf in leaves) or not leaves:
        return "float"
    return "int"


_DTYPES = {"int": np.int64, "float": np.float64, "bool": np.bool_, "str": STR_DTYPE}


def _array_kind(values: np.ndarray) -> StoredKind:
    if values.dtype == np.bool_:
        return "bool"
    return "int" if values.dtype.kind in "iu" else "float"


def build_json_fallback(values: Sequence[Any]) -> np.ndarray:
    """Flame's ``except TypeError`` branch: one ``json.dumps(elem)`` per set()."""
    return np.array([json.dumps(value) for value in values], dtype=STR_DTYPE)


def build_stored_values(values: Sequence[Any] | np.ndarray, ragged: RaggedMode = "json") -> StoredValues:
    """Decide dtype and shape of an output's value dataset (reference 2.3).

    ``values`` are the Python values of the N ``set()`` calls, before the
    database round trip.  A single scalar set gives shape ``(1,)``; a single
    ``[[1, 2], [3, 4]]`` gives ``(1, 2, 2)``; never set gives ``(0,)`` float64.
    """
    if isinstance(values, np.ndarray):
        return StoredValues(_array_kind(values), values)
    rows = [build_jsonb_value(value) for value in values]
    if not rows:
        return StoredValues("empty", np.zeros((0,), dtype=np.float64))
    try:
        shape = _shape_of(rows)
    except _Ragged:
        if ragged == "abort":
            return StoredValues("abort", None)
        return StoredValues("json", build_json_fallback(rows))
    kind = _leaf_kind(_leaves(rows))
    if kind == "json":
        return StoredValues("json", build_json_fallback(rows))
    return StoredValues(kind, np.array(rows, dtype=_DTYPES[kind]).reshape(shape))


def _set_str_attr(obj: h5py.HLObject, name: str, value: str) -> None:
    """h5py stores a Python str attribute as a scalar vlen UTF-8 string."""
    obj.attrs[name] = value


def write_root_attrs(f: h5py.File, metadata: dict[str, Any]) -> None:
    """``write_metadata_to_h5``: same keys, same order, same defaults.

    ``metadata["creation_timestamp"]`` (a str or an aware datetime) replaces
    Flame's ``datetime.now(utc).astimezone(local zone)`` so that output is
    deterministic; without it the current local time is used, as Flame does.
    """
    for key in ("project", "job_eui", "job_description", "workflow_eui", "parameters_eui"):
        _set_str_attr(f, key, str(metadata.get(key, "")))
    if "workflow_commit_id" in metadata:
        _set_str_attr(f, "workflow_commit", str(metadata["workflow_commit_id"]))
    if "parameters_commit_id" in metadata:
        _set_str_attr(f, "parameters_commit", str(metadata["parameters_commit_id"]))
    stamp = metadata.get("creation_timestamp") or datetime.now(timezone.utc).astimezone()
    _set_str_attr(f, "creation_timestamp", stamp if isinstance(stamp, str) else stamp.isoformat())


def _write_times(group: h5py.Group, output: OutputSpec) -> None:
    """``create_dataset(f"{o}_time", data=list_of_str)``; empty gives float64 (0,)."""
    times = np.array(list(output.times), dtype=STR_DTYPE) if len(output.times) else np.zeros((0,), np.float64)
    group.create_dataset(f"{output.name}_time", data=times, track_times=False)


def write_output(group: h5py.Group, output: OutputSpec, ragged: RaggedMode = "json") -> bool:
    """Write ``<name>_time`` then ``<name>``; False when the flush aborts here."""
    _write_times(group, output)
    stored = build_stored_values(output.values, ragged)
    if stored.data is None:
        return False
    dataset = group.create_dataset(output.name, data=stored.data, track_times=False)
    _set_str_attr(dataset, "description", output.description)
    _set_str_attr(dataset, "units", output.units)
    return True


def write_node(f: h5py.File, node: NodeSpec, ragged: RaggedMode = "json") -> bool:
    """One node group with its attributes and outputs; False on abort."""
    group = f.create_group(node.name, track_times=False)
    _set_str_attr(group, "type", node.type)
    _set_str_attr(group, "description", node.description)
    _set_str_attr(group, "bin", node.bin)
    return all(write_output(group, output, ragged) for output in node.outputs)


def write_job_hdf5(
    path: str | Path, metadata: dict[str, Any], nodes: Sequence[NodeSpec], *, ragged: RaggedMode = "json"
) -> bool:
    """Write ``<job id>.hdf5`` as Flame's flush does; False if it aborted.

    With ``ragged="abort"`` ragged list values behave as under numpy >= 1.24:
    the output's ``_time`` is written, its value dataset is not, and the
    node's later outputs and all later node groups are missing.  The file is
    closed normally either way, as Flame's ``with`` block does.
    """
    # Built in memory (the core driver gives the same bytes as a file on disk) and written by
    # Python: libhdf5 handles a failed disk write (full disk) with internal errors, tracebacks
    # from h5py's cleanup and even a crash; a Python write fails with one plain OSError.
    with h5py.File(Path(path).name, "w", driver="core", backing_store=False) as f:
        write_root_attrs(f, metadata)
        # all() stops at the first aborted node, like the exception in Flame.
        finished = all(write_node(f, node, ragged) for node in nodes)
        f.flush()
        image = f.id.get_file_image()
    Path(path).write_bytes(image)
    return finished
