"""Small helpers of the export tests: what a command reads (a data_store, or for restore its
archive), and what an archive's data.json records."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.export.test_audit_fixes import write_store
from tests.invariants import run_cli


def write_input(tmp_path: Path, command: str) -> Path:
    """What ``command`` reads: a small data_store, or for restore its archive."""
    store = tmp_path / "data_store"
    write_store(store)
    if command != "restore":
        return store
    assert run_cli("export", store, "-o", tmp_path / "a.aiida").code == 0
    return tmp_path / "a.aiida"


def read_data_json(archive: Path) -> dict:
    with zipfile.ZipFile(archive) as zf:
        return json.loads(zf.read("data.json"))


def carried_files(data: dict) -> dict[str, dict]:
    """Every data_store file the archive carries (raw and other files), by data_store path."""
    return {item["path"]: item for attrs in data["node_attributes"].values()
            if attrs.get("entropy_role") in ("raw-files", "other-files") for item in attrs["entropy_files"]}
