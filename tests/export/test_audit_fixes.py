"""Audit round-trip failures: every archive export writes must restore, and bombs are still refused.

1. Real data that compresses well (an HDF5 file of zeros, a repetitive log) restores;
   a member inflating past the size the archive records for it, or an archive
   declaring more than fits beside the output, is refused.
2. A shallow or corrupt repository, which ``git bundle create`` bundles but git
   cannot fetch back, travels as plain files; an unusable bundle in an archive
   gives one error line naming the archive and the member.
3. A project folder whose name is not UTF-8 restores byte for byte.

Every input is built here: HDF5 files with h5py, repositories with the git CLI
(loose objects, so that one can be damaged), archives rewritten with zipfile.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import time
import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.errors import BadInputError, WriteError
from reportgen.export import export_archive, restore_data_store
from reportgen.export import restore as restore_module
from reportgen.export import write as write_module
from tests.export.helpers import assert_same_store
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, tree_digest

GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.invalid", "GIT_AUTHOR_DATE": "1656161234 +0200",
    "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.invalid", "GIT_COMMITTER_DATE": "1656161234 +0200",
}
STR = h5py.string_dtype("utf-8")


# ---------------------------------------------------------------- builders
def git(git_dir: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", f"--git-dir={git_dir}", *args], input=stdin, capture_output=True, env=GIT_ENV,
                          check=True)
    return done.stdout.decode().strip()


def write_loose_repo(git_dir: Path, revisions: list[dict[str, bytes]]) -> list[str]:
    """A bare repository on ``main``, one commit per revision, every object loose."""
    git_dir.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q", "--bare", "--template=", str(git_dir)],
                   env=GIT_ENV, check=True)
    shas: list[str] = []
    for number, files in enumerate(revisions):
        entries = "".join(f"100644 blob {git(git_dir, 'hash-object', '-w', '--stdin', stdin=data)}\t{name}\n"
                          for name, data in sorted(files.items()))
        tree = git(git_dir, "mktree", stdin=entries.encode())
        parent = ["-p", shas[-1]] if shas else []
        shas.append(git(git_dir, "commit-tree", tree, *parent, "-m", f"revision {number}"))
    git(git_dir, "update-ref", "refs/heads/main", shas[-1])
    return shas


def write_job(store: Path, project: str, job: str, workflow: str, params: str, values: np.ndarray,
              log: bytes = b"hello\n") -> None:
    """``<project>/<job>.hdf5`` as Flame writes it (one node QPU, one output) and its node log."""
    (store / project / job).mkdir(parents=True, exist_ok=True)
    with h5py.File(store / project / f"{job}.hdf5", "w") as f:
        for key, value in (("project", project), ("job_eui", f"#/{job}"), ("job_description", "a job"),
                           ("workflow_eui", "#/w1"), ("parameters_eui", "#/p1"), ("workflow_commit", workflow),
                           ("parameters_commit", params), ("creation_timestamp", "2022-06-25T14:41:05.123456+02:00")):
            f.attrs[key] = value
        node = f.create_group("QPU")
        node.attrs["type"], node.attrs["description"], node.attrs["bin"] = "QPUcircuitRunner", "d", "qpu.py"
        times = [f"2022-06-25T12:52:0{i}.000Z" for i in range(len(values))]
        node.create_dataset("image_time", data=np.array(times, dtype=object), dtype=STR)
        data = node.create_dataset("image", data=values)
        data.attrs["units"], data.attrs["description"] = "V", "an image"
    header = b"=" * 40 + b"\n|- Entropy lab context\n|   Node identity:   #QPU\n" + b"=" * 40 + b"\n"
    (store / project / job / "QPU.log").write_bytes(header + log)


def write_store(store: Path, project: str = "proj", values: np.ndarray | None = None, log: bytes = b"hello\n",
                workflow_revisions: int = 1) -> dict[str, Path]:
    """A data_store with one project and one job; returns the two repositories."""
    repos = {"workflow": store / "git" / project / "workflow.git", "params": store / "git" / project / "params.git"}
    workflow = write_loose_repo(repos["workflow"], [{"workflow.py": f"print({n})\n".encode()}
                                                    for n in range(workflow_revisions)])
    params = write_loose_repo(repos["params"], [{"parameters.json": b'{"QPU": {"n": 1}}\n'}])
    write_job(store, project, "j1", workflow[-1], params[-1], np.arange(3.0) if values is None else values, log)
    return repos


def make_shallow(repo: Path) -> None:
    """Replace ``repo`` by a bare ``--depth 1`` clone of itself (a real lab situation)."""
    full = repo.with_name("full.git")
    repo.rename(full)
    subprocess.run(["git", "clone", "-q", "--bare", "--depth", "1", f"file://{full}", str(repo)], env=GIT_ENV,
                   check=True, capture_output=True)
    shutil.rmtree(full)
    assert (repo / "shallow").is_file()


def damage_blob(repo: Path, path: str) -> None:
    """Overwrite the loose blob of ``path`` at main with another, well-formed object (a silent bit rot)."""
    blob = git(repo, "rev-parse", f"main:{path}")
    loose = repo / "objects" / blob[:2] / blob[2:]
    os.chmod(loose, 0o644)
    loose.write_bytes(zlib.compress(b'blob 18\x00{"QPU": {"n": 666}}'))


def rewrite_zip(source: Path, target: Path, replace: dict[str, bytes], data_json=None) -> None:
    """Copy an archive member by member, replacing some members and editing data.json."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            body = replace.get(info.filename)
            if body is None:
                body = old.read(info.filename)
                if info.filename == "data.json" and data_json is not None:
                    tree = json.loads(body)
                    data_json(tree)
                    body = json.dumps(tree).encode()
            fresh = copy.copy(info)
            fresh.compress_type = zipfile.ZIP_STORED if info.is_dir() else zipfile.ZIP_DEFLATED
            new.writestr(fresh, body)


