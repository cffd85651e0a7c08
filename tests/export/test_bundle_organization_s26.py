"""Source-Organization in bag-info.txt is the sending organisation (RFC 8493 2.2.2): the user's
word (``--organization``), never a guess; one line whatever the text holds."""

from __future__ import annotations

from pathlib import Path

import bagit

from tests.export.test_audit_fixes import write_store
from tests.invariants import run_cli


def _bag_info(bag: Path) -> list[str]:
    return (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines()


def test_organization_is_written_on_one_line_and_the_bag_stays_valid(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    bag = tmp_path / "bag"
    run = run_cli("bundle", store, "-o", bag, "--organization", "Ion Trap Lab\nBagging-Date: 1999-01-01")
    assert run.code == 0, run.stderr
    lines = _bag_info(bag)
    assert "Source-Organization: Ion Trap Lab Bagging-Date: 1999-01-01" in lines
    assert not any(line.startswith("Bagging-Date: 1999") for line in lines)  # no forged tag line
    bagit.Bag(str(bag)).validate()


def test_without_organization_there_is_no_source_organization(tmp_path: Path):
    store = tmp_path / "data_store"
    write_store(store)
    bag = tmp_path / "bag"
    run = run_cli("bundle", "create", store, "-o", bag)
    assert run.code == 0, run.stderr
    assert not [line for line in _bag_info(bag) if line.startswith("Source-Organization")]
    assert any(line.startswith("Bag-Software-Agent: reportgen") for line in _bag_info(bag))
