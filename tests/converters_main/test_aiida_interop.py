"""Optional: aiida-core accepts reportgen's main_0001 archives (skipped without verdi).

verdi comes from $REPORTGEN_VERDI or /tmp/venv-aiida/bin/verdi (aiida-core is
not a dependency of reportgen; install it into its own venv).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from converters.main import convert
from tests.converters_main.helpers import legacy_archive

VERDI = os.environ.get("REPORTGEN_VERDI") or "/tmp/venv-aiida/bin/verdi"

pytestmark = [pytest.mark.aiida, pytest.mark.skipif(not Path(VERDI).exists(), reason="verdi not installed")]


def verdi(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AIIDA_PATH=str(home))
    return subprocess.run([VERDI, *args], capture_output=True, text=True, env=env, timeout=300)


def count(text: str, entity: str) -> int:
    match = re.search(rf"{entity}:\s*\n\s*count: (\d+)", text)
    assert match, text
    return int(match.group(1))


def test_verdi_info_and_import_accept_reportgen_main(tmp_path):
    archive = tmp_path / "out.aiida"
    convert(legacy_archive(tmp_path), archive)
    home = tmp_path / "aiida-home"
    info = verdi(home, "archive", "info", "--detailed", str(archive))
    assert info.returncode == 0, info.stderr
    assert (count(info.stdout, "Nodes"), count(info.stdout, "Links")) == (4, 3)
    assert verdi(home, "presto", "-p", "rg", "--no-broker", "-n").returncode == 0
    imported = verdi(home, "-p", "rg", "archive", "import", str(archive))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    storage = verdi(home, "-p", "rg", "storage", "info")
    assert (count(storage.stdout, "Nodes"), count(storage.stdout, "Links")) == (4, 3)


def test_verdi_upgrades_reportgen_legacy_tar_gz(tmp_path):
    """aiida-core rewrites a legacy tar as a zip with the members' mtimes (refused before 1980)."""
    tar = tmp_path / "legacy.tar.gz"
    convert(legacy_archive(tmp_path), tmp_path / "main.aiida")
    convert(tmp_path / "main.aiida", tar, to_version="0.13", fmt="tar.gz")
    upgraded = verdi(tmp_path / "aiida-home", "archive", "migrate", str(tar), str(tmp_path / "up.aiida"))
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    info = verdi(tmp_path / "aiida-home", "archive", "info", "--detailed", str(tmp_path / "up.aiida"))
    assert (count(info.stdout, "Nodes"), count(info.stdout, "Links")) == (4, 3)
