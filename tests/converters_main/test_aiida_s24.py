"""Optional: archives aiida-core itself writes with big integers and odd file names (review s24, F01, F02).

Skipped without aiida-core (``$REPORTGEN_VERDI`` or /tmp/venv-aiida/bin/verdi).
A profile made by ``verdi presto`` stores ``Float(1e20)``, a Dict holding
Avogadro's number (both stored by aiida-core as integers beyond 64 bits) and a
FolderData with a file named ``nl\\nname.txt``; ``verdi archive create`` writes
the main_0001 archive.  reportgen validates it, takes it down to 0.13 and up
again; aiida-core migrates reportgen's 0.13 and imports reportgen's main_0001,
and the values and names come out as they went in.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.invariants import run_cli

VERDI = Path(os.environ.get("REPORTGEN_VERDI") or "/tmp/venv-aiida/bin/verdi")
PYTHON = VERDI.parent / "python"
pytestmark = [pytest.mark.aiida, pytest.mark.skipif(not VERDI.exists(), reason="verdi not installed")]

STORE = """
import json, sys
from aiida import load_profile, orm
load_profile(sys.argv[1])
f = orm.Float(1e20).store()
d = orm.Dict({'avogadro': 6.02214076e23, 'eV_in_J': 1.602176634e-19}).store()
fd = orm.FolderData()
fd.base.repository.put_object_from_bytes(b'kept', 'plain.txt')
fd.base.repository.put_object_from_bytes(b'newline', 'nl\\nname.txt')
fd.store()
print(json.dumps([f.uuid, d.uuid, fd.uuid]))
"""
READ = """
import json, sys
from aiida import load_profile, orm
load_profile(sys.argv[1])
f, d, fd = (orm.load_node(u) for u in json.loads(sys.argv[2]))
print(json.dumps({"float": f.base.attributes.get("value"), "avogadro": d.get_dict()["avogadro"],
                  "files": sorted(fd.base.repository.list_object_names()),
                  "newline": fd.base.repository.get_object_content("nl\\nname.txt", mode="rb").decode()}))
"""


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([*args], capture_output=True, text=True, env=dict(os.environ, AIIDA_PATH=str(home)), timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def test_aiida_cores_own_archive_goes_down_and_up_and_back_into_aiida(tmp_path):
    home = tmp_path / "aiida-home"
    _run(home, str(VERDI), "presto", "-p", "s24", "--no-broker", "-n")
    uuids = _run(home, str(PYTHON), "-c", STORE, "s24").stdout.strip().splitlines()[-1]
    src = tmp_path / "aiida.aiida"
    _run(home, str(VERDI), "-p", "s24", "archive", "create", "-a", "--", str(src))

    run = run_cli("archive", "validate", src)
    assert run.code == 0 and "valid (0 errors" in run.stdout, run.stdout + run.stderr
    down, up = tmp_path / "down.zip", tmp_path / "up.aiida"
    for source, target, version in ((src, down, "0.13"), (down, up, "main_0001")):
        run = run_cli("archive", "migrate", source, target, "--to", version, "--allow-loss")  # db_dbsetting: a declared loss
        assert run.code == 0, run.stderr
    data = json.loads(_unzip(down, "data.json"))
    assert 100000000000000000000 in [a.get("value") for a in data["node_attributes"].values()]
    assert 602214075999999987023872 in [a.get("avogadro") for a in data["node_attributes"].values()]

    _run(home, str(VERDI), "archive", "migrate", str(down), str(tmp_path / "verdi-up.aiida"))  # aiida-core reads our 0.13
    _run(home, str(VERDI), "presto", "-p", "s24b", "--no-broker", "-n")
    _run(home, str(VERDI), "-p", "s24b", "archive", "import", "--no-import-group", str(up))
    found = json.loads(_run(home, str(PYTHON), "-c", READ, "s24b", uuids).stdout.strip().splitlines()[-1])
    assert found == {"float": 10**20, "avogadro": 602214075999999987023872, "files": ["nl\nname.txt", "plain.txt"], "newline": "newline"}
    assert type(found["float"]) is int and type(found["avogadro"]) is int  # as aiida-core stored them, not floats


def _unzip(path: Path, member: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return zf.read(member)
