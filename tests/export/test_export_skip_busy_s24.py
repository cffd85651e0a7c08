"""Session 24 review (a nightly CI operator): a lab's store always has a job running, and one node
log appended while ``reportgen export`` reads it stops the export (exit 65, no archive).
``--skip-busy`` leaves such a job out, says so in the summary, and carries every other job."""

from __future__ import annotations

import json
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.invariants import run_cli
from tests.readers.builders import simple_job


@contextmanager
def appending(log: Path) -> Iterator[None]:
    """A node still logging: a line every 5 ms until the block ends."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            with log.open("a") as fh:
                fh.write(f"INFO still running {time.monotonic_ns()}\n")
            time.sleep(0.005)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        time.sleep(0.05)
        yield
    finally:
        stop.set()
        thread.join()


def store_with_a_running_job(tmp_path: Path) -> Path:
    store = tmp_path / "data_store"
    for job in ("j1", "j2", "j3"):
        simple_job(store, "lab", job)
    return store


def test_a_job_written_to_stops_a_plain_export_and_nothing_is_left(tmp_path: Path):
    store = store_with_a_running_job(tmp_path)
    with appending(store / "lab" / "j2" / "QPU.log"):
        result = run_cli("export", store, "-o", tmp_path / "out.zip")
    assert result.code == 65
    assert "j2/QPU.log" in result.stderr and "--skip-busy" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data_store"]


def test_skip_busy_leaves_the_running_job_out_and_carries_the_rest(tmp_path: Path):
    store = store_with_a_running_job(tmp_path)
    with appending(store / "lab" / "j2" / "QPU.log"):
        result = run_cli("export", store, "-o", tmp_path / "out.zip", "--skip-busy")
    assert result.code == 0, result.stderr
    assert "2 jobs," in result.stdout and "1 job left out, written to while read (lab/j2)" in result.stdout
    data = json.loads(zipfile.ZipFile(tmp_path / "out.zip").read("data.json"))
    jobs = sorted(row["label"] for row in data["export_data"]["Node"].values()
                  if row["node_type"] == "process.workflow.WorkflowNode.")
    assert jobs == ["j1", "j3"]


def test_skip_busy_changes_nothing_over_a_still_store(tmp_path: Path):
    store = store_with_a_running_job(tmp_path)
    plain = run_cli("export", store, "-o", tmp_path / "plain.zip")
    skipping = run_cli("export", store, "-o", tmp_path / "skipping.zip", "--skip-busy")
    assert plain.code == skipping.code == 0
    assert (tmp_path / "plain.zip").read_bytes() == (tmp_path / "skipping.zip").read_bytes()
    assert "left out" not in skipping.stdout
