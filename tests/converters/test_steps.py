"""One test per migration step: exactly what format reference 1.5 says it changes."""

from __future__ import annotations

import copy

import pytest

from converters.errors import BadInputError, UsageError
from converters.migrations import STEPS, plan, run_step
from converters.migrations._base import Draft, RepoView
from tests.converters import builders as b


def draft_of(version: str, data: dict | None = None, metadata: dict | None = None, files: dict | None = None) -> Draft:
    files = b.repository(version) if files is None else files
    repo = RepoView(lambda names: {n: files[n] for n in names}, files, "test.aiida")
    return Draft("test.aiida", metadata or b.build_metadata(version), data or b.build_data(version), repo)


def step(draft: Draft, source: str, target: str) -> Draft:
    run_step(draft, source, target, "9.9")
    return draft


def test_table_is_one_chain_0_1_to_0_13():
    assert plan("0.1", "0.13") == [(f"0.{n}", f"0.{n + 1}") for n in range(1, 13)]
    forward = [key for key in STEPS if key[0] in b.VERSIONS and key[1] in b.VERSIONS and b.vi(key[1]) > b.vi(key[0])]
    assert len(forward) == 12


def test_planner_refuses_backwards_with_both_versions():
    with pytest.raises(UsageError, match=r"from 0\.4 down to 0\.1"):
        plan("0.4", "0.1")  # no registered step ever leads below 0.4
    with pytest.raises(UsageError, match="unknown target version '0.99'"):
        plan("0.4", "0.99")
    assert plan("0.7", "0.7") == []


def test_bookkeeping_checks_input_stamps_output_and_keeps_aiida_version():
    draft = draft_of("0.7")
    with pytest.raises(BadInputError, match="got an archive at version '0.7'"):
        run_step(draft, "0.8", "0.9", "9.9")
    step(draft, "0.7", "0.8")
    assert draft.metadata["export_version"] == "0.8"
    assert draft.metadata["conversion_info"] == ["Converted from version 0.7 to 0.8 with reportgen v9.9"]
    assert draft.metadata["aiida_version"] == "0.0.test"


def test_0_1_to_0_2_renames_backend_prefix_everywhere():
    draft = step(draft_of("0.1"), "0.1", "0.2")
    assert set(draft.data["export_data"]) == {f"aiida.backends.djsite.db.models.Db{n}" for n in ("User", "Computer", "Group", "Node")}
    node_info = draft.metadata["all_fields_info"]["aiida.backends.djsite.db.models.DbNode"]
    assert node_info["user"]["requires"] == "aiida.backends.djsite.db.models.DbUser"
    assert "aiida.backends.djsite.db.models.DbLink" in draft.metadata["unique_identifiers"]
    again = step(draft_of("0.1", data=copy.deepcopy(draft.data), metadata={**copy.deepcopy(draft.metadata), "export_version": "0.1"}), "0.1", "0.2")
    assert again.data == draft.data  # already-renamed archives pass unchanged


def test_0_2_to_0_3_link_types_and_short_entity_names():
    draft = step(draft_of("0.2"), "0.2", "0.3")
    assert [link["type"] for link in draft.data["links_uuid"]] == [link["type"] for link in b.link_rows("0.3")]
    assert set(draft.data["export_data"]) == {"User", "Computer", "Group", "Node"}
    assert draft.metadata["all_fields_info"]["Node"]["dbcomputer"]["requires"] == "Computer"
    assert set(draft.metadata["unique_identifiers"]) == {"Node", "Group", "Computer", "User", "Link", "Attribute"}


def test_0_2_to_0_3_refuses_dangling_link():
    data = b.build_data("0.2")
    data["links_uuid"].append({"input": "00000000-0000-4000-8000-000000000000", "output": b.U["3"], "label": "x"})
    with pytest.raises(BadInputError, match=r"dangling link: \$\.links_uuid\[6\]\.input"):
        step(draft_of("0.2", data=data), "0.2", "0.3")


