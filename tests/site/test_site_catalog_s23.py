"""Session 23's lab-lead review, build side: the catalog's "First error" column (F2), a failed
run's feed entry naming its failing node and error (F7), and node names in the search data (F8).

One build of the example data_store (6 jobs a project: default_project's j5 failed with a
traceback in correction_1), read back as the browser and a feed reader get it.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reportgen.site import search as srch
from reportgen.site.build import BuildOptions, build_site
from reportgen.site.feeds import build_error_title

ATOM = "{http://www.w3.org/2005/Atom}"
SEARCH_PREFIX = "window.reportgenSearch && window.reportgenSearch.add("


@pytest.fixture(scope="module")
def site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("catalog-s23") / "site"
    build_site(example_store, site, BuildOptions(show_progress=False))
    return site


def _catalog(site: Path, project: str) -> dict[str, dict]:
    text = (site / project / "catalog-data.js").read_text("utf-8")
    data = json.loads(text[text.index("=") + 1:].rstrip().rstrip(";"))
    return {row[0]: dict(zip(data["columns"], row)) for row in data["rows"]}


def _failure_box(page: Path) -> list[str]:
    """``node: line`` of each item of the job page's "What failed" box, as the page shows them."""
    items = re.findall(r'<a class="failure-node"[^>]*><code>(.*?)</code></a>: (?:<a class="failure-line"[^>]*>)?<code>(.*?)</code>',
                       page.read_text("utf-8"))
    return [f"{html.unescape(node)}: {html.unescape(text)}" for node, text in items]


def test_the_catalog_row_names_the_first_failure_the_job_page_names(site: Path) -> None:
    rows = _catalog(site, "default_project")
    failed = rows["j5"]
    assert failed["status"] != "ok"
    assert failed["first_error"] == _failure_box(site / "default_project" / "j5.html")[0]
    assert failed["first_error"].startswith("correction_1: ") and "LinAlgError" in failed["first_error"]
    assert all(row["first_error"] == "" for row in rows.values() if row["status"] == "ok")


def test_a_failed_feed_entry_names_its_node_and_error(site: Path) -> None:
    root = ET.fromstring((site / "default_project" / "feed.xml").read_bytes())
    entries = {e.find(f"{ATOM}title").text: e.find(f"{ATOM}summary").text for e in root.iter(f"{ATOM}entry")}
    [(title, summary)] = [(t, s) for t, s in entries.items() if t.startswith("j5:")]
    first = _catalog(site, "default_project")["j5"]["first_error"]
    assert title.endswith("(correction_1: LinAlgError)")
    assert f"Failed: {first}" in summary.splitlines()
    assert all("Failed:" not in s for t, s in entries.items() if not t.startswith("j5:") and "failed" not in t)


@pytest.mark.parametrize(("first", "title"), [
    ("correction_1: numpy.linalg.LinAlgError: Singular matrix", "correction_1: LinAlgError"),
    ("scan: KeyboardInterrupt", "scan: KeyboardInterrupt"),
    ("node: ERROR: disk full", "node: ERROR: disk full"),
    ("output x: aborted flush", "output x: aborted flush"),
    ("a log without a node", "a log without a node"),
])
def test_a_feed_title_names_the_exception_class_or_the_line(first: str, title: str) -> None:
    assert build_error_title(first) == title


def test_the_search_data_lists_each_jobs_node_names(site: Path) -> None:
    text = (site / "default_project" / srch.SEARCH_DATA_NAME).read_text("utf-8")
    jobs = {job["id"]: job for job in json.loads(text[len(SEARCH_PREFIX):-3])["jobs"]}
    assert "correction_1" in jobs["j5"]["nodes"]
    ok = next(job for job in jobs.values() if job["status"] == "ok")
    assert ok["lines"] == [] and "correction_1" in ok["nodes"]  # found by its node though no line is marked


def test_a_stored_record_without_node_names_is_still_read_and_a_forged_one_refused() -> None:
    old = {"attrs": [], "params": [], "lines": [], "left_out": [0, 0, 0]}
    assert srch.record_from_json(old, "j1") == srch.SearchRecord()
    assert srch.record_from_json({**old, "nodes": ["a", "b"]}, "j1").nodes == ("a", "b")
    for nodes in (["x" * (srch.MAX_NODE + 1)], [1], ["n"] * (srch.MAX_NODES + 1), "ab"):
        with pytest.raises(ValueError):
            srch.record_from_json({**old, "nodes": nodes}, "j1")
