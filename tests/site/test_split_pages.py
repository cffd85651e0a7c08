"""A job too big for one page (scale audit finding 3): more than ``SPLIT_NODES`` nodes or
``SPLIT_OUTPUTS`` outputs gets a node table on its page and a page per node (a node of more
than ``OUTPUTS_PER_PAGE`` outputs, several); every other job page is rendered as before."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

from reportgen.site import jobpage
from reportgen.site.build import BuildOptions, build_site
from tests.readers.builders import HEADER, Node, Out, metadata, times, write_job, write_log
from tests.site.helpers import site_digest, writable_copy
from tests.site.test_browser import Page, browser  # noqa: F401 (fixture)

QUIET = BuildOptions(workers=1, show_progress=False)
SPLIT_NODES, SPLIT_OUTPUTS, PER_PAGE = jobpage.SPLIT_NODES, jobpage.SPLIT_OUTPUTS, jobpage.OUTPUTS_PER_PAGE
HREF = re.compile(r'(?:href|src)="([^"#?]*)[^"]*"')


def _nodes(count: int, outputs: int, prefix: str = "n") -> list[Node]:
    return [Node(f"{prefix}{i:02d}", [Out(f"o{j:03d}", np.arange(3.0) + j, times(3), units="V") for j in range(outputs)],
                 description=f"node {i}") for i in range(count)]


def _write(store: Path, job_id: str, nodes: list[Node]) -> None:
    write_job(store / "proj" / f"{job_id}.hdf5", metadata("proj", job_id), nodes)
    for node in nodes:
        text = HEADER.format(node=node.name) + "done\n"
        if node.name == "n01":
            text += "ERROR calibration drifted\nTraceback (most recent call last):\n  boom\n"
        write_log(store / "proj" / job_id / f"{node.name}.log", text)


def write_split_store(store: Path) -> Path:
    """``over``: one node more than SPLIT_NODES; ``under``: exactly SPLIT_NODES; ``many``: one node
    with two full output pages and one output more; ``edge``: exactly SPLIT_OUTPUTS outputs."""
    per_page = PER_PAGE  # the values of the code, before any test patches them
    _write(store, "over", _nodes(SPLIT_NODES + 1, 1))
    _write(store, "under", _nodes(SPLIT_NODES, 1))
    _write(store, "many", [Node("main", _nodes(1, 2 * per_page + 1)[0].outputs)])
    _write(store, "edge", [Node("main", _nodes(1, SPLIT_OUTPUTS)[0].outputs)])
    return store


@pytest.fixture(scope="module")
def split_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_split_store(tmp_path_factory.mktemp("split") / "store")


@pytest.fixture(scope="module")
def split_site(split_store: Path) -> Path:
    site = split_store.parent / "site"
    build_site(split_store, site, QUIET)
    return site


def node_pages(site: Path, job: str) -> list[str]:
    return sorted(p.name for p in (site / "proj").glob(f"{job}~node-*"))


def local_links(page: Path) -> list[str]:
    """Every relative href and src of a page (data: URIs and in-page anchors left out)."""
    return [unquote(h) for h in HREF.findall(page.read_text()) if h and ":" not in h]


# ---------------------------------------------------------------- which jobs are split
def test_a_job_over_a_threshold_is_split_and_one_at_it_is_not(split_site: Path) -> None:
    assert len(node_pages(split_site, "over")) == SPLIT_NODES + 1
    assert node_pages(split_site, "many") == ["many~node-main.html", "many~node-main~2.html", "many~node-main~3.html"]
    assert node_pages(split_site, "under") == [] and node_pages(split_site, "edge") == []
    over = (split_site / "proj" / "over.html").read_text()
    assert 'id="nodes"' in over and '<section class="node"' not in over
    under = (split_site / "proj" / "under.html").read_text()
    assert 'id="nodes"' not in under and under.count('<section class="node"') == SPLIT_NODES


def test_a_job_at_the_thresholds_renders_exactly_as_unsplit(split_store: Path, split_site: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages of ``under`` and ``edge`` are those of a build that never splits (the gold test
    pins that rendering against the stored example site)."""
    monkeypatch.setattr(jobpage, "SPLIT_NODES", 10**9)
    monkeypatch.setattr(jobpage, "SPLIT_OUTPUTS", 10**9)
    build_site(split_store, tmp_path / "site", QUIET)
    for job in ("under", "edge"):
        assert (tmp_path / "site" / "proj" / f"{job}.html").read_bytes() == (split_site / "proj" / f"{job}.html").read_bytes()
    unsplit = (tmp_path / "site" / "proj" / "over.html").read_text()
    assert unsplit.count('<section class="node"') == SPLIT_NODES + 1
    # each node page holds the very section the unsplit page had
    section = re.search(r'<section class="node" id="node-n01">.*?</section>', unsplit, re.DOTALL).group(0)
    assert section in (split_site / "proj" / "over~node-n01.html").read_text()


