"""0.11 -> 0.12: built-in entry points gain the ``core.`` prefix.

Node types of the 24 built-in data classes (``data.dict.Dict.`` ->
``data.core.dict.Dict.``), the process types of the arithmetic and
templatereplacer plugins, the six built-in scheduler types, and the CalcJob
attribute ``parser_name`` (``arithmetic.add``, ``templatereplacer.doubler``).

Deliberate difference from aiida-core: aiida-core looks for the attributes
under ``export_data["node_attributes"]``, which never exists, so it never
renames ``parser_name``.  reportgen renames it, as intended.
"""

from converters.migrations._base import Draft, entities, map_values

DATA_TYPES = (
    "array.ArrayData", "array.bands.BandsData", "array.kpoints.KpointsData", "array.projection.ProjectionData",
    "array.trajectory.TrajectoryData", "array.xy.XyData", "base.BaseData", "bool.Bool", "cif.CifData",
    "code.Code", "dict.Dict", "float.Float", "folder.FolderData", "int.Int", "list.List",
    "numeric.NumericData", "orbital.OrbitalData", "remote.RemoteData", "remote.stash.RemoteStashData",
    "remote.stash.folder.RemoteStashFolderData", "singlefile.SinglefileData", "str.Str",
    "structure.StructureData", "upf.UpfData",
)  # fmt: skip
NODE_TYPES = {f"data.{t}.": f"data.core.{t}." for t in DATA_TYPES}
PROCESS_TYPES = {
    "aiida.calculations:arithmetic.add": "aiida.calculations:core.arithmetic.add",
    "aiida.calculations:templatereplacer": "aiida.calculations:core.templatereplacer",
    "aiida.workflows:arithmetic.add_multiply": "aiida.workflows:core.arithmetic.add_multiply",
    "aiida.workflows:arithmetic.multiply_add": "aiida.workflows:core.arithmetic.multiply_add",
}
SCHEDULERS = {name: f"core.{name}" for name in ("direct", "lsf", "pbspro", "sge", "slurm", "torque")}
PARSERS = {"arithmetic.add": "core.arithmetic.add", "templatereplacer.doubler": "core.templatereplacer.doubler"}


def migrate(draft: Draft) -> None:
    map_values(draft, "Node", "node_type", NODE_TYPES)
    map_values(draft, "Node", "process_type", PROCESS_TYPES)
    map_values(draft, "Computer", "scheduler_type", SCHEDULERS)
    attributes = draft.data.get("node_attributes") or {}
    for pk in entities(draft, "Node"):
        attrs = attributes.get(pk)
        if isinstance(attrs, dict) and attrs.get("parser_name") in PARSERS:
            attrs["parser_name"] = PARSERS[attrs["parser_name"]]
