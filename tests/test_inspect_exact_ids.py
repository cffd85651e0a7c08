"""``inspect --json`` tells apart two jobs whose display ids are equal.

A job file named with the byte 0xFF and one literally named ``j\\xff`` both show as
``j\\xff`` in ``id`` and ``hdf5_file``; ``id_exact`` and ``hdf5_file_exact`` give the names
exactly, in the encoding build-manifest.json uses (``/`` + percent-escaped bytes).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

from reportgen.readers.datastore import decode_name, encode_name
from tests.invariants import run_cli


@pytest.fixture(scope="module")
def twin_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example store plus ``j<0xFF>.hdf5`` and ``j\\xff.hdf5`` (backslash, x, f, f)."""
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("twins") / "data_store"
    write_example(root, seed=0, jobs_per_project=2)
    project = os.fsencode(root / "default_project")
    first, second = sorted(p for p in os.listdir(project) if p.endswith(b".hdf5"))[:2]
    shutil.copy(project + b"/" + first, project + b"/j\xff.hdf5")
    shutil.copy(project + b"/" + second, project + b"/j\\xff.hdf5")
    return root


def _twins(store: Path) -> list[dict]:
    run = run_cli("inspect", store, "--json")
    assert run.code in (0, 65), run.stderr
    report = json.loads(run.stdout)
    return [job for project in report["projects"] for job in project["jobs"] if job["id"] == "j\\xff"]


def test_the_two_jobs_keep_their_shared_display_id_and_get_distinct_exact_ids(twin_store):
    twins = _twins(twin_store)
    assert len(twins) == 2
    assert {job["hdf5_file"] for job in twins} == {"default_project/j\\xff.hdf5"}  # unchanged keys
    assert sorted(job["id_exact"] for job in twins) == ["/j%FF", "j\\xff"]
    assert sorted(job["hdf5_file_exact"] for job in twins) == ["/default_project%2Fj%FF.hdf5", "default_project/j\\xff.hdf5"]


def test_the_exact_texts_name_the_real_files(twin_store):
    listed = set(os.listdir(os.fsencode(twin_store / "default_project")))
    for job in _twins(twin_store):
        text = job["hdf5_file_exact"]
        raw = unquote_to_bytes(text[1:]) if text.startswith("/") else text.encode("utf-8")
        assert raw.split(b"/", 1)[1] in listed
        assert os.fsencode(decode_name(job["id_exact"])) + b".hdf5" in listed


def test_a_plain_job_has_exact_texts_equal_to_its_display_ones(twin_store):
    run = run_cli("inspect", twin_store, "--json")
    jobs = [job for project in json.loads(run.stdout)["projects"] for job in project["jobs"]]
    plain = [job for job in jobs if "\\" not in job["id"]]
    assert plain
    for job in plain:
        assert (job["id_exact"], job["hdf5_file_exact"], job["log_dir_exact"]) == (job["id"], job["hdf5_file"], job["log_dir"])


def test_the_encoding_is_the_manifests(twin_store):
    from reportgen.site import manifest

    assert manifest.encode_name is encode_name and manifest.decode_name is decode_name
    name = os.fsdecode(b"j\xff")
    assert encode_name(name) == "/j%FF" and decode_name("/j%FF") == name
