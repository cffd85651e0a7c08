"""0.3 -> 0.4: the provenance redesign (aiida-core 1.0 database migrations 0009-0033).

The sub-steps run in the reference's order (format reference 1.5):

1. ``data.base.X.`` -> ``data.<x>.X.``;  2. ``process_type`` added ("");
3. ``code.Code.`` -> ``data.code.Code.``;  4. duplicate UUIDs refused;
5. the ``simpleplugins`` rename;  6. provenance redesign: process types of
job calculations, illegal links deleted, process node types and link types
renamed, links left without a 0.4 type dropped (6e, reportgen's own);
7./8. Group ``name``/``type`` -> ``label``/``type_string`` and its values;  9. CalcJob attribute renames;  10.-12. type prefixes (the
TrajectoryData ``symbols.npy`` becomes the ``symbols`` attribute);
13. ParameterData -> Dict;  14. ``type`` -> ``node_type``;  15. Computer
``enabled`` dropped;  16. JSON strings in Computer/Log metadata parsed;
17. extras reset to ``{}`` for every node;  18. Log and Comment declared.
"""

from __future__ import annotations

import io
import json
from typing import Any

from converters.migrations._base import Draft, drop_fields, entities, fields_info, map_values, refuse, rename_field
from converters.migrations._entry_points import CALCULATION_ENTRY_POINTS
from converters.validate import LINK_TYPES_04

CALC_JOB = "node.process.calculation.calcjob.CalcJobNode."
CALC_FUNCTION = "node.process.calculation.calcfunction.CalcFunctionNode."
WORK_FUNCTION = "node.process.workflow.workfunction.WorkFunctionNode."
WORK_CHAIN = "node.process.workflow.workchain.WorkChainNode."
WORK_CALCULATION = "calculation.work.WorkCalculation."
TRAJECTORY = "node.data.array.trajectory.TrajectoryData."
SIMPLE_PLUGINS = {
    "calculation.job.simpleplugins.arithmetic.add.ArithmeticAddCalculation.": "aiida.calculations:arithmetic.add",
    "calculation.job.simpleplugins.templatereplacer.TemplatereplacerCalculation.": "aiida.calculations:templatereplacer",
}
GROUP_TYPES = {"": "user", "data.upf.family": "data.upf", "aiida.import": "auto.import", "autogroup.run": "auto.run"}
CALC_JOB_ATTRIBUTES = {
    "custom_environment_variables": "environment_variables",
    "jobresource_params": "resources",
    "parser": "parser_name",
}
LOG_FIELDS = {
    "uuid": {}, "time": {"convert_type": "date"}, "loggername": {}, "levelname": {}, "message": {},
    "metadata": {}, "dbnode": {"requires": "Node", "related_name": "dblogs"},
}  # fmt: skip
COMMENT_FIELDS = {
    "uuid": {}, "ctime": {"convert_type": "date"}, "mtime": {"convert_type": "date"}, "content": {},
    "dbnode": {"requires": "Node", "related_name": "dbcomments"},
    "user": {"requires": "User", "related_name": "dbcomments"},
}  # fmt: skip


def _nodes(draft: Draft) -> dict[str, dict[str, Any]]:
    return entities(draft, "Node")


def _retype(draft: Draft, change) -> None:
    """Apply ``change(type) -> type`` to every node's ``type``."""
    for row in _nodes(draft).values():
        row["type"] = change(row.get("type") or "")


def _data_base(node_type: str) -> str:
    if node_type.startswith("data.base."):
        cls = node_type[len("data.base.") :].rstrip(".")
        return f"data.{cls.lower()}.{cls}."
    return node_type


def _add_process_type(draft: Draft) -> None:
    for row in _nodes(draft).values():
        row.setdefault("process_type", "")
    fields_info(draft).setdefault("Node", {})["process_type"] = {}


def _refuse_duplicate_uuids(draft: Draft) -> None:
    for entity in ("Group", "Computer", "Node"):
        seen: dict[str, str] = {}
        for pk, row in entities(draft, entity).items():
            uuid = row.get("uuid")
            if uuid in seen:
                raise refuse(draft, f"duplicate UUID {uuid!r} in {entity} {seen[uuid]} and {pk}")
            seen[uuid] = pk


def _simple_plugins(draft: Draft) -> None:
    attributes = draft.data.get("node_attributes", {})
    for pk, row in _nodes(draft).items():
        node_type = row.get("type") or ""
        if node_type in SIMPLE_PLUGINS:
            row["type"] = node_type.replace("simpleplugins.", "", 1)
            row["process_type"] = SIMPLE_PLUGINS[node_type]
        elif node_type == "data.code.Code.":
            attrs = attributes.get(pk, {})
            if attrs.get("input_plugin") in ("simpleplugins.arithmetic.add", "simpleplugins.templatereplacer"):
                attrs["input_plugin"] = attrs["input_plugin"][len("simpleplugins.") :]


