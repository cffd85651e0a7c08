"""Shared fixtures: the example data_store, written once per session, read-only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.invariants import tree_digest


def _make_read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        os.chmod(path, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _make_writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        os.chmod(path, path.stat().st_mode | stat.S_IWUSR)


def _write_store(tmp_path_factory: pytest.TempPathFactory, name: str, **options: object) -> Path:
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp(name) / "data_store"
    write_example(root, **options)
    _make_read_only(root)
    return root


@pytest.fixture(scope="session")
def example_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default (faithful) example data_store, read-only."""
    return _write_store(tmp_path_factory, "example", seed=0, jobs_per_project=6)


@pytest.fixture(scope="session")
def edge_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example data_store with every edge case of the generator table, read-only."""
    return _write_store(tmp_path_factory, "edge", seed=0, jobs_per_project=4, edge_cases=True)


@pytest.fixture()
def unchanged(request: pytest.FixtureRequest):
    """Assert that the given data_store is byte-identical before and after a test."""
    watched: list[tuple[Path, dict]] = []

    def watch(root: Path) -> Path:
        watched.append((root, tree_digest(root)))
        return root

    yield watch
    for root, before in watched:
        assert tree_digest(root) == before, f"{root} was modified"