# ---------------------------------------------------------------- the pages
def test_the_node_table_links_every_node_page_and_shows_its_log_state(split_site: Path) -> None:
    page = split_site / "proj" / "over.html"
    text = page.read_text()
    rows = re.findall(r'<tr class="row-link" id="(node-n\d+)"><td><a href="([^"]+)"', text)
    assert len(rows) == SPLIT_NODES + 1
    for anchor, href in rows:
        assert href == f"over~{anchor}.html" and (page.parent / href).is_file()
    n01 = re.search(r'id="node-n01">.*?</tr>', text).group(0)
    assert "2 error lines" in n01 and "traceback" in n01 and "node 1" in n01
    assert "no errors" in re.search(r'id="node-n00">.*?</tr>', text).group(0)
    for link in local_links(page):
        assert (page.parent / link).exists(), link


def test_a_node_page_holds_its_outputs_and_log_and_its_links_resolve(split_site: Path) -> None:
    page = split_site / "proj" / "over~node-n01.html"
    text = page.read_text()
    assert '<section class="node" id="node-n01">' in text and "<code>n01</code>" in text
    assert 'id="out-n01-o000-' in text and 'id="node-n01-L7"' in text and "ERROR calibration drifted" in text
    assert "n02" not in text
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', text).group(0)
    assert re.findall(r'href="([^"]+)"', crumbs) == ["../index.html", "index.html", "over.html"]
    links = local_links(page)
    assert {"../assets/plotly.min.js", "../assets/render.js", "../assets/keys.js", "../assets/theme.js"} <= set(links)
    for link in links:
        assert (page.parent / link).exists(), link
    assert "<script>" not in text  # the CSP allows no inline script


def test_outputs_are_paginated_with_counts_and_previous_next(split_site: Path) -> None:
    per_page = PER_PAGE
    total = 2 * per_page + 1
    pages = [split_site / "proj" / name for name in node_pages(split_site, "many")]
    texts = [p.read_text() for p in pages]
    assert f"Outputs 1-{per_page} of {total}" in texts[0]
    assert f"Outputs {per_page + 1}-{2 * per_page} of {total}" in texts[1]
    assert f"Outputs {total}-{total} of {total}" in texts[2]
    rels = [{rel: href for rel, href in re.findall(r'<a rel="(prev|next)" href="([^"]+)"', t)} for t in texts]
    assert rels == [{"next": "many~node-main~2.html"},
                    {"prev": "many~node-main.html", "next": "many~node-main~3.html"},
                    {"prev": "many~node-main~2.html"}]
    for number, text in enumerate(texts):
        shown = re.findall(r'<section class="output" id="out-main-o(\d{3})', text)
        first = number * per_page
        assert [int(s) for s in shown] == list(range(first, min(first + per_page, total)))
    assert 'id="node-main-L1"' in texts[0] and 'id="node-main-L1"' not in texts[1]
    assert 'the log of this node is on <a href="many~node-main.html">' in texts[1].lower()


