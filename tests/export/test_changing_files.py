"""A data_store file written to while export runs (a node still logging, an HDF5 file being
flushed, a stray file) is refused with one line, exit 65, nothing left at the output; the size
and SHA-256 data.json records are those of the bytes stored (the archive used to say "valid"
and restore refused it).  ``REPORTGEN_CHANGE_AT`` changes the file for real between its hashing
and its copying, so the race is deterministic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.export.archives import carried_files, read_data_json
from tests.export.helpers import assert_same_store
from tests.export.test_audit_fixes import write_store
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli


@pytest.mark.parametrize(("kind", "rel"), [
    ("grow", "proj/j1/QPU.log"),  # a node still logging
    ("grow", "proj/j1.hdf5"),  # a job file being flushed
    ("rewrite", "proj/j1/QPU.log"),  # same size, same mtime: only the digest of what is streamed differs
    ("grow", "notes.txt"),  # a stray file, carried by the "other files" node
])
def test_file_changed_while_export_runs_is_refused(tmp_path: Path, kind: str, rel: str):
    store = tmp_path / "data_store"
    write_store(store)
    (store / "notes.txt").write_text("a stray file\n")
    out = tmp_path / "out.aiida"
    run = run_cli("export", store, "-o", out, env={"REPORTGEN_CHANGE_AT": f"{kind}:{rel}"})
    assert_one_error_line(run, 65, "changed while it was read; rerun when the job is done", rel)
    assert not out.exists()
    assert_no_staging_left(tmp_path)


def test_unchanged_store_exports_the_recorded_bytes_and_restores(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    (store / "notes.txt").write_text("a stray file\n")
    out = tmp_path / "out.aiida"
    run = run_cli("export", store, "-o", out, env={"REPORTGEN_CHANGE_AT": "grow:no/such/file"})
    assert run.code == 0, run.stderr
    recorded = carried_files(read_data_json(out))
    assert set(recorded) >= {"proj/j1/QPU.log", "proj/j1.hdf5", "notes.txt"}
    for path, item in recorded.items():
        data = (store / path).read_bytes()
        assert item["size"] == len(data), path
        assert item["sha256"] == hashlib.sha256(data).hexdigest(), path
    restored = tmp_path / "restored"
    assert run_cli("restore", out, "-o", restored).code == 0
    assert_same_store(store, restored)
