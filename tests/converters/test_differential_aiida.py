"""Differential test: reportgen's migration equals aiida-core's (``verdi archive migrate --version 0.13``).

Skipped unless aiida-core is installed in a separate venv (``/tmp/venv-aiida``
or ``$REPORTGEN_VERDI``); aiida-core is not a dependency of this project.
Compared after dropping what legitimately differs: ``aiida_version``,
``conversion_info``, ``mtime`` and ``compression``, and the one deliberate
difference (0.11 -> 0.12 ``parser_name``, which aiida-core never renames).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

import converters
from converters.containers import open_archive
from tests.converters import builders as b

VERDI = Path(os.environ.get("REPORTGEN_VERDI", "/tmp/venv-aiida/bin/verdi"))
pytestmark = [
    pytest.mark.aiida,
    pytest.mark.skipif(not VERDI.exists(), reason="aiida-core not installed (/tmp/venv-aiida/bin/verdi)"),
]
IGNORED = ("aiida_version", "conversion_info", "mtime", "compression")


def comparable_contents(path: Path) -> tuple[dict, dict, set[str]]:
    archive = open_archive(path)
    metadata = json.loads(archive.read_bytes("metadata.json"))
    for key in IGNORED:
        metadata.pop(key, None)
    return metadata, json.loads(archive.read_bytes("data.json")), set(archive.files) - {"metadata.json", "data.json"}


@pytest.mark.parametrize("version", ["0.4"])  # 0.4 runs every step 2.x has, 0.11 -> 0.12 included
def test_reportgen_equals_aiida_core(tmp_path, version):
    data = b.build_data(version)
    data["node_attributes"]["3"]["parser_name"] = "arithmetic.add"
    src = b.write_container(tmp_path / "in.aiida", b.build_members(version, data=copy.deepcopy(data)), "zip")
    ours, theirs = tmp_path / "ours.zip", tmp_path / "theirs.aiida"
    converters.migrate(src, ours)
    env = {**os.environ, "AIIDA_PATH": str(tmp_path / "aiida-home")}
    run = subprocess.run([str(VERDI), "archive", "migrate", "--version", "0.13", str(src), str(theirs)],
                         capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    our_meta, our_data, our_files = comparable_contents(ours)
    their_meta, their_data, their_files = comparable_contents(theirs)
    assert our_data["node_attributes"]["3"]["parser_name"] == "core.arithmetic.add"  # the intended rename
    assert their_data["node_attributes"]["3"]["parser_name"] == "arithmetic.add"  # aiida-core's bug (reference 1.6)
    their_data["node_attributes"]["3"]["parser_name"] = "core.arithmetic.add"
    assert our_meta == their_meta
    assert our_data == their_data
    assert our_files == their_files