def test_every_page_is_under_budget_and_an_over_budget_node_page_is_reported(
        split_store: Path, split_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = json.loads((split_site / "build-report.json").read_text())
    assert not [p for p in report["problems"] if p["code"] == "page-over-budget"]
    biggest = max(p.stat().st_size for p in (split_site / "proj").glob("*.html"))
    assert biggest < jobpage.PAGE_BUDGET
    monkeypatch.setattr(jobpage, "PAGE_BUDGET", 100_000)
    build_site(split_store, tmp_path / "site", QUIET)
    report = json.loads((tmp_path / "site" / "build-report.json").read_text())
    reasons = [p["reason"] for p in report["problems"] if p["code"] == "page-over-budget"]
    assert any(r.startswith("node page many~node-main.html is ") for r in reasons), reasons


# ---------------------------------------------------------------- incremental and deterministic
def test_a_job_that_shrinks_loses_its_node_pages_and_a_deleted_node_page_is_rebuilt(
        split_store: Path, tmp_path: Path) -> None:
    store = writable_copy(split_store, tmp_path / "store")
    site = tmp_path / "site"
    build_site(store, site, QUIET)
    assert len(node_pages(site, "over")) == SPLIT_NODES + 1
    shutil.rmtree(store / "proj" / "over")
    _write(store, "over", _nodes(3, 1))
    report = build_site(store, site, QUIET)
    assert report.built == 1 and node_pages(site, "over") == []
    manifest = json.loads((site / "build-manifest.json").read_text())
    files = manifest["jobs"]["proj"]["over"]["files"]["files"]
    assert not [f for f in files if "~node-" in f] and "proj/over.html" in files
    many = manifest["jobs"]["proj"]["many"]["files"]["files"]
    assert {"proj/many~node-main.html", "proj/many~node-main~2.html", "proj/many~node-main~3.html"} <= set(many)

    victim = site / "proj" / "many~node-main~2.html"
    kept = victim.read_bytes()
    victim.unlink()
    report = build_site(store, site, QUIET)
    assert (report.built, report.repaired) == (1, 1)
    assert victim.read_bytes() == kept
    assert site_digest(site) == site_digest(_full_build(store, tmp_path / "full"))

    (store / "proj" / "many.hdf5").unlink()
    shutil.rmtree(store / "proj" / "many")
    assert build_site(store, site, QUIET).removed == 1
    assert node_pages(site, "many") == [] and not (site / "proj" / "many.html").exists()


def _full_build(store: Path, site: Path) -> Path:
    build_site(store, site, QUIET)
    return site


def test_two_builds_of_a_split_job_are_byte_identical(split_store: Path, split_site: Path, tmp_path: Path) -> None:
    again = _full_build(split_store, tmp_path / "again")
    assert site_digest(again) == site_digest(split_site)
    assert node_pages(again, "over")


# ---------------------------------------------------------------- in Chromium
@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_node_pages_draw_figures_and_old_log_links_follow_the_split(browser, split_site: Path) -> None:  # noqa: F811
    tab = Page(browser)
    tab.open(split_site / "proj" / "many~node-main~2.html")
    boxes = tab.page.locator("div.figure")
    assert boxes.count() == PER_PAGE
    for i in (0, PER_PAGE - 1):
        boxes.nth(i).scroll_into_view_if_needed()
        boxes.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=5000)
    tab.page.keyboard.press("?")
    assert tab.page.locator("#keys-help").is_visible()
    tab.page.keyboard.press("Escape")
    dark = tab.page.evaluate("document.documentElement.dataset.theme || ''")
    tab.page.click("#theme-toggle")
    assert tab.page.evaluate("document.documentElement.dataset.theme || ''") != dark

    tab.open(split_site / "proj" / "over.html", "#node-n01-L7")  # a link made before the job was split
    tab.page.wait_for_url(re.compile(r"over~node-n01\.html#node-n01-L7$"))
    line = tab.page.locator("#node-n01-L7")
    line.wait_for(state="visible")
    assert "ERROR calibration drifted" in line.inner_text()
    tab.open(split_site / "proj" / "over.html")
    tab.page.keyboard.press("j")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url(re.compile(r"over~node-n00\.html$"))
    tab.page.locator("div.figure .main-svg").first.wait_for(state="attached", timeout=5000)
    assert tab.errors == []
    tab.page.close()
