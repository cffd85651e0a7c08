"""SOURCE_DATE_EPOCH dates the bag; a value that is not a number of seconds is a usage error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.test_audit_fixes import write_store
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli


@pytest.mark.parametrize("value", ["\u00b2", "99999999999999", "-1", "1e9"])
def test_bad_source_date_epoch_is_a_usage_error(tmp_path: Path, value: str):
    store = tmp_path / "data_store"
    write_store(store)
    run = run_cli("bundle", store, "-o", tmp_path / "bag", env={"SOURCE_DATE_EPOCH": value})
    assert_one_error_line(run, 64, "not a number of seconds", "SOURCE_DATE_EPOCH")
    assert not (tmp_path / "bag").exists()
    assert_no_staging_left(tmp_path)


def test_good_source_date_epoch_dates_the_bag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from reportgen.bundle import build_bag_info

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1656161234")
    assert ("Bagging-Date", "2022-06-25") in build_bag_info(tmp_path, {})
