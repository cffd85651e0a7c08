"""Atom feeds of a site's runs (reportgen/site/feeds.py): ``<project>/feed.xml`` and ``feed.xml``.

Real builds of the example data_store (it has failed jobs) and of a store written with h5py holding
hostile job ids and descriptions; every feed parsed back with the standard library's XML parser,
every link checked against the page it names; incremental rebuilds against a full one.
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import h5py
import numpy as np
import pytest

from reportgen import __version__
from reportgen.site.build import BuildOptions, build_site
from reportgen.site.contexts import CatalogRow, build_row_values
from reportgen.site.feeds import (
    EPOCH,
    MAX_ENTRIES,
    MAX_SUMMARY,
    ProjectJobs,
    build_changes,
    build_error_title,
    build_project_feed,
    build_site_feed,
    clean_text,
    render_feed,
)
from reportgen.site.manifest import JobEntry, load_manifest
from reportgen.site.paths import build_slugs
from tests.invariants import run_cli
from tests.site.helpers import writable_copy
from tests.site.one_job_store import STR, write_node, write_output, write_root_attrs

ATOM = "{http://www.w3.org/2005/Atom}"
STATUS_TEXT = {"ok": "ok", "failed-nodes": "failed nodes", "incomplete": "incomplete", "no-data": "no data",
               "corrupt": "corrupt", "unknown": "unknown"}
BASE = "https://lab.example/runs/"


def _build(store: Path, site: Path, base_url: str = "") -> None:
    build_site(store, site, BuildOptions(workers=1, show_progress=False, base_url=base_url))


def _feeds(site: Path) -> dict[str, bytes]:
    return {path.relative_to(site).as_posix(): path.read_bytes() for path in sorted(site.rglob("feed.xml"))}


def _parse(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == f"{ATOM}feed"
    return root


def _text(element: ET.Element, name: str) -> str:
    found = element.find(f"{ATOM}{name}")
    assert found is not None, f"no <{name}> in <{element.tag}>"
    return found.text or ""


def _links(element: ET.Element, rel: str) -> list[str]:
    return [link.get("href", "") for link in element.findall(f"{ATOM}link") if link.get("rel") == rel]


def _entries(data: bytes) -> list[dict[str, object]]:
    """Each entry of a feed as a dict, in feed order, after checking the elements Atom requires."""
    found = []
    for entry in _parse(data).findall(f"{ATOM}entry"):
        alternate = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
        assert len(alternate) == 1 and alternate[0].get("type") == "text/html"
        summary = entry.find(f"{ATOM}summary")
        assert summary is not None and summary.get("type") == "text"
        found.append({"id": _text(entry, "id"), "title": _text(entry, "title"), "updated": _text(entry, "updated"),
                      "href": alternate[0].get("href"), "summary": summary.text or "",
                      "terms": [c.get("term") for c in entry.findall(f"{ATOM}category")]})
    return found


def _rows(site: Path) -> dict[str, dict[str, CatalogRow]]:
    """project slug -> job display id -> its catalog row, from the site's manifest."""
    manifest, _ = load_manifest(site)
    assert manifest is not None
    return {manifest.projects[name]["slug"]: {CatalogRow(*e.row).id: CatalogRow(*e.row) for e in jobs.values()}
            for name, jobs in manifest.jobs.items()}


@pytest.fixture(scope="module")
def site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("feeds") / "site"
    _build(example_store, site)
    return site


# ----------------------------------------------------------------- what a feed holds
def test_every_feed_is_atom_with_the_newest_runs_first(site: Path) -> None:
    rows = _rows(site)
    feeds = _feeds(site)
    assert set(feeds) == {"feed.xml", *(f"{slug}/feed.xml" for slug in rows)}
    for name, data in feeds.items():
        root = _parse(data)
        for required in ("id", "title", "updated", "author", "generator"):
            assert root.find(f"{ATOM}{required}") is not None, (name, required)
        assert _text(root, "generator") == f"reportgen {__version__}" and root.find(f"{ATOM}generator").get("version")
        assert _links(root, "alternate") == ["index.html"] and _links(root, "self") == []  # no --base-url
        entries = _entries(data)
        times = [e["updated"] for e in entries]
        assert times == sorted(times, reverse=True) and 0 < len(entries) <= MAX_ENTRIES
        assert len({e["id"] for e in entries}) == len(entries)
        assert _text(root, "updated") == times[0]
        assert all(t.endswith("Z") and len(t) == 20 for t in times)  # RFC 3339, UTC, to the second
    for slug, jobs in rows.items():
        entries = _entries(feeds[f"{slug}/feed.xml"])
        assert _text(_parse(feeds[f"{slug}/feed.xml"]), "title") == f"{slug}: runs"
        assert len(entries) == min(len(jobs), MAX_ENTRIES)
        for entry in entries:
            job_id, status = str(entry["title"]).split(": ", 1)
            row = jobs[job_id]
            error = f" ({build_error_title(row.first_error)})" if row.first_error else ""  # s23 F7
            assert status == STATUS_TEXT[row.status] + error and entry["terms"][0] == row.status
            assert entry["updated"] == row.end.replace(" ", "T") + "Z"
            assert f"Log lines: {row.log_errors} errors" in str(entry["summary"])


