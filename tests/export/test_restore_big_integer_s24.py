"""Session 24: the converters keep integers beyond 64 bits (aiida-core stores Float(1e20) as one), so
restore must too: an archive whose role node carries such an integer among its attributes restores
the data_store as before instead of stopping with an internal error."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from reportgen.export import graph as g
from tests.export.helpers import contents
from tests.invariants import run_cli
from tests.readers.builders import simple_job


def test_a_role_node_with_a_big_integer_restores(tmp_path: Path):
    store = tmp_path / "data_store"
    simple_job(store, "lab", "j1")
    plain = tmp_path / "plain.zip"
    assert run_cli("export", store, "-o", plain).code == 0
    with zipfile.ZipFile(plain) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    data = json.loads(members["data.json"])
    roles = [pk for pk, attrs in data["node_attributes"].items() if attrs.get("entropy_role") == g.ROLE_RAW]
    assert roles
    for pk in roles:
        data["node_attributes"][pk]["lab_note"] = 10**20  # as aiida-core writes Float(1e20)
    members["data.json"] = json.dumps(data).encode()
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(edited, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    result = run_cli("restore", edited, "-o", tmp_path / "restored")
    assert result.code == 0, result.stderr
    assert contents(tmp_path / "restored") == contents(store)
