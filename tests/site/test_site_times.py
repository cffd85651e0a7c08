"""Times as the build writes them: still UTC and deterministic, but each one a ``<time datetime>``
and each "(UTC)" a ``data-tz`` label, so assets/times.js can show them in the reader's zone; the
pages are the gold pages but for that markup."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from reportgen.site.build import STATIC_FILES, BuildOptions, build_site
from tests.site.test_gold import GOLD, scrub

SHOWN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")  # contexts.format_time
TIME = re.compile(r'<time datetime="([^"]*)">([^<]*)</time>')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("times")
    write_example(root / "data_store", seed=0, jobs_per_project=1)  # the gold tree's store
    build_site(root / "data_store", root / "site", BuildOptions(workers=1, show_progress=False))
    return root / "site"


def strip_time_markup(html: str) -> str:
    """The page as it was before times could be shown local: no <time>, data-tz, button or script."""
    html = TIME.sub(r"\2", html)
    html = re.sub(r"<span data-tz>([^<]*)</span>", r"\1", html)
    html = re.sub(r'\n<button type="button" id="times-toggle"[^>]*>UTC</button>', "", html)
    return re.sub(r'\n<script src="(\.\./)*assets/times\.js"></script>', "", html)


def test_every_time_a_page_shows_is_a_time_element_with_its_utc_value(site: Path) -> None:
    marked = 0
    for page in site.rglob("*.html"):
        html = re.sub(r"<script\b.*?</script>", "", page.read_text(encoding="utf-8"), flags=re.S)
        for iso, text in TIME.findall(html):
            assert SHOWN.fullmatch(text) and iso == text.replace(" ", "T") + "Z", (page, iso, text)
            assert datetime.fromisoformat(iso[:-1])  # a moment that exists
            marked += 1
        left = SHOWN.findall(TIME.sub("", html))
        assert not left, f"{page}: times without markup: {left[:3]}"
    assert marked >= 10


def test_zone_labels_are_marked_for_the_script(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'Latest run <span data-tz>(UTC)</span>' in home and 'Latest failure <span data-tz>(UTC)</span>' in home
    job = next(p for p in site.glob("*/j*.html") if "~" not in p.name).read_text(encoding="utf-8")
    assert 'end time <span data-tz>(UTC)</span></th><td><time datetime="' in job
    assert re.search(r'start time <span data-tz>\(UTC\)</span></th><td><time datetime="[^"]+">[^<]+</time> \(approx\., from ', job)
    assert 'date <span data-tz>(UTC)</span></th><td><time datetime="' in job  # the commits
    assert re.search(r'<td>\d+ stamps, <time datetime="[^"]+">[^<]+</time> to <time datetime="[^"]+">', job)  # outputs


def test_every_page_loads_the_script_and_has_the_button(site: Path) -> None:
    assert "times.js" in STATIC_FILES and (site / "assets" / "times.js").is_file()
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert re.search(r'<script src="(\.\./)*assets/theme\.js"></script>\n<script src="(\.\./)*assets/times\.js"></script>', html), page
        assert '<button type="button" id="times-toggle" class="times-toggle js-only"' in html, page  # shown by theme.js (session 25)


def test_the_pages_are_the_gold_pages_but_for_the_time_markup(site: Path) -> None:
    """The HTML stays UTC and deterministic: taking the new markup out gives the gold bytes."""
    compared = 0
    for gold in GOLD.rglob("*.html"):
        relative = gold.relative_to(GOLD).as_posix()
        now = scrub(relative, (site / relative).read_text(encoding="utf-8"))
        assert now != strip_time_markup(now), relative  # every page has the button at least
        assert strip_time_markup(now) == strip_time_markup(gold.read_text(encoding="utf-8")), relative
        compared += 1
    assert compared >= 10


def test_an_outputs_time_range_is_cut_at_its_two_times() -> None:
    from reportgen.site.contexts import build_times_parts

    class Times:  # the two fields build_times_parts reads of records.Output.times
        first = datetime(2022, 6, 25, 12, 0, 0)
        last = datetime(2022, 6, 25, 12, 41, 5)

    class Output:
        times = Times()

    text = "21 stamps, 2022-06-25 12:00:00 to 2022-06-25 12:41:05, not in time order"
    parts = build_times_parts(text, Output())  # type: ignore[arg-type]
    assert "".join(t for t, _ in parts) == text
    assert [t for t, iso in parts if iso] == ["2022-06-25 12:00:00", "2022-06-25 12:41:05"]
    Times.last = Times.first  # one stamp: "X to X"
    parts = build_times_parts("1 stamps, 2022-06-25 12:00:00 to 2022-06-25 12:00:00", Output())  # type: ignore[arg-type]
    assert [t for t, iso in parts if iso] == ["2022-06-25 12:00:00"] * 2
    Output.times = None  # type: ignore[assignment]
    assert build_times_parts("no _time dataset", Output()) == ()  # type: ignore[arg-type]
