"""Optional: archives written by AiiDA itself (skipped unless ``$REPORTGEN_REAL_ARCHIVES`` names a folder).

The test inputs elsewhere are built in code; these are the check that the
code reads the format, not just our builders.  A corpus to start from is
PyPI's ``aiida-export-migration-tests`` (export_v0.2 ... v0.9, written by
AiiDA 0.9 ... 1.x)::

    pip download --no-deps aiida-export-migration-tests==0.9.0 && tar xzf aiida-export-migration-tests-0.9.0.tar.gz
    REPORTGEN_REAL_ARCHIVES=aiida-export-migration-tests-0.9.0/aiida-export-migration-tests/archives make test

Add your own (``verdi export create`` of AiiDA 1.x, ``verdi archive create``
of 2.x).  Each archive must validate and migrate to 0.13 and to main_0001
with valid results; with aiida-core installed (``/tmp/venv-aiida`` or
``$REPORTGEN_VERDI``), each result from 0.4 on must equal aiida-core's own
migration of the same archive.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import converters
from converters.main import convert
from converters.main.compare import main_digest
from converters.validate import validate
from tests.converters.test_differential_aiida import VERDI, comparable_contents

CORPUS = Path(os.environ.get("REPORTGEN_REAL_ARCHIVES", "/nonexistent"))
ARCHIVES = sorted(p for p in CORPUS.glob("*") if p.is_file()) if CORPUS.is_dir() else []
pytestmark = pytest.mark.skipif(not ARCHIVES, reason="set REPORTGEN_REAL_ARCHIVES to a folder of real archives")


def _errors(path: Path) -> list:
    return [p for p in validate(path) if p.severity == "error"]


def _verdi_migrate(src: Path, dst: Path, home: Path, *version: str) -> bool:
    env = {**os.environ, "AIIDA_PATH": str(home)}
    run = subprocess.run([str(VERDI), "archive", "migrate", *version, str(src), str(dst)], capture_output=True, env=env, timeout=600)
    return run.returncode == 0


@pytest.mark.parametrize("archive", ARCHIVES, ids=lambda p: p.name)
def test_a_real_archive_validates_and_migrates_like_aiida_core(tmp_path, archive):
    assert _errors(archive) == []
    version = converters.inspect(archive).export_version
    if version.startswith("main"):
        # to 0.13 and back the one loss a real archive may have is authinfos (--include-authinfos)
        down = convert(archive, tmp_path / "down.zip", to_version="0.13", allow_loss=True)
        assert [note for note in down.notes if "authinfos" not in note] == []
        convert(tmp_path / "down.zip", tmp_path / "up.aiida", to_version=version)
        after, before = main_digest(tmp_path / "up.aiida"), main_digest(archive)
        if down.notes:
            del after["tables"]["db_dbauthinfo"], before["tables"]["db_dbauthinfo"]
        assert after == before
        # further down, steps may refuse what they cannot invert (aiida-core 2.0.4 left transports
        # unprefixed); allowed, every version still validates
        convert(archive, tmp_path / "deep.zip", to_version="0.4", allow_loss=True)
        assert _errors(tmp_path / "down.zip") == [] and _errors(tmp_path / "deep.zip") == []
        return
    convert(archive, tmp_path / "legacy.zip", to_version="0.13")
    convert(archive, tmp_path / "main.aiida", to_version="main_0001")
    assert _errors(tmp_path / "legacy.zip") == [] and _errors(tmp_path / "main.aiida") == []
    if not VERDI.exists() or version in ("0.1", "0.2", "0.3"):  # aiida-core 2.x refuses 0.1 ... 0.3
        return
    home = tmp_path / "aiida-home"
    assert _verdi_migrate(archive, tmp_path / "theirs.zip", home, "--version", "0.13")
    assert comparable_contents(tmp_path / "legacy.zip") == comparable_contents(tmp_path / "theirs.zip")
    assert _verdi_migrate(archive, tmp_path / "theirs.aiida", home)
    assert main_digest(tmp_path / "main.aiida") == main_digest(tmp_path / "theirs.aiida")