def test_0_3_to_0_4_provenance_redesign():
    data = b.build_data("0.3")
    nodes = data["export_data"]["Node"]
    nodes["8"] = {**b.node_row("0.3", "6"), "uuid": "88888888-0000-4000-8000-000000000008", "type": "calculation.inline.InlineCalculation."}
    data["node_attributes"]["8"] = {}
    data["node_attributes_conversion"]["8"] = {}
    data["links_uuid"].append({"input": b.U["3"], "output": b.U["6"], "label": "bad", "type": "returnlink"})
    draft = step(draft_of("0.3", data=data), "0.3", "0.4")
    nodes = draft.data["export_data"]["Node"]
    assert nodes["1"]["node_type"] == "data.code.Code."
    assert nodes["2"]["node_type"] == "data.dict.Dict."  # ParameterData -> Dict
    assert nodes["3"]["node_type"] == "process.calculation.calcjob.CalcJobNode."
    assert nodes["3"]["process_type"] == "aiida.calculations:quantumespresso.pw"
    assert nodes["5"]["node_type"] == "process.workflow.workchain.WorkChainNode."  # no function_name
    assert nodes["6"]["node_type"] == "data.int.Int."  # data.base.Int.
    assert nodes["8"]["node_type"] == "process.calculation.calcfunction.CalcFunctionNode."
    assert all("type" not in row and row["process_type"] is not None for row in nodes.values())
    assert [link["type"] for link in draft.data["links_uuid"]] == [link["type"] for link in b.link_rows("0.4")]
    attrs = draft.data["node_attributes"]["3"]
    assert {"resources", "parser_name", "process_label"} <= set(attrs)
    assert not {"jobresource_params", "parser", "_process_label"} & set(attrs)
    assert draft.data["node_attributes_conversion"]["3"]["resources"] == {"num_machines": None}
    assert draft.data["node_attributes"]["5"]["process_label"] == "MyWorkChain"
    group = draft.data["export_data"]["Group"]["1"]
    assert (group["label"], group["type_string"]) == ("my-group", "user")
    computer = draft.data["export_data"]["Computer"]["1"]
    assert "enabled" not in computer and computer["metadata"] == {"workdir": "/scratch/{username}/"}
    assert draft.data["node_extras"] == {pk: {} for pk in nodes}
    assert draft.metadata["unique_identifiers"]["Log"] == "uuid"
    assert draft.metadata["all_fields_info"]["Comment"]["user"]["requires"] == "User"
    assert "node_type" in draft.metadata["all_fields_info"]["Node"]


def test_0_3_to_0_4_trajectory_symbols_move_from_npy_to_attribute():
    draft = step(draft_of("0.3"), "0.3", "0.4")
    member = b.node_dir(b.U["7"]) + "/path/symbols.npy"
    assert draft.data["node_attributes"]["7"]["symbols"] == b.SYMBOLS
    assert "array|symbols" not in draft.data["node_attributes"]["7"]
    assert draft.data["node_attributes_conversion"]["7"]["symbols"] == [None, None]
    assert draft.repo.deleted == {member}


def test_0_3_to_0_4_python2_byte_string_symbols_become_strings():
    """AiiDA 0.x under Python 2 saved symbols.npy as byte strings (dtype |S2); 0.4 holds str."""
    member = b.node_dir(b.U["7"]) + "/path/symbols.npy"
    draft = step(draft_of("0.3", files={**b.repository("0.3"), member: b.npy_bytes(b.SYMBOLS, dtype="S")}), "0.3", "0.4")
    assert draft.data["node_attributes"]["7"]["symbols"] == b.SYMBOLS
    assert all(type(symbol) is str for symbol in draft.data["node_attributes"]["7"]["symbols"])


@pytest.mark.parametrize("array", [[1.0, 2.0], [["H", "O"]]], ids=["numbers", "2-d"])
def test_0_3_to_0_4_symbols_that_are_not_a_list_of_strings_are_refused(array):
    member = b.node_dir(b.U["7"]) + "/path/symbols.npy"
    draft = draft_of("0.3", files={**b.repository("0.3"), member: b.npy_bytes(array)})
    with pytest.raises(BadInputError, match="not a list of strings") as caught:
        step(draft, "0.3", "0.4")
    assert member in str(caught.value)


def test_0_3_to_0_4_refuses_duplicate_uuid():
    data = b.build_data("0.3")
    data["export_data"]["Node"]["9"] = dict(data["export_data"]["Node"]["2"])
    with pytest.raises(BadInputError, match="duplicate UUID"):
        step(draft_of("0.3", data=data), "0.3", "0.4")


def test_0_3_to_0_4_simpleplugins_and_unknown_plugin():
    data = b.build_data("0.3")
    nodes = data["export_data"]["Node"]
    nodes["3"]["type"] = "calculation.job.simpleplugins.arithmetic.add.ArithmeticAddCalculation."
    nodes["4"]["type"] = "calculation.job.myplug.thing.ThingCalculation."
    data["node_attributes"]["1"]["input_plugin"] = "simpleplugins.templatereplacer"
    draft = step(draft_of("0.3", data=data), "0.3", "0.4")
    assert draft.data["export_data"]["Node"]["3"]["process_type"] == "aiida.calculations:arithmetic.add"
    assert draft.data["export_data"]["Node"]["4"]["process_type"] == "myplug.thing.ThingCalculation"
    assert draft.data["node_attributes"]["1"]["input_plugin"] == "templatereplacer"


def test_0_4_to_0_5_drops_nodeversion_public_transport_params():
    draft = step(draft_of("0.4"), "0.4", "0.5")
    assert not any({"nodeversion", "public"} & set(r) for r in draft.data["export_data"]["Node"].values())
    assert "transport_params" not in draft.data["export_data"]["Computer"]["1"]
    assert "public" not in draft.metadata["all_fields_info"]["Node"]
    assert "transport_params" not in draft.metadata["all_fields_info"]["Computer"]


