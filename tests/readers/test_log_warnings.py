"""Warning lines of a node log: marked by the reader as error lines are (bounded, an error line
is never also a warning), shown on the job page and counted in the catalog (site-ux §5 Must 6)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from reportgen.readers.logs import ERROR_HINT, ERROR_LINE, MAX_MARKED_LINES, WARNING_HINT, WARNING_LINE, read_log
from reportgen.records import ReadLimits
from reportgen.site.contexts import build_catalog_row, build_log_view
from tests.readers.builders import write_log
from tests.site.catalog_data import catalog_rows
from tests.site.one_job_store import build, new_store, read_job_of

WARNINGS = [
    "2024-01-01 12:00:00 WARNING root: drift above 2 %",  # logging
    "[WARN] fridge slow",  # WARN as a word
    "/opt/node.py:12: DeprecationWarning: np.float is deprecated",  # the warnings module
    "/opt/node.py:40: UserWarning: no calibration",
    "kernel.c:3:5: warning: unused variable 'x' [-Wunused-variable]",  # a compiler
]
NOT_WARNINGS = [
    "WARNINGS=0 WARNED forewarned",  # not the words
    "no warning here",  # lower case without a colon
    "Warnings: none",
    "step 3 done",
]
ERRORS_WITH_A_WARNING_WORD = [
    "ERROR: WARNING limit reached",
    "ValueError: warning: bad",
    "Traceback (most recent call last):",
]


def test_warning_lines_are_marked_and_error_lines_are_not_warnings(tmp_path: Path) -> None:
    lines = NOT_WARNINGS + WARNINGS + ERRORS_WITH_A_WARNING_WORD
    log = read_log(write_log(tmp_path / "n.log", "\n".join(lines) + "\n"), "n.log", "n")
    first = len(NOT_WARNINGS) + 1
    assert log.warning_lines == tuple(range(first, first + len(WARNINGS)))
    assert set(log.error_lines) == set(range(first + len(WARNINGS), len(lines) + 1))


def test_a_log_without_warnings_has_none(tmp_path: Path) -> None:
    log = read_log(write_log(tmp_path / "n.log", "\n".join(NOT_WARNINGS) + "\n"), "n.log", "n")
    assert log.warning_lines == ()


def test_warning_lines_are_bounded_as_error_lines_are(tmp_path: Path) -> None:
    log = read_log(write_log(tmp_path / "n.log", "WARN x\n" * (MAX_MARKED_LINES + 50)), "n.log", "n")
    assert log.warning_lines == tuple(range(51, MAX_MARKED_LINES + 51))  # the last: the lines a page shows
    assert log.warning_lines_left_out == 50


def test_the_page_marks_warning_lines_and_counts_them(tmp_path: Path) -> None:
    log = read_log(write_log(tmp_path / "n.log", "ok\nWARN a\nERROR b\nWARNING c\n"), "n.log", "n")
    view = build_log_view(log, "")
    assert [line.kind for line in view.lines] == ["", "warning", "error", "warning"]
    assert (view.warning_count, view.error_count) == (2, 1)


def test_the_tail_of_a_long_log_marks_warning_lines(tmp_path: Path) -> None:
    """The end of a log cut short of its preview shows warnings too (the reader read them in
    no preview: they are found in the tail the reader keeps)."""
    raw = "x\n" * 5000 + "fine\nUserWarning: late\nERROR: WARN and error\n"
    log = read_log(write_log(tmp_path / "n.log", raw), "n.log", "n", ReadLimits(log_preview_bytes=1000))
    kinds = {line.text: line.kind for line in build_log_view(log, "").tail}
    assert (kinds["fine"], kinds["UserWarning: late"], kinds["ERROR: WARN and error"]) == ("", "warning", "error")


def test_the_job_page_and_catalog_count_warning_lines(tmp_path: Path) -> None:
    store, f, _ = new_store(tmp_path)
    f.close()
    (store / "p" / "j1" / "n.log").write_text("start\nWARNING: slow\nERROR: bad\n/x.py:3: RuntimeWarning: nan\n")
    site = tmp_path / "site"
    build(store, site)
    page = (site / "p" / "j1.html").read_text(encoding="utf-8")
    summary = html.unescape(re.sub(r"<[^>]+>", "", re.search(r"<summary>Log .*?</summary>", page).group(0)))
    assert "1 error line, 2 warning lines" in summary, summary
    assert len(re.findall(r'class="ln ln-warning"', page)) == 2
    assert '<script src="../assets/logs.js"></script>' in page and (site / "assets" / "logs.js").is_file()
    (row,) = catalog_rows(site, "p")
    assert (row["log_errors"], row["log_warnings"]) == (1, 2)
    assert build_catalog_row(read_job_of(store), "j1.html").log_warnings == 2


PIECES = ["ERROR", "Error:", "error:", "Exception", "CRITICAL", "FATAL", "Traceback (most recent call last):",
          "WARN", "WARNING", "Warning:", "warning:", "User", "x", " ", ":", "_", "ING", "rror", "arning"]


@given(st.lists(st.sampled_from(PIECES), max_size=8).map("".join))
def test_the_one_pass_hints_never_miss_a_line_the_patterns_mark(line: str) -> None:
    """The reader skips the per-line search when the cheap hint finds nothing: the hint must
    find something wherever the exact pattern does."""
    assert ERROR_LINE.search(line) is None or ERROR_HINT.search(line) is not None
    assert WARNING_LINE.search(line) is None or WARNING_HINT.search(line) is not None