def carried(archive: Path, rel: str) -> tuple[str, dict]:
    """(member name, file-list item) of the data_store file ``rel`` in an exported zip."""
    with zipfile.ZipFile(archive) as zf:
        data = json.loads(zf.read("data.json"))
    for pk, attrs in data["node_attributes"].items():
        for item in attrs.get("entropy_files", []) if isinstance(attrs, dict) else []:
            if item.get("path") == rel and attrs.get("entropy_role") == "raw-files":
                uuid = data["export_data"]["Node"][pk]["uuid"]
                return f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/path/{item['member']}", item
    raise AssertionError(f"{rel} not carried")


# ---------------------------------------------------------------- 1. ratio budget vs real data
@pytest.fixture(scope="module")
def zeros_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A normal lab job: a contiguous (3, 1024, 1024) float64 image of zeros (25 MB) and a 20 MB repetitive log."""
    store = tmp_path_factory.mktemp("zeros") / "data_store"
    write_store(store, values=np.zeros((3, 1024, 1024)), log=b"poll: waiting for the fridge\n" * 700_000)
    return store


@pytest.mark.parametrize("fmt", ["zip", "tar.zst", "tar.gz"])
def test_highly_compressible_files_round_trip(zeros_store: Path, tmp_path: Path, unchanged, fmt: str):
    unchanged(zeros_store)
    archive = tmp_path / f"zeros.{fmt}"
    export_archive(zeros_store, archive)
    summary = restore_data_store(archive, tmp_path / "restored")
    assert summary.bytes > 40 * 1024**2
    assert_same_store(zeros_store, tmp_path / "restored")
    assert tree_digest(tmp_path / "restored")["proj/j1.hdf5"][0] == tree_digest(zeros_store)["proj/j1.hdf5"][0]


def test_highly_compressible_files_round_trip_cli(zeros_store: Path, tmp_path: Path):
    assert run_cli("export", zeros_store, "-o", tmp_path / "z.aiida").code == 0
    run = run_cli("restore", tmp_path / "z.aiida", "-o", tmp_path / "z.r")
    assert run.code == 0, run.stderr
    assert (tmp_path / "z.r" / "proj" / "j1.hdf5").read_bytes() == (zeros_store / "proj" / "j1.hdf5").read_bytes()


@pytest.mark.parametrize("version", ["0.10", "main_0001"])
def test_highly_compressible_files_export_and_restore_at_other_versions(zeros_store: Path, tmp_path: Path, version):
    """Other versions go through the converters on export's own staging archive, and on restore."""
    run = run_cli("export", zeros_store, "-o", tmp_path / "z.zip", "--export-version", version)
    assert run.code == 0, run.stderr
    run = run_cli("restore", tmp_path / "z.zip", "-o", tmp_path / "z.r")
    assert run.code == 0, run.stderr
    assert (tmp_path / "z.r" / "proj" / "j1.hdf5").read_bytes() == (zeros_store / "proj" / "j1.hdf5").read_bytes()


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("small")
    write_store(parent / "data_store")
    export_archive(parent / "data_store", parent / "small.zip")
    return parent / "small.zip"


def test_member_inflating_past_its_recorded_size_is_cut_off(small_archive: Path, tmp_path: Path):
    """A bomb: 256 MiB of zeros (about 250 KB deflated) where the archive records the small HDF5 file."""
    member, item = carried(small_archive, "proj/j1.hdf5")
    bomb = tmp_path / "bomb.zip"
    rewrite_zip(small_archive, bomb, {member: bytes(256 * 1024**2)})
    started = time.monotonic()
    run = run_cli("restore", bomb, "-o", tmp_path / "out")
    line = assert_one_error_line(run, 65, f"larger than the {item['size']} bytes recorded", "bomb.zip")
    assert member in line
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out").exists()
    assert_no_staging_left(tmp_path)