def test_the_example_store_has_failed_runs_in_its_feeds(site: Path) -> None:
    """The failed jobs are there with their status and failed node; each change of outcome marked."""
    failed = [e for data in _feeds(site).values() for e in _entries(data) if "failed-nodes" in e["terms"]]
    assert failed
    for entry in failed:
        assert str(entry["title"]).endswith(": failed nodes (correction_1: LinAlgError)")  # s23 F7
        assert "1 failed (a traceback in its log), 5 ok" in str(entry["summary"])
    default = _entries(_feeds(site)["default_project/feed.xml"])
    marks = [(str(e["title"]).split(":")[0], e["terms"][1:]) for e in default if len(e["terms"]) > 1]
    assert marks and all(terms in (["newly-failing"], ["recovered"]) for _, terms in marks)
    changes = build_changes({job: build_row_values(row) for job, row in _rows(site)["default_project"].items()})
    assert {job: [changes[job][0]] for job, _ in marks} == dict(marks)


def test_links_resolve_to_the_job_pages(site: Path) -> None:
    for name, data in _feeds(site).items():
        folder = (site / name).parent
        for entry in _entries(data):
            page = folder / str(entry["href"])  # relative: against the feed's own folder
            assert page.is_file(), (name, entry["href"])
            assert str(entry["title"]).split(" ")[0].split(":")[0] in page.read_text(encoding="utf-8")
        assert (folder / _links(_parse(data), "alternate")[0]).is_file()
    root = _entries(_feeds(site)["feed.xml"])
    assert all(str(e["href"]).count("/") == 1 for e in root)  # "project/job.html"
    assert all(" (" in str(e["title"]) for e in root)  # the site-wide feed names each run's project


def test_pages_link_their_feed(site: Path) -> None:
    for page in (site / "index.html", site / "default_project" / "index.html"):
        text = page.read_text(encoding="utf-8")
        assert '<link rel="alternate" type="application/atom+xml"' in text and 'href="feed.xml"' in text
        assert (page.parent / "feed.xml").is_file()


def test_base_url_makes_links_absolute_and_keeps_every_id(site: Path, example_store: Path, tmp_path: Path) -> None:
    """Through the CLI: ids as without --base-url, links base + their path in the site, a self link."""
    run = run_cli("build", example_store, "-o", tmp_path / "site", "--base-url", BASE.rstrip("/"))
    assert run.code == 0, run.stderr
    plain, based = _feeds(site), _feeds(tmp_path / "site")
    assert set(plain) == set(based)
    for name in plain:
        relative, absolute = _entries(plain[name]), _entries(based[name])
        assert [e["id"] for e in relative] == [e["id"] for e in absolute]
        assert _text(_parse(plain[name]), "id") == _text(_parse(based[name]), "id")
        assert _links(_parse(based[name]), "self") == [BASE + name]
        assert _links(_parse(based[name]), "alternate") == [urljoin(BASE + name, "index.html")]
        for rel, abs_ in zip(relative, absolute):
            assert abs_["href"] == urljoin(BASE + name, str(rel["href"]))  # as a reader resolves the relative one
            assert (tmp_path / "site" / urlsplit(str(abs_["href"])).path.removeprefix("/runs/")).is_file()


def test_two_builds_give_byte_identical_feeds(site: Path, example_store: Path, tmp_path: Path) -> None:
    _build(example_store, tmp_path / "again")
    assert _feeds(tmp_path / "again") == _feeds(site)


