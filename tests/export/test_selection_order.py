"""The selection recorded in metadata.json, and so the archive, does not depend on the order or
the repeats of the ``--project`` and ``--job`` options."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from tests.export.test_audit_fixes import write_store
from tests.invariants import run_cli


def test_selection_order_and_repeats_do_not_change_the_export(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    shutil.copytree(store / "proj", store / "other", symlinks=True)
    shutil.copytree(store / "git" / "proj", store / "git" / "other", symlinks=True)
    forward = ("--project", "other", "--project", "proj", "--job", "j1")
    backward = ("--job", "j1", "--job", "j1", "--project", "proj", "--project", "other", "--project", "proj")
    for name, options in (("a.aiida", forward), ("b.aiida", backward)):
        run = run_cli("export", store, "-o", tmp_path / name, *options)
        assert run.code == 0, run.stderr
    with zipfile.ZipFile(tmp_path / "a.aiida") as a, zipfile.ZipFile(tmp_path / "b.aiida") as b:
        assert a.read("metadata.json") == b.read("metadata.json")
        assert b'"selection":{"jobs":["j1"],"projects":["other","proj"]}' in a.read("metadata.json")
    assert (tmp_path / "a.aiida").read_bytes() == (tmp_path / "b.aiida").read_bytes()
