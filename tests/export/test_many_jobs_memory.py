"""Export and restore in memory that does not grow with the number of jobs.

data.json used to be held whole: every node, attribute, link and log of the
store in Python dicts, rendered at the end (export), and parsed whole before
anything was restored.  Both grew by about 300 KB per job.  Now export spools
its rows into work files and streams data.json from them, byte for byte what
rendering the whole tree gave, and restore reads it in two streamed passes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.bench_export_scale import measure, write_scaled_store, write_template
from reportgen.errors import BadInputError
from reportgen.export import graph as g
from reportgen.export.write import DataJson, iter_text_order, render_json

SMALL, LARGE = 100, 400  # jobs of ~110 KB: the old code grew by 200-300 KB per job, ~60-90 MB between them
# bytes of peak RSS per extra job, measured between SMALL and LARGE (zip): the old code 209 KB (export) and
# 313 KB (restore); now 23 KB and 81 KB.  What restore still grows by is mostly the container's listing of
# the archive's members (~35 a job: converters.containers keeps ~900 bytes per member) and the plan itself.
MAX_EXPORT_GROWTH, MAX_RESTORE_GROWTH = 64 * 1024, 160 * 1024


def _node(i: int, **attributes) -> g.GraphNode:
    return g.GraphNode(uuid=f"{i:08d}-0000-4000-8000-000000000000", node_type="data.core.dict.Dict.",
                       label=f"n{i}", description="", ctime="2024-01-01T00:00:00.000000",
                       attributes={"i": i, "z": [1.5, None, "é"], **attributes}, extras={"k": i})


def _pieces(odd: dict | None = None) -> list[g.Graph]:
    """Three pieces, 130 nodes (pks 1..130 sort as text: 1, 10, 100, ...), logs on nodes of an
    earlier piece, two groups whose uuids sort against their order; ``odd`` goes into node 77."""
    pieces = []
    for start, stop in ((1, 60), (60, 110), (110, 131)):
        nodes = tuple(_node(i, **(odd if odd and i == 77 else {})) for i in range(start, stop))
        links = tuple(g.GraphLink(nodes[0].uuid, n.uuid, f"l{n.label}", "create") for n in nodes[1:])
        logs = tuple(g.GraphLog(f"log-{start}-{j}", _node(j + 1).uuid, "2024-01-01T00:00:00.000000", "x", "INFO",
                                f"message {j}", {"j": j}) for j in range(start))
        groups = (g.GraphGroup(f"{'zy'[start % 2]}group-{start}", f"g{start}", "", "2024-01-01T00:00:00.000000",
                               tuple(n.uuid for n in nodes)),)
        pieces.append(g.Graph(nodes, links, logs, groups))
    return pieces


def _whole_tree(pieces: list[g.Graph], email: str) -> bytes:
    """data.json as the committed code built it before it was spooled: one tree, rendered once."""
    nodes, attributes, extras, links, logs, groups, members, pk_of = {}, {}, {}, [], {}, {}, {}, {}
    for piece in pieces:
        for node in piece.nodes:
            pk = str(len(pk_of) + 1)
            pk_of[node.uuid] = int(pk)
            nodes[pk] = {"uuid": node.uuid, "node_type": node.node_type, "process_type": node.process_type,
                         "label": node.label, "description": node.description, "ctime": node.ctime,
                         "mtime": node.ctime, "user": 1, "dbcomputer": None}
            attributes[pk], extras[pk] = node.attributes, node.extras
        links += [{"input": ln.input, "output": ln.output, "label": ln.label, "type": ln.type} for ln in piece.links]
        for log in piece.logs:
            logs[str(len(logs) + 1)] = {"uuid": log.uuid, "time": log.time, "loggername": log.loggername,
                                        "levelname": log.levelname, "message": log.message, "metadata": log.metadata,
                                        "dbnode": pk_of[log.node]}
        for group in piece.groups:
            groups[str(len(groups) + 1)] = {"uuid": group.uuid, "label": group.label, "type_string": group.type_string,
                                            "description": group.description, "time": group.time, "user": 1}
            members[group.uuid] = list(group.nodes)
    user = {"email": email, "first_name": "", "last_name": "", "institution": ""}
    return render_json({
        "export_data": {"User": {"1": user}, "Computer": {}, "Node": nodes, "Group": groups, "Log": logs, "Comment": {}},
        "links_uuid": links, "groups_uuid": members, "node_attributes": attributes, "node_extras": extras,
    })


def _streamed(pieces: list[g.Graph], email: str, folder: Path) -> tuple[bytes, int]:
    data = DataJson(email, folder)
    try:
        for piece in pieces:
            data.add(piece)
        member = data.member()
        assert member.chunks is not None
        return b"".join(member.chunks), member.size
    finally:
        data.close()


@pytest.mark.parametrize("odd", [None, {"big": 2**70}, {"name": "caf\udce9"}], ids=["orjson", "int-over-64-bits", "lone-surrogate"])
def test_spooled_data_json_is_byte_for_byte_the_whole_tree(tmp_path: Path, odd: dict | None):
    """The pks in text order, sorted keys, compact; and, when one row needs Python's encoder (an
    integer beyond 64 bits, a lone surrogate), every row rendered by it, as the whole tree was."""
    pieces = _pieces(odd)
    body, size = _streamed(pieces, "me@example.org", tmp_path)
    expected = _whole_tree(pieces, "me@example.org")
    assert body == expected
    assert size == len(body)
    assert list(json.loads(body)["export_data"]["Node"])[:4] == ["1", "10", "100", "101"]


def test_an_empty_graph_renders_as_the_whole_tree(tmp_path: Path):
    body, size = _streamed([], "e@x", tmp_path)
    assert body == _whole_tree([], "e@x") and size == len(body)


def test_a_uuid_repeated_in_a_later_piece_is_refused(tmp_path: Path):
    """The UUID -> pk map lives in SQLite now; it still catches a repeat across pieces."""
    data = DataJson("e@x", tmp_path)
    try:
        data.add(g.Graph((_node(1), _node(2))))
        with pytest.raises(BadInputError, match="two entities share the UUID 00000002"):
            data.add(g.Graph((_node(3), _node(2))))
    finally:
        data.close()


def test_text_order_of_the_pks_is_sorted_text():
    for n in [*range(0, 250), 999, 1000, 1001, 10_000]:
        assert [str(pk) for pk in iter_text_order(n)] == sorted(str(pk) for pk in range(1, n + 1))


def test_peak_memory_of_export_and_restore_does_not_grow_with_the_jobs(tmp_path: Path):
    """SMALL and LARGE copies of one example job: the peak RSS (CLI and its workers) grows by far
    less than the ~300 KB per job that holding data.json cost, for export and for restore."""
    template = write_template(tmp_path / "template")
    peaks = {}
    for jobs in (SMALL, LARGE):
        store = write_scaled_store(template, tmp_path / f"store-{jobs}", jobs)
        peaks[jobs] = measure(store, tmp_path, "zip")[:2]
        assert sorted(os.listdir(tmp_path)) == sorted(["template", *(f"store-{n}" for n in peaks)])  # no work folder left
    extra = LARGE - SMALL
    export_growth = (peaks[LARGE][0] - peaks[SMALL][0]) / extra
    restore_growth = (peaks[LARGE][1] - peaks[SMALL][1]) / extra
    assert export_growth < MAX_EXPORT_GROWTH, peaks
    assert restore_growth < MAX_RESTORE_GROWTH, peaks