# ----------------------------------------------------------------- incremental
def _set_end(path: Path, stamp: str) -> None:
    with h5py.File(path, "a") as f:
        f.attrs.create("creation_timestamp", stamp, dtype=STR)


def test_incremental_builds_follow_new_and_removed_runs(example_store: Path, tmp_path: Path) -> None:
    store = writable_copy(example_store, tmp_path / "store")
    site = tmp_path / "site"
    _build(store, site)
    before = _feeds(site)
    kept_feed = site / "qpu_bench" / "feed.xml"
    kept_stat = kept_feed.stat()
    project = store / "default_project"
    gone = str(_entries(before["default_project/feed.xml"])[-1]["title"]).split(":")[0]  # the oldest run
    shutil.copy2(project / f"{gone}.hdf5", project / "j99.hdf5")
    (project / f"{gone}.hdf5").unlink()
    shutil.rmtree(project / gone, ignore_errors=True)
    _set_end(project / "j99.hdf5", "2030-01-02T03:04:05.000000+00:00")  # the newest run of all
    _build(store, site)
    after = _feeds(site)
    newest = _entries(after["default_project/feed.xml"])[0]
    assert newest["title"] == "j99: ok" and newest["updated"] == "2030-01-02T03:04:05Z"
    assert _entries(after["feed.xml"])[0]["title"] == "j99 (default_project): ok"
    assert gone not in {str(e["title"]).split(":")[0] for e in _entries(after["default_project/feed.xml"])}
    assert gone not in {str(e["title"]).split(" ")[0] for e in _entries(after["feed.xml"])
                        if "(default_project)" in str(e["title"])}
    assert after["qpu_bench/feed.xml"] == before["qpu_bench/feed.xml"]
    assert kept_feed.stat().st_ino == kept_stat.st_ino  # a kept project's feed is not even written again
    _build(store, tmp_path / "full")
    assert _feeds(tmp_path / "full") == after  # the feeds a full build writes
    kept_feed.unlink()  # a feed lost or edited in the site is written again (the manifest recorded it)
    (site / "feed.xml").write_text("junk")
    _build(store, site)
    assert _feeds(site) == after


# ----------------------------------------------------------------- hostile text
HOSTILE_ID = "x<script>\"'\u202e&amp;\x01\x1b]"
HOSTILE_DESCRIPTION = "d\x0b<b>&amp;</b>\ufffe\uffff\x00 ]]> \u202e" + "long " * 400


def _hostile_store(root: Path) -> Path:
    project = root / "hostile"
    for minute, job in enumerate((HOSTILE_ID, "plain", os.fsdecode(b"raw\xff")), start=1):
        (project / job).mkdir(parents=True)
        (project / job / "n.log").write_text("ok\n")
        with h5py.File(project / f"{job}.hdf5", "w") as f:
            eui = os.fsencode(job).decode("utf-8", "replace")  # an attribute holds valid UTF-8 only
            write_root_attrs(f, eui, f"2022-06-25T14:{minute:02d}:05.123456+02:00")
            f.attrs.create("project", "hostile", dtype=STR)
            f.attrs.create("job_description", HOSTILE_DESCRIPTION.replace("\x00", ""), dtype=STR)
            write_output(write_node(f, "n"), "v", np.array([1.0]))
    return root


def test_hostile_ids_and_descriptions_give_a_well_formed_feed(tmp_path: Path) -> None:
    store = _hostile_store(tmp_path / "store")
    site = tmp_path / "site"
    _build(store, site)
    for name, data in _feeds(site).items():
        entries = _entries(data)  # parses: every text escaped, every forbidden character replaced
        assert len(entries) == 3, name
        titles = {str(e["title"]) for e in entries}
        assert any(t.startswith("x<script>\"'\u202e&amp;\ufffd\ufffd]") for t in titles), titles
        assert any(t.startswith("raw\\xff") for t in titles), titles  # an undecodable byte as shown everywhere
        for entry in entries:
            assert len(str(entry["summary"])) <= MAX_SUMMARY and str(entry["summary"]).endswith("\u2026")
            assert "d\ufffd<b>&amp;</b>\ufffd\ufffd ]]> \u202e" in str(entry["summary"])
            assert ((site / name).parent / str(entry["href"])).is_file()
    assert b"<script>" not in (site / "feed.xml").read_bytes()  # escaped, not just parsable


