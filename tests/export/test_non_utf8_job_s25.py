"""A job whose name is not UTF-8 owns its files in the export (review S, F09).

``job_file_paths`` compared the names the reader shows (``j\\xff``) with the listing's raw names,
so such a job's HDF5 file and logs went to "data_store other files" and ``--skip-busy`` could
not leave it out.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from tests.invariants import run_cli
from tests.readers.builders import simple_job


def test_a_job_named_in_latin1_owns_its_hdf5_file_and_log_and_restores_byte_for_byte(tmp_path: Path):
    store = tmp_path / "data_store"
    odd = os.fsdecode(b"j\xff")
    simple_job(store, "lab", "j0")
    simple_job(store, "lab", odd, job_eui="#/odd")
    archive = tmp_path / "a.aiida"
    run = run_cli("export", store, "-o", archive)
    assert run.code == 0, run.stderr
    data = json.loads(zipfile.ZipFile(archive).read("data.json"))
    labels = {pk: node["label"] for pk, node in data["export_data"]["Node"].items()}
    owners = {labels[pk]: [f["path"] for f in attrs["entropy_files"]]
              for pk, attrs in data["node_attributes"].items() if "entropy_files" in attrs}
    assert owners["data_store other files"] == []
    odd_files = next(paths for label, paths in owners.items() if label.endswith(" raw files") and label != "j0 raw files")
    assert len(odd_files) == 2 and owners["j0 raw files"] == ["lab/j0.hdf5", "lab/j0/QPU.log"]
    restored = tmp_path / "restored"
    assert run_cli("restore", archive, "-o", restored).code == 0
    for name in (b"lab/j\xff.hdf5", b"lab/j\xff/QPU.log"):
        assert Path(os.fsdecode(os.path.join(os.fsencode(restored), name))).read_bytes() == \
            Path(os.fsdecode(os.path.join(os.fsencode(store), name))).read_bytes()