def _job_process_type(node_type: str) -> str:
    plugin = node_type[len("calculation.job.") :].rstrip(".")
    name, _, cls = plugin.rpartition(".")
    if not name:
        return ""
    if name in CALCULATION_ENTRY_POINTS:
        return f"aiida.calculations:{name}"
    return f"{name}.{cls}"


def _set_job_process_types(draft: Draft) -> None:
    for row in _nodes(draft).values():
        node_type = row.get("type") or ""
        if node_type.startswith("calculation.job."):
            if not (row.get("process_type") or "").startswith("aiida.calculations:"):
                row["process_type"] = _job_process_type(node_type)


def _is_illegal_link(source_type: str, link_type: str) -> bool:
    if link_type in ("calllink", "returnlink"):
        return source_type.startswith(("calculation.job.", "calculation.inline."))
    if link_type == "createlink":
        return source_type.startswith(("calculation.function", "calculation.work"))
    return False


def _delete_illegal_links(draft: Draft) -> None:
    types = {row.get("uuid"): row.get("type") or "" for row in _nodes(draft).values()}
    links = draft.data.get("links_uuid", [])
    kept = [link for link in links if not _is_illegal_link(types.get(link.get("input"), ""), link.get("type", ""))]
    if len(kept) != len(links):
        draft.notes.append(f"0.3 -> 0.4: deleted {len(links) - len(kept)} illegal link(s)")
    draft.data["links_uuid"] = kept


def link_type_at_0_4(link_type: str, source_type: str, target_type: str, target_attrs: dict[str, Any]) -> str | None:
    """What 6b and 6d make of one 0.3 link (its ends' 0.3 types): its 0.4 type, or None when 6b
    deletes it.  Steps 1-5 change no prefix these rules look at, so the 0.3 types suffice
    (``converters.validate`` asks this of a 0.1 ... 0.3 archive, to warn before a migration)."""
    if _is_illegal_link(source_type, link_type):
        return None
    return _new_link_type(link_type, _process_node_type(target_type, target_attrs))


def _drop_links_without_a_type(draft: Draft) -> None:
    """6e (reportgen's, not aiida-core's): a link 6d could not give a 0.4 type ('unspecified', or an
    input or call link into a node that is no process) is dropped, with a note.  aiida-core keeps it,
    and writes a 0.4 archive that its own link type rules, and validate, refuse."""
    links = draft.data.get("links_uuid", [])
    kept = [link for link in links if isinstance(link.get("type"), str) and link["type"] in LINK_TYPES_04]
    if len(kept) != len(links):
        draft.notes.append(f"0.3 -> 0.4: dropped {len(links) - len(kept)} link(s) that no 0.4 link type fits")
    draft.data["links_uuid"] = kept


def _process_node_type(node_type: str, attrs: dict[str, Any]) -> str:
    if node_type == "calculation.process.ProcessCalculation.":
        node_type = WORK_CALCULATION
    if node_type == WORK_CALCULATION:
        return WORK_FUNCTION if attrs.get("function_name") is not None else WORK_CHAIN
    if node_type.startswith("calculation.job."):
        return CALC_JOB
    if node_type == "calculation.inline.InlineCalculation.":
        return CALC_FUNCTION
    if node_type == "calculation.function.FunctionCalculation.":
        return WORK_FUNCTION
    return node_type


def _rename_process_nodes(draft: Draft) -> None:
    attributes = draft.data.get("node_attributes", {})
    for pk, row in _nodes(draft).items():
        row["type"] = _process_node_type(row.get("type") or "", attributes.get(pk) or {})


def _new_link_type(link_type: str, target_type: str) -> str:
    if link_type == "createlink":
        return "create"
    if link_type == "returnlink":
        return "return"
    if link_type in ("inputlink", "calllink"):
        stem = "input" if link_type == "inputlink" else "call"
        if target_type.startswith("node.process.calculation"):
            return f"{stem}_calc"
        if target_type.startswith("node.process.workflow"):
            return f"{stem}_work"
    return link_type


def _rename_link_types(draft: Draft) -> None:
    types = {row.get("uuid"): row.get("type") or "" for row in _nodes(draft).values()}
    for link in draft.data.get("links_uuid", []):
        link["type"] = _new_link_type(link.get("type", ""), types.get(link.get("output"), ""))


def _groups(draft: Draft) -> None:
    rename_field(draft, "Group", "name", "label")
    rename_field(draft, "Group", "type", "type_string")
    map_values(draft, "Group", "type_string", GROUP_TYPES)