def test_every_edge_case_gives_well_formed_feeds(edge_store: Path, tmp_path: Path) -> None:
    """The generator's edge cases (unreadable files, no end time, odd project names) in real feeds:
    a run without an end time is listed at its approximate start, and says so."""
    site = tmp_path / "site"
    _build(edge_store, site)
    rows = _rows(site)
    without_end = {(slug, job) for slug, jobs in rows.items() for job, row in jobs.items() if not row.end}
    assert without_end
    for slug, jobs in rows.items():
        entries = _entries(_feeds(site)[f"{slug}/feed.xml"])
        assert len(entries) == min(len(jobs), MAX_ENTRIES)  # every job of the edge store has some time
        for entry in entries:
            job_id = str(entry["title"]).rsplit(": " + STATUS_TEXT[str(entry["terms"][0])], 1)[0]
            row = jobs[job_id]
            assert entry["updated"] == (row.end or row.start).replace(" ", "T") + "Z"
            assert ("approximate start" in str(entry["summary"])) == ((slug, job_id) in without_end)
            assert ((site / slug) / str(entry["href"])).is_file()
    assert len(_entries(_feeds(site)["feed.xml"])) == min(sum(map(len, rows.values())), MAX_ENTRIES)


def test_clean_text_replaces_what_xml_forbids() -> None:
    text = "a\tb\nc\rd\x00e\x08f\x1fg\ud800h\udcffi\ufffej\uffffk\U0001f600l\x7f"
    assert clean_text(text) == "a\tb\nc\rd\ufffde\ufffdf\ufffdg\ufffdh\ufffdi\ufffdj\ufffdk\U0001f600l\x7f"


# ----------------------------------------------------------------- built from rows alone
def _entry(job_id: str, end: str, status: str = "ok", start: str = "") -> JobEntry:
    row = CatalogRow(job_id, f"{job_id}.html", "", end, start, status, 1, 1, "", "", 0)
    return JobEntry("fp", job_id, build_row_values(row), (), (), "", False, "", 0)


def test_changes_are_marked_as_the_catalog_marks_them() -> None:
    """catalog.js's rules: by end time then natural id; no-data and unknown passed over; no end
    time, no part."""
    jobs = {"j9": ("2022-01-01 00:00:00", "ok"), "j10": ("2022-01-01 00:00:00", "corrupt"),
            "j11": ("2022-01-02 00:00:00", "no-data"), "j12": ("2022-01-03 00:00:00", "incomplete"),
            "j13": ("", "ok"), "j14": ("2022-01-04 00:00:00", "unknown"), "j15": ("2022-01-05 00:00:00", "ok"),
            "j16": ("2022-01-06 00:00:00", "ok")}
    rows = {job: _entry(job, end, status).row for job, (end, status) in jobs.items()}
    assert build_changes(rows) == {"j10": ("newly-failing", "j9"), "j15": ("recovered", "j12")}


def test_a_feed_holds_at_most_the_newest_fifty_and_an_empty_one_is_fixed() -> None:
    jobs = {f"j{i}": _entry(f"j{i}", f"2022-01-01 00:{i // 60:02d}:{i % 60:02d}") for i in range(120)}
    jobs["nostart"] = _entry("nostart", "")
    jobs["started"] = _entry("started", "", "corrupt", start="2023-01-01 00:00:00")
    feed = build_project_feed(ProjectJobs("p", "p", "p", jobs))
    assert len(feed.entries) == MAX_ENTRIES
    assert feed.entries[0].title == "started: corrupt" and "approximate start" in feed.entries[0].summary
    assert [e.title for e in feed.entries[1:3]] == ["j119: ok", "j118: ok"]
    assert "nostart" not in {e.title.split(":")[0] for e in feed.entries}  # no time at all: left out
    empty = build_site_feed([ProjectJobs("p", "p", "p", {})])
    assert empty.entries == () and empty.updated == EPOCH
    assert _text(_parse(render_feed(empty)), "updated") == EPOCH


def test_feed_is_a_reserved_name() -> None:
    """Job or project "feed.xml" would get a folder of the feed's name: it gets a hashed slug."""
    slugs = build_slugs(["feed.xml", "feed", "feeds"])
    assert slugs["feed.xml"] != "feed.xml" and slugs["feed"] != "feed" and slugs["feeds"] == "feeds"
