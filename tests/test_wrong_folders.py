"""The new user's common mistakes with folders (review s23): each is one clear line, never a junk
site with exit 0 and never a replaced data_store.

- ``build SITE -o DATA_STORE --force`` (arguments swapped, then the hint followed) replaced the
  whole data_store by a site;
- a folder one level above or below the data_store built a site of junk "projects", exit 0;
- ``-o`` naming a mount point built everything, then failed the swap with exit 74.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.invariants import assert_one_error_line, run_cli, tree_digest


@pytest.fixture()
def store(example_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "lab" / "data_store"
    shutil.copytree(example_store, copy, symlinks=True)
    return copy


def test_swapped_arguments_never_replace_the_data_store_even_with_force(store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site).code == 0
    before = tree_digest(store)
    line = assert_one_error_line(run_cli("build", site, "-o", store, "--force"), 73, "looks like a data_store", str(store))
    assert "swapped" in line
    assert tree_digest(store) == before


def test_the_data_stores_parent_is_refused_naming_the_data_store(store: Path) -> None:
    for command in (("inspect",), ("build", "-o", store.parent.parent / "site")):
        run = run_cli(command[0], store.parent, *command[1:])
        line = assert_one_error_line(run, 66, "not a data_store", str(store.parent))
        assert f"its data_store would be {str(store)!r}" in line
    assert not (store.parent.parent / "site").exists()


def test_a_project_folder_is_refused_naming_its_data_store(store: Path) -> None:
    line = assert_one_error_line(run_cli("inspect", store / "default_project"), 66, "not a data_store")
    assert "project folder" in line and repr(str(store.resolve())) in line


def test_an_empty_folder_is_still_an_empty_data_store(tmp_path: Path) -> None:
    (tmp_path / "new_store").mkdir()
    assert run_cli("inspect", tmp_path / "new_store").code == 0


def _a_mount_point() -> Path | None:
    for candidate in ("/proc", "/sys", "/dev/shm", "/dev"):
        if os.path.isdir(candidate) and os.path.ismount(candidate):
            return Path(candidate)
    return None


def test_a_mount_point_as_output_is_refused_before_any_work(store: Path) -> None:
    mount = _a_mount_point()
    if mount is None:
        pytest.skip("no mount point to name")
    beside = sorted(os.listdir(mount.parent))
    assert_one_error_line(run_cli("build", store, "-o", mount), 73, "mount point", str(mount))
    assert sorted(os.listdir(mount.parent)) == beside