def _rename_keys(tree: dict[str, Any], mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        if old in tree:
            tree[new] = tree.pop(old)


def _calc_job_attributes(draft: Draft) -> None:
    trees = [draft.data.get("node_attributes", {}), draft.data.get("node_attributes_conversion", {})]
    for pk, row in _nodes(draft).items():
        node_type = row.get("type") or ""
        for tree in trees:
            attrs = tree.get(pk)
            if not isinstance(attrs, dict):
                continue
            if node_type == CALC_JOB:
                _rename_keys(attrs, CALC_JOB_ATTRIBUTES)
            if node_type.startswith("node.process."):
                _rename_keys(attrs, {"_process_label": "process_label"})


def _prefix(old: str, new: str):
    return lambda t: new + t[len(old) :] if t.startswith(old) else t


def _trajectory_symbols(draft: Draft) -> None:
    """TrajectoryData kept its symbols in ``symbols.npy``; 0.4 holds them as an attribute."""
    trajectories = {pk: row["uuid"] for pk, row in _nodes(draft).items() if row.get("type") == TRAJECTORY}
    if not trajectories:
        return
    wanted = {pk: draft.repo.member(uuid, "symbols.npy") for pk, uuid in trajectories.items()}
    found = draft.repo.read_files(wanted.values())
    attributes = draft.data.setdefault("node_attributes", {})
    conversion = draft.data.setdefault("node_attributes_conversion", {})
    for pk, member in sorted(wanted.items()):
        if member not in found:
            continue
        symbols = _load_symbols(draft, member, found[member])
        attrs = attributes.setdefault(pk, {})
        attrs.pop("array|symbols", None)
        attrs["symbols"] = symbols
        shadow = conversion.setdefault(pk, {})
        shadow.pop("array|symbols", None)
        shadow["symbols"] = [None] * len(symbols)
        draft.repo.delete(member)


def _load_symbols(draft: Draft, member: str, raw: bytes) -> list:
    import numpy as np

    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise refuse(draft, f"TrajectoryData symbols are not a readable .npy array ({exc})", member) from None
    if array.ndim != 1 or array.dtype.kind not in "SU":
        raise refuse(draft, f"TrajectoryData symbols are not a list of strings (a {array.ndim}-d {array.dtype} array)", member)
    if array.dtype.kind == "U":
        return array.tolist()
    # AiiDA 0.x wrote them from Python 2 as byte strings (dtype |S2): the symbols are ASCII
    try:
        return [symbol.decode("ascii") for symbol in array.tolist()]
    except UnicodeDecodeError:
        raise refuse(draft, "TrajectoryData symbols are byte strings that are not ASCII", member) from None


def _parse_json_strings(draft: Draft) -> None:
    for entity, names in (("Computer", ("metadata", "transport_params")), ("Log", ("metadata",))):
        for pk, row in entities(draft, entity).items():
            for name in names:
                if isinstance(row.get(name), str):
                    try:
                        row[name] = json.loads(row[name])
                    except ValueError:
                        raise refuse(draft, f"$.export_data.{entity}[\"{pk}\"].{name} is not JSON") from None


def _reset_extras(draft: Draft) -> None:
    pks = list(_nodes(draft))
    draft.data["node_extras"] = {pk: {} for pk in pks}
    draft.data["node_extras_conversion"] = {pk: {} for pk in pks}


def _declare_log_and_comment(draft: Draft) -> None:
    info = fields_info(draft)
    info["Log"] = {k: dict(v) for k, v in LOG_FIELDS.items()}
    info["Comment"] = {k: dict(v) for k, v in COMMENT_FIELDS.items()}
    unique = draft.metadata.setdefault("unique_identifiers", {})
    unique["Log"] = "uuid"
    unique["Comment"] = "uuid"


def migrate(draft: Draft) -> None:
    _retype(draft, _data_base)  # 1
    _add_process_type(draft)  # 2
    _retype(draft, lambda t: "data.code.Code." if t == "code.Code." else t)  # 3
    _refuse_duplicate_uuids(draft)  # 4
    _simple_plugins(draft)  # 5
    _set_job_process_types(draft)  # 6a
    _delete_illegal_links(draft)  # 6b
    _rename_process_nodes(draft)  # 6c
    _rename_link_types(draft)  # 6d
    _drop_links_without_a_type(draft)  # 6e
    _groups(draft)  # 7, 8
    _calc_job_attributes(draft)  # 9
    _retype(draft, _prefix("data.", "node.data."))  # 10
    _trajectory_symbols(draft)  # 11
    _retype(draft, lambda t: _prefix("node.process.", "process.")(_prefix("node.data.", "data.")(t)))  # 12
    _retype(draft, lambda t: "data.dict.Dict." if t == "data.parameter.ParameterData." else t)  # 13
    rename_field(draft, "Node", "type", "node_type")  # 14
    drop_fields(draft, "Computer", ("enabled",))  # 15
    _parse_json_strings(draft)  # 16
    _reset_extras(draft)  # 17
    _declare_log_and_comment(draft)  # 18
