"""compare.js marks a log line's kind with the patterns of reportgen/readers/logs.py, spelt again in
JavaScript: both are run on the same lines (hand-picked word-boundary cases in several scripts, and
every line of the example data_store's logs) and must agree on each."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.readers.logs import ERROR_LINE, TRACEBACK, is_warning_line, split_log_lines
from tests.site.test_browser import browser  # noqa: F401 (fixture)

COMPARE_JS = Path(__file__).resolve().parents[2] / "site_templates" / "static" / "compare.js"

SAMPLES = [
    "", "all good", "Traceback (most recent call last):", "  Traceback (most recent call last): again",
    "numpy.linalg.LinAlgError: Singular matrix", "ValueError: bad", "Error: x", "error: x", "xerror: y",
    "ERROR", "ERRORS", "_ERROR", "ERROR_", "2ERROR", "éERROR", "ERRORé", "ÉERROR ", "дERROR", "ERROR д", "(ERROR)",
    "CRITICAL: disk", "FATAL", "FATALITY", "an Exception", "Exceptions", "Exceptionα", "Exception.", "KeyException",
    "WARN", "WARNING: x", "WARNINGS", "xWARN", "éWARN", "WARNé", "WARN_", "UserWarning: y", "userWarning: y",
    "DeprecationWarning: z", "éWarning: z", "_Warning: z", "warning: w", "éwarning: w", "xwarning: w",
    "ERROR and WARNING", "warning: then Error: both", "٣ERROR", "ERROR٣", "Ⅻ ERROR", "ⅫERROR", "中ERROR", "ERROR中",
    "[2022-06-20 18:40:50] INFO done", "Traceback (most recent call last)", "traceback (most recent call last):",
]


def python_kind(line: str) -> str:
    """The job page's kind of a line (reportgen/site/contexts.py build_log_lines over the reader's marks)."""
    if TRACEBACK.decode() in line:
        return "traceback"
    if ERROR_LINE.search(line):
        return "error"
    return "warning" if is_warning_line(line) else ""


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_compare_js_marks_log_lines_as_the_python_reader_does(browser, example_store: Path) -> None:  # noqa: F811
    lines = list(SAMPLES)
    for log in sorted(example_store.glob("*/*/*.log")):
        lines.extend(split_log_lines(log.read_text("utf-8", "replace")))
    lines = sorted(set(lines))
    assert {python_kind(line) for line in lines} == {"", "error", "warning", "traceback"}  # every kind is tried
    page = browser.new_page()
    page.set_content("<!DOCTYPE html><title>t</title>")
    page.add_script_tag(content=COMPARE_JS.read_text("utf-8"))
    kinds = page.evaluate("lines => lines.map(window.reportgenCompare.lineKind)", lines)
    page.close()
    differ = [(line, python_kind(line), js) for line, js in zip(lines, kinds) if python_kind(line) != js]
    assert differ == []
