"""build --precompress gz,zst and --base-url: siblings that decompress to their originals, kept
true by incremental builds (written, moved, removed and repaired with their owner), and a
sitemap.xml of absolute addresses of pages that exist."""

from __future__ import annotations

import gzip
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import zstandard

from reportgen.site import publish
from reportgen.site.build import BuildOptions, BuildReport, build_site
from reportgen.site.manifest import load_manifest
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli
from tests.readers.builders import simple_job
from tests.site.helpers import site_digest

BASE = "https://example.org/runs/"
BOTH = BuildOptions(workers=1, show_progress=False, precompress=("gz", "zst"), base_url=BASE)
PLAIN = BuildOptions(workers=1, show_progress=False)
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def siblings(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*") if p.suffix in (".gz", ".zst"))


def build(store: Path, site: Path, options: BuildOptions = BOTH) -> BuildReport:
    report = build_site(store, site, options)
    assert_no_staging_left(site.parent)
    return report


def assert_same_as_full(store: Path, site: Path, options: BuildOptions = BOTH) -> None:
    """The incremental result is the site a fresh full build makes of the same input."""
    full = site.parent / "full"
    shutil.rmtree(full, ignore_errors=True)
    build(store, full, options)
    assert site_digest(site) == site_digest(full)


@pytest.fixture(scope="module")
def example_site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("publish") / "site"
    build(example_store, site)
    return site


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    """Two projects of small jobs (no repositories: their problems are shown, which is fine)."""
    root = tmp_path / "data_store"
    for job_id in ("j1", "j2", "j3"):
        simple_job(root, "p", job_id)
    simple_job(root, "q", "k1")
    return root


# ----------------------------------------------------------------- the siblings
def test_every_sibling_decompresses_to_its_original(example_site: Path) -> None:
    found = siblings(example_site)
    assert len(found) > 100
    for sibling in found:
        original = sibling.with_suffix("").read_bytes()
        data = sibling.read_bytes()
        if sibling.suffix == ".gz":
            assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, mtime 0
            assert gzip.decompress(data) == original
        else:
            frame = zstandard.get_frame_parameters(data)
            assert frame.content_size == len(original) and frame.has_checksum
            assert zstandard.ZstdDecompressor().decompress(data) == original
        assert len(data) < len(original)


def test_text_files_of_a_kilobyte_get_both_siblings_and_nothing_else_does(example_site: Path) -> None:
    files = [p for p in example_site.rglob("*") if p.is_file() and p.suffix not in (".gz", ".zst")]
    suffixes = {p.suffix for p in files}
    assert {".html", ".js", ".css", ".csv", ".xml", ".npy"} <= suffixes
    for path in files:
        wanted = (path.suffix in publish.TEXT_SUFFIXES and path.stat().st_size >= publish.MIN_SIZE
                  and path.name not in ("build-manifest.json", "build-report.json"))
        for fmt in ("gz", "zst"):
            assert path.with_name(f"{path.name}.{fmt}").exists() == wanted, path
    assert any(p.suffix == ".npy" and p.stat().st_size >= 1024 for p in files)  # binary: none, whatever its size


def test_the_manifest_records_each_sibling_with_its_owner(example_site: Path) -> None:
    manifest, _ = load_manifest(example_site)
    assert manifest is not None
    entry = manifest.jobs["default_project"]["j1"]
    assert {"default_project/j1.html.gz", "default_project/j1.html.zst"} <= set(entry.files.files)
    assert {"index.html.gz", "sitemap.xml", "assets/plotly.min.js.zst"} <= set(manifest.files.files)
    assert "default_project/index.html.gz" in manifest.projects["default_project"]["files"]["files"]


def test_two_builds_are_byte_identical(example_store: Path, example_site: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build(example_store, again)
    assert site_digest(again) == site_digest(example_site)


def test_the_report_and_summary_do_not_change(example_store: Path, example_site: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    report = build(example_store, plain, PLAIN)
    assert site_digest(plain)["build-report.json"] == site_digest(example_site)["build-report.json"]
    assert report.summary().rsplit(" in ", 1)[0] == f"site {plain}: 18 jobs (18 built, 0 kept, 0 removed), 0 errors, 0 warnings"


# ----------------------------------------------------------------- incremental builds
def test_a_changed_job_gets_the_new_pages_siblings(store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(store, site)
    old = (site / "p" / "j1.html.gz").read_bytes()
    shutil.rmtree(store / "p" / "j1")  # its logs gone: another page
    report = build(store, site)
    assert report.built == 1
    page = (site / "p" / "j1.html").read_bytes()
    assert gzip.decompress((site / "p" / "j1.html.gz").read_bytes()) == page != gzip.decompress(old)
    assert zstandard.ZstdDecompressor().decompress((site / "p" / "j1.html.zst").read_bytes()) == page
    assert_same_as_full(store, site)


def test_a_removed_job_leaves_no_sibling(store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(store, site)
    assert (site / "p" / "j2.html.gz").exists()
    (store / "p" / "j2.hdf5").unlink()
    shutil.rmtree(store / "p" / "j2")
    assert build(store, site).removed == 1
    assert not [p for p in (site / "p").iterdir() if p.name.startswith("j2")]
    assert "p/j2.html" not in (site / "sitemap.xml").read_text()
    assert_same_as_full(store, site)


@pytest.mark.parametrize("damage", ["delete", "edit"])
def test_a_damaged_sibling_is_repaired(store: Path, tmp_path: Path, damage: str) -> None:
    site = tmp_path / "site"
    build(store, site)
    target = site / "p" / "j3.html.zst"
    if damage == "delete":
        target.unlink()
    else:
        target.write_bytes(zstandard.ZstdCompressor().compress(b"<p>defaced</p>"))
    report = build(store, site)
    assert (report.built, report.repaired) == (1, 1)
    assert_same_as_full(store, site)
    assert build(store, site).up_to_date


def test_a_damaged_home_sibling_is_repaired(store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(store, site)
    (site / "assets" / "plotly.min.js.gz").unlink()
    (site / "assets" / "site.css.zst").write_bytes(b"x")
    report = build(store, site)
    assert report.repaired == 1 and report.built == 0
    assert_same_as_full(store, site)


def test_turning_precompress_off_or_changing_it_leaves_no_other_sibling(store: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(store, site)
    build(store, site, PLAIN)
    assert siblings(site) == [] and not (site / "sitemap.xml").exists()
    assert_same_as_full(store, site, PLAIN)
    only_zst = BuildOptions(workers=1, show_progress=False, precompress=("zst",))
    build(store, site, BOTH)
    build(store, site, only_zst)
    assert siblings(site) and all(p.suffix == ".zst" for p in siblings(site))
    assert_same_as_full(store, site, only_zst)


def test_a_sibling_skipped_by_this_build_does_not_outlive_its_original(store: Path, tmp_path: Path) -> None:
    """A project's small search-data.js had a sibling; with fewer jobs it has none: the old one goes."""
    site = tmp_path / "site"
    for job_id in ("j4", "j5", "j6", "j7", "j8"):
        simple_job(store, "q", job_id)
    build(store, site)
    data = site / "q" / "search-data.js"
    assert (site / "q" / "search-data.js.gz").exists()
    for job_id in ("j4", "j5", "j6", "j7", "j8"):
        (store / "q" / f"{job_id}.hdf5").unlink()
        shutil.rmtree(store / "q" / job_id)
    build(store, site)
    assert data.stat().st_size < publish.MIN_SIZE  # the premise: one job's search data is small
    assert not (site / "q" / "search-data.js.gz").exists() and not (site / "q" / "search-data.js.zst").exists()
    assert_same_as_full(store, site)
    assert build(store, site).up_to_date


def test_stale_files_are_siblings_of_rewritten_files_and_old_numbered_sitemaps() -> None:
    rewritten = frozenset({"p/a.js", "sitemap.xml", "index.html", "index.html.gz"})
    previous = ["p/a.js.gz", "p/a.js.zst", "p/b.js.gz", "index.html.gz", "sitemap.3.xml", "sitemap.3.xml.gz",
                "sitemap.xml.gz", "p/sitemap.3.xml"]
    assert publish.stale_files(previous, rewritten) == [
        "p/a.js.gz", "p/a.js.zst", "sitemap.3.xml", "sitemap.3.xml.gz", "sitemap.xml.gz"]
    assert publish.without_stale(("p/a.js", "p/a.js.gz", "p/b.js.gz"), rewritten) == ("p/a.js", "p/b.js.gz")


# ----------------------------------------------------------------- sitemap.xml
def test_the_sitemap_lists_existing_pages_by_absolute_address(example_site: Path) -> None:
    root = ET.parse(example_site / "sitemap.xml").getroot()
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    locs = [url.findtext("s:loc", namespaces=NS) for url in root.findall("s:url", NS)]
    manifest, _ = load_manifest(example_site)
    jobs = sum(len(entries) for entries in manifest.jobs.values())
    assert len(locs) == len(set(locs)) == 2 + 2 * len(manifest.projects) + jobs  # a catalog and its runs.html each
    for loc in locs:
        assert loc.startswith(BASE) and (example_site / loc.removeprefix(BASE)).is_file(), loc
    assert locs[:4] == [BASE + "index.html", BASE + "search.html", BASE + "default_project/index.html",
                        BASE + "default_project/runs.html"]  # the project's jobs as plain links (session 25)
    lastmods = [url.findtext("s:lastmod", namespaces=NS) for url in root.findall("s:url", NS)]
    assert lastmods[4] == "2022-06-20T18:40:50Z"  # j1's end time, in UTC; the build time never shows
    assert all(m is None for m in lastmods[:4])


def test_a_sitemap_past_the_limits_becomes_an_index_of_numbered_sitemaps() -> None:
    urls = [publish.SitemapUrl(publish.build_loc(BASE, f"p/j{n}.html")) for n in range(5)]
    files = publish.build_sitemap_files(urls, BASE, max_urls=2)
    assert sorted(files) == ["sitemap.1.xml", "sitemap.2.xml", "sitemap.3.xml", "sitemap.xml"]
    index = ET.fromstring(files["sitemap.xml"])
    assert [e.findtext("s:loc", namespaces=NS) for e in index.findall("s:sitemap", NS)] == [
        f"{BASE}sitemap.{n}.xml" for n in (1, 2, 3)]
    counts = [len(ET.fromstring(files[f"sitemap.{n}.xml"]).findall("s:url", NS)) for n in (1, 2, 3)]
    assert counts == [2, 2, 1]
    limit = len(publish.build_sitemap_chunks([])[0]) + 2 * len(publish.render_url(urls[0]))  # two URLs a file
    by_bytes = publish.build_sitemap_chunks(urls, max_bytes=limit)
    assert len(by_bytes) == 3 and all(len(chunk) <= limit for chunk in by_bytes)


def test_addresses_are_escaped_and_encoded() -> None:
    base = publish.read_base_url("https://bücher.example/a&b/rüns")
    assert base == "https://xn--bcher-kva.example/a&b/r%C3%BCns/"
    data = publish.build_sitemap_files([publish.SitemapUrl(publish.build_loc(base, "p q/x.html"))], base)
    assert b"a&amp;b" in data["sitemap.xml"]
    loc = ET.fromstring(data["sitemap.xml"]).find("s:url/s:loc", NS).text
    assert loc == "https://xn--bcher-kva.example/a&b/r%C3%BCns/p%20q/x.html"
    assert publish.read_base_url("http://host:8080") == "http://host:8080/"
    # only the host is IDNA (the port stays); a stray % is %25, a space %20, an escape kept (audit-s21)
    assert publish.read_base_url("http://b\u00fccher.example:80/runs/") == "http://xn--bcher-kva.example:80/runs/"
    assert publish.read_base_url("https://lab.example/100%/a%2/%zz") == "https://lab.example/100%25/a%252/%25zz/"
    assert publish.read_base_url("https://lab.example/my runs/%41") == "https://lab.example/my%20runs/%41/"
    assert publish.read_base_url("HTTP://[::1]:8080/x") == "http://[::1]:8080/x/"


@pytest.mark.parametrize("url", ["https://user:pw@lab.example/", "http://user@b\u00fccher.example:80/runs/"])
def test_a_base_url_with_a_user_name_is_refused(store: Path, tmp_path: Path, url: str) -> None:
    """It would be published in every feed and sitemap (and IDNA of the whole netloc mangled the host)."""
    run = run_cli("build", store, "-o", tmp_path / "site", "--base-url", url)
    assert_one_error_line(run, 64, "holds a user name or password", "--base-url")
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("url", ["ftp://example.org/", "example.org/runs", "https://example.org/?a=1",
                                 "https://example.org/#top", "https://example.org:port/", "https:///x", "https://exa mple.org/"])
def test_a_bad_base_url_is_one_error_line(store: Path, tmp_path: Path, url: str) -> None:
    run = run_cli("build", store, "-o", tmp_path / "site", "--base-url", url)
    assert_one_error_line(run, 64, "not an absolute http or https URL", "--base-url")
    assert not (tmp_path / "site").exists()


def test_an_unknown_precompress_format_is_one_error_line(store: Path, tmp_path: Path) -> None:
    run = run_cli("build", store, "-o", tmp_path / "site", "--precompress", "gz,br")
    assert_one_error_line(run, 64, "unknown format 'br'", "--precompress")


def test_the_cli_writes_siblings_and_sitemap(example_store: Path, tmp_path: Path, unchanged) -> None:
    store = unchanged(example_store)
    run = run_cli("build", store, "-o", tmp_path / "site", "--precompress", "zst,gz,zst", "--base-url", BASE[:-1])
    assert run.code == 0, run.stderr
    assert (tmp_path / "site" / "index.html.gz").exists() and (tmp_path / "site" / "index.html.zst").exists()
    assert BASE + "search.html" in (tmp_path / "site" / "sitemap.xml").read_text()


def test_names_of_siblings_and_sitemaps_are_never_slugs(tmp_path: Path) -> None:
    """A job named like a page's sibling and a project named like the sitemap get hashed slugs:
    their folders would stand where the build writes j1.html.gz and sitemap.xml."""
    store = tmp_path / "data_store"
    simple_job(store, "p", "j1")
    simple_job(store, "p", "j1.html.gz")
    simple_job(store, "sitemap.xml", "k1")
    site = tmp_path / "site"
    assert build(store, site).jobs == 3
    assert (site / "sitemap.xml").is_file() and (site / "p" / "j1.html.gz").is_file()
    assert gzip.decompress((site / "p" / "j1.html.gz").read_bytes()) == (site / "p" / "j1.html").read_bytes()