def test_0_5_to_0_6_dates_conversion_trees_and_legacy_state():
    data = b.build_data("0.5")
    data["node_attributes"]["2"]["kpoints"] = [4, 4, 4, "2018-01-01T00:00:00"]  # longer than its shadow
    data["node_attributes_conversion"]["2"]["kpoints"] = [None, None, None]
    draft = step(draft_of("0.5", data=data), "0.5", "0.6")
    attrs = draft.data["node_attributes"]["3"]
    assert attrs["scheduler_lastchecktime"] == b.T0 + "+00:00"
    assert "state" not in attrs
    assert (attrs["process_state"], attrs["exit_status"], attrs["process_label"]) == ("finished", 0, "Legacy JobCalculation")
    assert draft.data["node_attributes"]["2"]["kpoints"] == [4, 4, 4, "2018-01-01T00:00:00"]  # nothing dropped
    assert "node_attributes_conversion" not in draft.data and "node_extras_conversion" not in draft.data


@pytest.mark.parametrize(
    ("state", "expected"),
    [("WITHSCHEDULER", {"process_state": "killed", "process_status": "Legacy `JobCalculation` with state `WITHSCHEDULER`"}),
     ("PARSINGFAILED", {"process_state": "excepted"}), ("FAILED", {"process_state": "finished", "exit_status": 2})],
)  # fmt: skip
def test_0_5_to_0_6_state_mapping(state, expected):
    data = b.build_data("0.5")
    data["node_attributes"]["3"]["state"] = state
    attrs = step(draft_of("0.5", data=data), "0.5", "0.6").data["node_attributes"]["3"]
    assert expected.items() <= attrs.items()


def test_0_5_to_0_6_refuses_unknown_convert_type():
    data = b.build_data("0.5")
    data["node_attributes_conversion"]["4"]["energy"] = "decimal"
    with pytest.raises(BadInputError, match="unknown convert_type 'decimal'"):
        step(draft_of("0.5", data=data), "0.5", "0.6")


def test_0_6_to_0_7_seals_and_removes_attribute_and_link():
    draft = step(draft_of("0.6"), "0.6", "0.7")
    for pk in ("3", "5"):
        attrs = draft.data["node_attributes"][pk]
        assert attrs["sealed"] is True and "_sealed" not in attrs
    assert "sealed" not in draft.data["node_attributes"]["2"]
    for key in ("unique_identifiers", "all_fields_info"):
        assert not {"Link", "Attribute"} & set(draft.metadata[key])


def test_0_6_to_0_7_refuses_active_process_with_one_sentence():
    data = b.build_data("0.6")
    data["node_attributes"]["5"]["process_state"] = "running"
    with pytest.raises(BadInputError, match=r"active process nodes cannot be sealed: 5 \(running\)"):
        step(draft_of("0.6", data=data), "0.6", "0.7")


def test_0_7_to_0_8_return_label():
    draft = step(draft_of("0.7"), "0.7", "0.8")
    assert [link["label"] for link in draft.data["links_uuid"]][4] == "result"


def test_0_8_to_0_9_group_type_strings():
    data = b.build_data("0.8")
    groups = data["export_data"]["Group"]
    for pk, kind in (("2", "data.upf"), ("3", "auto.import"), ("4", "auto.run")):
        groups[pk] = {**groups["1"], "type_string": kind}
    draft = step(draft_of("0.8", data=data), "0.8", "0.9")
    kinds = [g["type_string"] for g in draft.data["export_data"]["Group"].values()]
    assert kinds == ["core", "core.upf", "core.import", "core.auto"]


def test_0_9_to_0_10_metadata_only():
    before = b.build_data("0.9")
    draft = step(draft_of("0.9", data=copy.deepcopy(before)), "0.9", "0.10")
    assert draft.data == before
    info = draft.metadata["all_fields_info"]
    assert info["Node"]["attributes"] == info["Node"]["extras"] == info["Group"]["extras"] == {"convert_type": "jsonb"}


def test_0_10_to_0_11_computer_label():
    draft = step(draft_of("0.10"), "0.10", "0.11")
    assert draft.data["export_data"]["Computer"]["1"]["label"] == "cluster"
    assert "name" not in draft.data["export_data"]["Computer"]["1"]
    assert "label" in draft.metadata["all_fields_info"]["Computer"]


def test_0_11_to_0_12_core_prefix_including_parser_name():
    data = b.build_data("0.11")
    data["export_data"]["Node"]["3"]["process_type"] = "aiida.calculations:arithmetic.add"
    data["node_attributes"]["3"]["parser_name"] = "arithmetic.add"
    draft = step(draft_of("0.11", data=data), "0.11", "0.12")
    nodes = draft.data["export_data"]["Node"]
    assert nodes["2"]["node_type"] == "data.core.dict.Dict."
    assert nodes["7"]["node_type"] == "data.core.array.trajectory.TrajectoryData."
    assert nodes["3"]["process_type"] == "aiida.calculations:core.arithmetic.add"
    assert draft.data["node_attributes"]["3"]["parser_name"] == "core.arithmetic.add"  # aiida-core misses this
    assert draft.data["export_data"]["Computer"]["1"]["scheduler_type"] == "core.slurm"


def test_0_12_to_0_13_transport_type():
    draft = step(draft_of("0.12"), "0.12", "0.13")
    assert draft.data["export_data"]["Computer"]["1"]["transport_type"] == "core.ssh"
