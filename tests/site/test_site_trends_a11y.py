"""The trends page's accessibility and the one typed-array decoder, in real Chromium over file://:
every trend figure and the status-by-day chart offer their values as a table (render.js's, built
when opened), ``/`` focuses the output filter and ``?`` lists it, and theme.js's
``reportgenDecodeArray`` (the only decoder: render.js, compare.js and trends.js call it) reads
every dtype plotly.js has, from data files of a real built site rewritten to carry them."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)
from tests.site.test_trends import FAILED, GONE, HOSTILE, JOBS, _expected_points, _open, _values, trends_site  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
STATIC = Path(__file__).parents[2] / "site_templates" / "static"
PREFIX, SUFFIX = "window.reportgenCompare && window.reportgenCompare.add(", ");\n"
LOADED = [f"j{i}" for i in range(1, JOBS + 1) if f"j{i}" != GONE]  # oldest first, as the rows are


def _spec(values: np.ndarray, dtype: str, extra: bytes = b"") -> dict:
    """A plotly.js typed array as figures.build_typed_array writes it (plus ``extra`` bytes)."""
    data = np.ascontiguousarray(values, dtype="<" + dtype.removesuffix("c")).tobytes() + extra
    spec = {"dtype": dtype, "bdata": base64.b64encode(data).decode("ascii")}
    if values.ndim == 2:
        spec["shape"] = f"{values.shape[0]},{values.shape[1]}"
    return spec


def _button(tab: Page, scope: str):
    return tab.page.locator(f"{scope} button.figure-table-toggle")


def _open_table(tab: Page, scope: str):
    """Opens the table from the keyboard (focus its button, Enter); the table's rows as text,
    the row head's link last."""
    button = _button(tab, scope)
    button.focus()
    tab.page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true" and button.inner_text() == "Hide data table"
    return _rows(tab, scope)


def _rows(tab: Page, scope: str) -> list[list[str]]:
    return tab.page.locator(f"{scope} table.figure-data").evaluate("""t => [...t.rows].map(r =>
        [...r.cells].map(c => c.textContent).concat(r.cells[0].querySelector('a') ?
            [r.cells[0].querySelector('a').getAttribute('href')] : []))""")


def _errors(tab: Page) -> list[str]:  # the data file of GONE is missing: its load fails, as meant
    return [e for e in tab.errors if "Failed to load resource" not in e]


def _volt_scope(tab: Page, key: str = "/n/volt") -> str:
    index = tab.page.locator(".trends-output p.meta").all_inner_texts().index(key)
    return f".trends-output:nth-child({index + 1})"


