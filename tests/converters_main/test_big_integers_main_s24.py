"""A main_0001 database holding integers beyond 64 bits, as aiida-core writes them (review s24, F01).

``verdi archive create`` of a profile with ``Float(1e20)`` or ``Dict({'avogadro':
6.02214076e23})`` stores ``100000000000000000000`` and ``602214075999999987023872``
in the JSON columns.  reportgen called such an archive INVALID and refused to
migrate it.  Each JSON column that can hold one does here (by SQL on a reportgen
main_0001 archive); validate, inspect, a rewrite to main_0001, the way down to
0.13 (streamed) and to 0.4 (in memory) keep every digit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.containers import open_archive
from converters.main import convert
from converters.main.compare import main_digest
from converters.main.validate import inspect_main
from tests.converters_main.db_checks import error_messages, write_main_archive
from tests.converters_main.helpers import edit_main, rows
from tests.invariants import run_cli

AVOGADRO = 602214075999999987023872
ATTRIBUTES = {"value": 100000000000000000000, "avogadro": AVOGADRO, "list": [2**64, -(2**63) - 1, 1.5],
              "deep": {"x": {"y": [-(10**40)]}}}  # fmt: skip
EDITS = {  # table, column, row id -> the JSON text stored
    ("db_dbnode", "attributes", 2): json.dumps(ATTRIBUTES),
    ("db_dbnode", "extras", 3): json.dumps({"_aiida_hash": "h3", "n": 10**20}),
    ("db_dbgroup", "extras", 1): json.dumps({"count": 2**70}),
    ("db_dbcomputer", "metadata", 1): json.dumps({"x": 1, "big": 10**21}),
    ("db_dblog", "metadata", 1): json.dumps({"n": -(2**65)}),
}


@pytest.fixture(scope="module")
def big_main(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("big")
    statements = [f"UPDATE {t} SET {c} = '{text}' WHERE id = {pk}" for (t, c, pk), text in EDITS.items()]
    return edit_main(write_main_archive(tmp), tmp / "big.aiida", *statements)


def _legacy(path: Path) -> dict:
    with open_archive(path) as archive:
        return json.loads(archive.read_bytes("data.json"))


def test_validate_and_inspect_accept_them(big_main):
    assert error_messages(big_main) == {}
    run = run_cli("archive", "validate", big_main)
    assert run.code == 0 and "valid (0 errors" in run.stdout, run.stdout + run.stderr
    assert inspect_main(big_main).entities["Node"] == 4


def test_a_rewrite_to_main_0001_keeps_every_column_exactly(tmp_path, big_main):
    out = tmp_path / "again.aiida"
    run = run_cli("archive", "migrate", big_main, out, "--to", "main_0001")
    assert run.code == 0, run.stderr
    for (table, column, pk), text in EDITS.items():
        ((stored,),) = rows(out, f"SELECT {column} FROM {table} WHERE id = {pk}")
        assert json.loads(stored) == json.loads(text), (table, column)


def test_the_way_down_to_0_13_keeps_them(tmp_path, big_main):
    convert(big_main, tmp_path / "down.zip", to_version="0.13")
    data = _legacy(tmp_path / "down.zip")
    assert data["node_attributes"]["2"] == ATTRIBUTES
    assert data["node_extras"]["3"]["n"] == 10**20
    assert data["export_data"]["Group"]["1"]["extras"] == {"count": 2**70}
    assert data["export_data"]["Computer"]["1"]["metadata"]["big"] == 10**21
    assert data["export_data"]["Log"]["1"]["metadata"] == {"n": -(2**65)}


@pytest.mark.parametrize(("to", "fmt"), [("0.4", "tar.gz"), ("0.10", "zip"), ("0.13", "tar.zst")])
def test_down_and_up_again_is_the_same_archive(tmp_path, big_main, to, fmt):
    down = tmp_path / f"down.{fmt}"
    convert(big_main, down, to_version=to, fmt=fmt, allow_loss=True)
    assert _legacy(down)["node_attributes"]["2"]["avogadro"] == AVOGADRO
    convert(down, tmp_path / "up.aiida")
    assert main_digest(tmp_path / "up.aiida")["tables"] == main_digest(big_main)["tables"]