def test_declared_size_beyond_free_space_is_refused_before_writing(small_archive: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    """An archive declaring a petabyte (bomb or not) is refused up front, nothing written."""
    def declare_huge(tree: dict) -> None:
        for attrs in tree["node_attributes"].values():
            for item in attrs.get("entropy_files", []) if isinstance(attrs, dict) else []:
                if item.get("path") == "proj/j1.hdf5":
                    item["size"] = 2**50

    huge = tmp_path / "huge.zip"
    rewrite_zip(small_archive, huge, {}, data_json=declare_huge)
    written: list[str] = []
    original = restore_module.write_member
    monkeypatch.setattr(restore_module, "write_member", lambda *a, **k: written.append(a[4]) or original(*a, **k))
    with pytest.raises(WriteError, match="not enough free space"):
        restore_data_store(huge, tmp_path / "out")
    assert written == []
    assert not (tmp_path / "out").exists()
    assert_no_staging_left(tmp_path)


def test_honest_archive_larger_than_the_free_space_is_refused(zeros_store: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch):
    """What the ratio check used to stop is now measured against the space restore may fill."""
    export_archive(zeros_store, tmp_path / "z.zip")
    monkeypatch.setattr(restore_module, "read_free_bytes", lambda folder: 10 * 1024**2)
    with pytest.raises(WriteError, match="not enough free space"):
        restore_data_store(tmp_path / "z.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert_no_staging_left(tmp_path)


def test_bad_recorded_size_is_bad_input(small_archive: Path, tmp_path: Path):
    def declare_text(tree: dict) -> None:
        for attrs in tree["node_attributes"].values():
            for item in attrs.get("entropy_files", []) if isinstance(attrs, dict) else []:
                item["size"] = "12"

    bad = tmp_path / "bad.zip"
    rewrite_zip(small_archive, bad, {}, data_json=declare_text)
    assert_one_error_line(run_cli("restore", bad, "-o", tmp_path / "out"), 65, "bad size", "bad.zip")


# ---------------------------------------------------------------- 2. repositories git cannot fetch back
@pytest.mark.parametrize("damage", ["shallow", "corrupt-blob"])
def test_repository_git_cannot_fetch_back_travels_as_files(tmp_path: Path, damage: str):
    store = tmp_path / "data_store"
    repos = write_store(store, workflow_revisions=2)
    if damage == "shallow":
        make_shallow(repos["workflow"])
        damaged = "git/proj/workflow.git"
    else:
        damage_blob(repos["params"], "parameters.json")
        damaged = "git/proj/params.git"
    assert run_cli("export", store, "-o", tmp_path / "a.aiida").code == 0
    run = run_cli("restore", tmp_path / "a.aiida", "-o", tmp_path / "r")
    assert run.code == 0, run.stderr
    before, after = tree_digest(store), tree_digest(tmp_path / "r")
    inside = sorted(p for p in before if p.startswith(damaged + "/"))
    assert inside and {p: before[p][0] for p in inside} == {p: after[p][0] for p in inside}  # byte for byte
    healthy = "git/proj/params.git" if damage == "shallow" else "git/proj/workflow.git"
    assert git(tmp_path / "r" / healthy, "for-each-ref") == git(store / healthy, "for-each-ref")


def test_unusable_bundle_gives_one_line_naming_archive_and_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An archive from before the export checked its bundles: one line, no temp path, no git stderr."""
    store = tmp_path / "data_store"
    make_shallow(write_store(store, workflow_revisions=2)["workflow"])
    monkeypatch.setattr(write_module, "check_bundle_restores", lambda *args: True, raising=False)
    export_archive(store, tmp_path / "old.aiida")
    run = run_cli("restore", tmp_path / "old.aiida", "-o", tmp_path / "r")
    line = assert_one_error_line(run, 65, "git cannot restore 'git/proj/workflow.git'", "old.aiida")
    assert "workflow.git.bundle'" in line and ".bundles-" not in line and "staging" not in line
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
    assert_no_staging_left(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bundles-")]


def test_restore_error_from_git_is_bad_input_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = tmp_path / "data_store"
    damage_blob(write_store(store)["params"], "parameters.json")
    monkeypatch.setattr(write_module, "check_bundle_restores", lambda *args: True, raising=False)
    export_archive(store, tmp_path / "old.zip")
    with pytest.raises(BadInputError) as caught:
        restore_data_store(tmp_path / "old.zip", tmp_path / "r")
    assert caught.value.file == str(tmp_path / "old.zip")
    assert caught.value.member.endswith("params.git.bundle") and "\n" not in caught.value.reason


# ---------------------------------------------------------------- 3. project names that are not UTF-8
def test_non_utf8_project_name_round_trips(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    odd = os.fsdecode(b"p\xff")
    (store / "proj").rename(store / odd)
    (store / "git" / "proj").rename(store / "git" / odd)
    run = run_cli("export", store, "-o", tmp_path / "a.aiida")
    assert run.code == 0, run.stderr
    run = run_cli("restore", tmp_path / "a.aiida", "-o", tmp_path / "r")
    assert run.code == 0, run.stderr
    assert_same_store(store, tmp_path / "r")
    assert os.path.isfile(os.path.join(os.fsencode(tmp_path / "r"), b"p\xff", b"j1.hdf5"))
    digest = hashlib.sha256((store / odd / "j1.hdf5").read_bytes()).hexdigest()
    assert hashlib.sha256((tmp_path / "r" / odd / "j1.hdf5").read_bytes()).hexdigest() == digest
