"""Restore reads the archive's file list as untrusted: files planted inside a repository, a
malformed list, a top level that is no object, a repository given more than git needs, and an
archive another tool wrote, which may hold only part of the data_store.

Each archive is a real ``reportgen export`` of the example data_store, its
``data.json`` edited in code and members added, as a hostile sender would.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli


@pytest.fixture(scope="module")
def exported(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("restore-untrusted") / "store.aiida"
    assert run_cli("export", example_store, "-o", out).code == 0
    return out


class Craft:
    """An exported archive's data.json and extra members, edited in code."""

    def __init__(self, source: Path) -> None:
        self.source = source
        with zipfile.ZipFile(source) as zf:
            self.data = json.loads(zf.read("data.json"))
            self.metadata = json.loads(zf.read("metadata.json"))
        attributes = self.data["node_attributes"]
        self.raw_pk = next(pk for pk, a in attributes.items() if a.get("entropy_role") == "raw-files")
        self.raw = attributes[self.raw_pk]
        self.history = next(a for a in attributes.values() if a.get("entropy_role") == "git-history")
        uuid = self.data["export_data"]["Node"][self.raw_pk]["uuid"]
        self.base = f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/path/"
        self.extra: dict[str, bytes] = {}

    def add_file(self, path: str, data: bytes, member: str | None = None) -> None:
        """One more data_store file carried by the job's raw-files node, size and digest right."""
        member = member or "x/" + hashlib.sha256(path.encode()).hexdigest()[:16]
        self.raw["entropy_files"].append({"executable": False, "member": member, "mtime_ns": 0, "path": path,
                                          "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})  # fmt: skip
        self.extra[self.base + member] = data

    def write(self, target: Path, data: object = None, metadata: object = None) -> Path:
        with zipfile.ZipFile(self.source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                if info.filename == "data.json":
                    zout.writestr(info, json.dumps(self.data if data is None else data))
                elif info.filename == "metadata.json":
                    zout.writestr(info, json.dumps(self.metadata if metadata is None else metadata))
                else:
                    zout.writestr(info, zin.read(info))
            for name, content in self.extra.items():
                zout.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), content)
        return target


def test_files_planted_inside_a_repository_are_refused_and_no_git_config_runs(exported: Path, tmp_path: Path):
    """A ``config`` naming a command and an ``alternates`` file, carried as plain files inside a
    repository the archive restores: git's fetch used to read them and run the command."""
    craft = Craft(exported)
    repo = craft.history["entropy_repositories"][0]["path"]
    marker = tmp_path / "COMMAND_RAN"
    craft.add_file(f"{repo}/config", f'[core]\n\tbare = true\n\talternateRefsCommand = "touch {marker}; echo"\n'.encode())
    craft.add_file(f"{repo}/objects/info/alternates", b"../../../../decoy/objects\n")
    for name, content in (("decoy/HEAD", b"ref: refs/heads/main\n"), ("decoy/objects/keep", b"x"), ("decoy/refs/keep", b"x")):
        craft.add_file(name, content)
    evil = craft.write(tmp_path / "evil.aiida")
    run = run_cli("restore", evil, "-o", tmp_path / "out")
    line = assert_one_error_line(run, 65, "evil.aiida", "data.json")
    assert f"'{repo}/config' is inside the git repository '{repo}'" in line
    assert not marker.exists() and not (tmp_path / "out").exists()
    assert_no_staging_left(tmp_path)


def test_a_restored_repository_has_only_what_git_needs(exported: Path, tmp_path: Path, example_store: Path):
    """No sample hooks, ``info/exclude`` or ``branches/`` that the original lacked."""
    assert run_cli("restore", exported, "-o", tmp_path / "out").code == 0
    repos = sorted((tmp_path / "out").rglob("*.git"))
    assert repos
    for repo in repos:
        original = example_store / repo.relative_to(tmp_path / "out")
        assert not list(repo.glob("hooks/*.sample")) or list(original.glob("hooks/*.sample"))
        assert (repo / "info" / "exclude").exists() == (original / "info" / "exclude").exists()
        fsck = subprocess.run(["git", f"--git-dir={repo}", "fsck", "--no-progress"], capture_output=True, check=False)
        assert fsck.returncode == 0, fsck.stderr


def _first_file(craft: Craft) -> dict:
    return craft.raw["entropy_files"][0]


MALFORMED: dict[str, tuple[Callable[[Craft], None], str]] = {
    "path_hex not hex": (lambda c: _first_file(c).update(path_hex="zz"), "entropy_files[0].path_hex: not hex digits"),
    "no sha256": (lambda c: _first_file(c).pop("sha256"), "entropy_files[0].sha256: not a SHA-256"),
    "files an object": (lambda c: c.raw.update(entropy_files={"a": 1}), "entropy_files: not a list"),
    "file entry a string": (lambda c: c.raw.update(entropy_files=["x"]), "entropy_files[0]: not a JSON object"),
    "member missing": (lambda c: _first_file(c).pop("member"), "entropy_files[0].member: not a non-empty string"),
    "mtime a string": (lambda c: _first_file(c).update(mtime_ns="0"), "entropy_files[0].mtime_ns: not an integer"),
    "ref pair short": (lambda c: c.history["entropy_repositories"][0].update(refs=[["refs/heads/main"]]), "refs: not a list of [ref, commit] pairs"),
    "head elsewhere": (lambda c: c.history["entropy_repositories"][0].update(head="ref: refs/../../x"), "head: not a symbolic ref or a commit id"),
    "nodes a list": (lambda c: c.data["export_data"].update(Node=[]), "$.export_data.Node: not a JSON object"),
    "path listed twice": (lambda c: (c.add_file("dup.txt", b"one"), c.add_file("dup.txt", b"two", member="x/second")), "'dup.txt' is listed twice"),
    "file inside a file": (lambda c: (c.add_file("x1", b"one"), c.add_file("x1/y", b"two")), "'x1/y' is inside 'x1', which the archive lists as a file"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_file_list_is_one_error_line_naming_data_json(exported: Path, tmp_path: Path, case: str):
    """These were exit 70 (KeyError, ValueError ...) or exit 74 naming the staging folder."""
    edit, words = MALFORMED[case]
    craft = Craft(exported)
    edit(craft)
    bad = craft.write(tmp_path / "bad.aiida")
    line = assert_one_error_line(run_cli("restore", bad, "-o", tmp_path / "out"), 65, "bad.aiida", "data.json")
    assert words in line
    assert not (tmp_path / "out").exists()
    assert_no_staging_left(tmp_path)


@pytest.mark.parametrize("which", ["data.json", "metadata.json"])
def test_a_top_level_that_is_no_object_is_one_error_line(exported: Path, tmp_path: Path, which: str):
    craft = Craft(exported)
    bad = craft.write(tmp_path / "bad.aiida", **({"data": [1]} if which == "data.json" else {"metadata": [1]}))
    assert_one_error_line(run_cli("restore", bad, "-o", tmp_path / "out"), 65, "bad.aiida", which)


def test_an_archive_without_reportgens_parameters_says_it_may_be_partial(exported: Path, tmp_path: Path):
    """AiiDA re-exported a subset; restore said nothing and looked complete."""
    craft = Craft(exported)
    craft.metadata.pop("export_parameters", None)
    other = craft.write(tmp_path / "other.aiida")
    run = run_cli("restore", other, "-o", tmp_path / "out")
    assert run.code == 0, run.stderr
    assert "another tool wrote it, and it may hold only part of the data_store" in run.stdout
    plain = run_cli("restore", exported, "-o", tmp_path / "plain")
    assert plain.code == 0 and "another tool" not in plain.stdout and "selective" not in plain.stdout