# ---------------------------------------------------------------- tables
def test_a_trend_figures_table_lists_each_jobs_values_and_status_as_text(browser, trends_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    _open(tab, trends_site, "#jobs=200&band=1")
    figures = tab.page.locator("#trends-figures .trends-figure").count()
    assert _button(tab, "#trends-figures").count() == figures == 2 and _button(tab, "#trends-summary").count() == 1
    assert tab.page.locator("table.figure-data").count() == 0  # nothing built at load

    scope = _volt_scope(tab)
    rows = _open_table(tab, scope)
    expected = _expected_points(trends_site, "volt")
    assert rows[0] == ["job", "end (UTC)", "last value (V)", "min", "max", "status"]
    assert [row[0] for row in rows[1:]] == LOADED and [row[-1] for row in rows[1:]] == [f"{j}.html" for j in LOADED]
    for (job, end, last, low, high, status, _), i in zip(rows[1:], (int(j[1:]) for j in LOADED)):
        values = _values(i)
        assert (end, float(last)) == expected[job]  # the shortest round-trip text: the very float64
        assert (float(low), float(high)) == (values.min(), values.max())
        assert status == ("failed-nodes" if job == FAILED else "ok")
    assert tab.page.locator(f"{scope} table.figure-data caption").inner_text() == "n / volt"
    tab.page.locator(f"{scope} table.figure-data a").first.click()  # the job id is a link to its page
    tab.page.wait_for_url(f"**/p/{LOADED[0]}.html")
    tab.page.go_back()
    tab.page.wait_for_selector("body[data-trends=ready]", state="attached")

    hostile = _open_table(tab, _volt_scope(tab, f"/n/{HOSTILE}"))  # a name from the file stays text
    assert hostile[0][2] == "last value (u)" and tab.page.locator("#main img").count() == 0
    assert [float(row[2]) for row in hostile[1:]] == [2.0 + int(j[1:]) for j in LOADED]

    tab.page.select_option("#trends-y", "mean")  # the figures are listed again: so are their tables
    rows = _open_table(tab, _volt_scope(tab))
    assert rows[0][2] == "mean (V)" and float(rows[1][2]) == pytest.approx(_values(1).mean(), rel=1e-12)
    assert _errors(tab) == [] and tab.dialogs == []
    tab.page.close()


def test_the_status_by_day_table_follows_the_jobs_shown_the_theme_and_prints_only_when_opened(
        browser, trends_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    _open(tab, trends_site)
    rows = _open_table(tab, "#trends-summary")
    days = sorted({end[:10] for end, _ in _expected_points(trends_site, "volt").values()} -
                  {_expected_points(trends_site, "volt")[GONE][0][:10]})
    assert rows[0] == ["day (UTC)", "ok", "failed-nodes"]
    failed_day = _expected_points(trends_site, "volt")[FAILED][0][:10]
    assert rows[1:] == [[day, "0", "1"] if day == failed_day else [day, "1", "0"] for day in days]

    head = "t => getComputedStyle(t.querySelector('tbody th')).backgroundColor"
    before = tab.page.locator("#trends-summary table.figure-data").evaluate(head)
    tab.page.click("#theme-toggle")
    assert tab.page.locator("#trends-summary table.figure-data").evaluate(head) != before

    tab.page.select_option("#trends-status", "failed-nodes")  # other jobs: the open table is built again
    tab.page.wait_for_selector("body[data-trends=ready]", state="attached")
    assert _rows(tab, "#trends-summary") == [["day (UTC)", "failed-nodes"], [failed_day, "1"]]
    assert _button(tab, "#trends-summary").count() == 1

    tab.page.emulate_media(media="print")  # the opened table prints, the closed ones and the buttons do not
    assert tab.page.locator("#trends-summary table.figure-data").is_visible()
    assert not _button(tab, "#trends-summary").is_visible()
    assert tab.page.locator("#trends-figures .figure-table").evaluate_all("rs => rs.every(r => r.hidden)")
    assert _errors(tab) == [] and tab.dialogs == []
    tab.page.close()


# ---------------------------------------------------------------- keys
def test_slash_focuses_the_output_filter_and_the_help_lists_the_pages_keys(browser, trends_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    _open(tab, trends_site)
    tab.page.keyboard.press("/")
    assert tab.page.evaluate("document.activeElement.id") == "trends-filter"
    assert tab.page.input_value("#trends-filter") == ""  # the key focused, it typed nothing
    tab.page.keyboard.type("?/")  # in the box both are characters
    assert tab.page.input_value("#trends-filter") == "?/" and tab.page.locator("#keys-help").count() == 0

    tab.page.locator("h1").click()
    tab.page.keyboard.press("?")
    help_ = tab.page.locator("dialog#keys-help")
    assert help_.evaluate("d => d.open")
    # no rows here: no j/k; a trend figure's keys (test_browser_polish.py)
    assert help_.locator("dt kbd").all_inner_texts() == ["/", "\u2190", "\u2192", "Home", "End", "Enter", "?", "Esc"]
    assert help_.locator("dd").first.inner_text() == "focus the filter of the outputs"
    tab.page.keyboard.press("Escape")
    assert not help_.evaluate("d => d.open")
    assert _errors(tab) == [] and tab.dialogs == []
    tab.page.close()


# ---------------------------------------------------------------- the one decoder
DTYPE_CASES = {  # dtype -> values at its extremes
    "i1": [-128, 0, 127], "u1": [0, 1, 255], "u1c": [0, 128, 255], "i2": [-32768, 7, 32767],
    "u2": [0, 9, 65535], "i4": [-2**31, 3, 2**31 - 1], "u4": [0, 5, 2**32 - 1],
    "f4": [0.1, -3.5, 3.4028234663852886e38], "f8": [0.1, -5e-324, 1.7976931348623157e308],
}


def test_the_one_decoder_reads_every_dtype_a_shape_and_refuses_what_it_cannot_read(browser, trends_site: Path) -> None:  # noqa: F811
    for name in ("render.js", "compare.js", "trends.js"):  # no second decoder left in the callers
        assert "atob" not in (STATIC / name).read_text() and "reportgenDecodeArray" in (STATIC / name).read_text()
    tab = Page(browser)
    _open(tab, trends_site)
    decode = "spec => { const a = window.reportgenDecodeArray(spec); return a && [a.dtype, Array.from(a.values), a.rows, a.cols]; }"
    for dtype, values in DTYPE_CASES.items():
        array = np.array(values, dtype=dtype.removesuffix("c"))
        got = tab.page.evaluate(decode, _spec(array, dtype))
        assert got == [dtype, array.astype(np.float64).tolist(), 3, 0], dtype
        odd = tab.page.evaluate(decode, _spec(array, dtype, extra=b"\x01"))  # a partial last element is dropped
        assert odd[1] == (array.astype(np.float64).tolist() + ([1.0] if array.itemsize == 1 else [])), dtype
    grid = np.arange(6.0).reshape(2, 3)
    assert tab.page.evaluate(decode, _spec(grid, "f8"))[2:] == [2, 3]
    assert tab.page.evaluate("s => window.reportgenDecodeArray(s).at(1, 2)", _spec(grid, "f8")) == 5.0
    assert tab.page.evaluate("s => window.reportgenDecodeArray(s).at(1, 0)", [[1, 2], [3, 4]]) == 3
    for bad in (_spec(np.array([1, 2]), "i8"), {"dtype": "f8", "bdata": "not base64!"},
                {"dtype": "constructor", "bdata": ""}, None, {"dtype": "f8"}):
        assert tab.page.evaluate("s => window.reportgenDecodeArray(s)", bad) is None, bad
    assert _errors(tab) == []
    tab.page.close()


def _rewrite_volt(site: Path, job: str, y: dict, n: int) -> None:
    """The job's data file with its volt series replaced by ``y`` (n points at sets 0..n-1)."""
    path = site / "p" / f"{job}~compare.js"
    data = json.loads(path.read_text().removeprefix(PREFIX).removesuffix(SUFFIX))
    for series in data["series"]:
        if series["key"] == "/n/volt":
            series.update(y=y, x=_spec(np.arange(n), "u4"), points=n, read=n, sets=n)
    path.write_text(PREFIX + json.dumps(data) + SUFFIX)


def test_trends_and_compare_draw_every_dtype_from_a_real_sites_data_files(browser, trends_site: Path,  # noqa: F811
                                                                          tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(trends_site, site)
    kinds = dict(zip(LOADED, ["i1", "u1c", "i2", "u2", "i4", "f4"]))
    arrays = {job: np.array(DTYPE_CASES[dtype], dtype=dtype.removesuffix("c")) for job, dtype in kinds.items()}
    for job, dtype in kinds.items():
        _rewrite_volt(site, job, _spec(arrays[job], dtype, extra=b"\x00" if dtype == "f4" else b""), 3)
    tab = Page(browser)
    _open(tab, site, "#jobs=200&band=1")
    rows = _open_table(tab, _volt_scope(tab))
    for job, _end, last, low, high, _status, _href in rows[1:]:
        values = arrays[job].astype(np.float64)
        assert [float(last), float(low), float(high)] == [values[-1], values.min(), values.max()], job

    a, b = LOADED[0], LOADED[4]  # i1 against i4: the difference to A is of the decoded values
    tab.open(site / "p" / "compare.html", f"#jobs={a},{b}")
    tab.page.wait_for_selector(".compare-figure", state="attached", timeout=15_000)
    tab.page.click("#compare-diff-a")
    section = tab.page.locator(".compare-output").filter(has=tab.page.locator("p.meta", has_text="/n/volt")).first
    figure = section.locator(".compare-figure")
    figure.scroll_into_view_if_needed()
    figure.locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    traces = figure.evaluate("box => box.data.map(t => [Array.from(t.x), Array.from(t.y)])")
    assert traces == [[[0, 1, 2], (arrays[b].astype(np.float64) - arrays[a]).tolist()]]
    assert _errors(tab) == [] and tab.dialogs == []
    tab.page.close()
