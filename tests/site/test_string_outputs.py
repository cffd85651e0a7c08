"""String and JSON outputs on the job page and in the downloads: a lone surrogate escape in a JSON
value, strings too long for a page, scalars and (N, k) string datasets, and the PNG and JSON sets
of a JSON output in set order."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from tests.invariants import run_cli
from tests.site.one_job_store import STR, build, new_store, page_text, read_job_of, stamps, write_output

# ----------------------------------------------------------------- lone surrogate in a JSON value
LONE = json.dumps({"file": b"data_\xff.bin".decode("utf-8", "surrogateescape")})  # '{"file": "data_\\udcff.bin"}'


def test_f1_lone_surrogate_escape_in_json_value_builds_and_exports(tmp_path):
    store, f, group = new_store(tmp_path)
    with f:
        write_output(group, "files", np.array([LONE, LONE], dtype=object), dtype=STR, units="JSON")
    site = tmp_path / "site"
    run = run_cli("build", store, "-o", site)
    assert run.code == 0, run.stderr
    page = (site / "p" / "j1.html").read_text(encoding="utf-8")
    assert "data_\ufffd.bin" in html.unescape(page)  # shown replaced
    downloads = [p for p in (site / "p").rglob("*.csv")]
    csv_texts = [p.read_text(encoding="utf-8") for p in downloads]
    inline = re.findall(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', page)
    import base64

    csv_texts += [base64.b64decode(b).decode("utf-8") for b in inline]
    assert csv_texts and all("data_\ufffd.bin" in text for text in csv_texts)  # the same replacement
    archive = tmp_path / "runs.zip"
    run = run_cli("export", store, "-o", archive)
    assert run.code == 0, run.stderr
    with zipfile.ZipFile(archive) as z:
        data = z.read("data.json")
    # U+FFFD in the decoded node (a lone surrogate's escape is refused by AiiDA's databases and
    # every strict reader); the exact bytes stay in the raw HDF5 file, which restore gives back
    assert "data_\ufffd.bin" in data.decode("utf-8") and b"\\udcff" not in data
    assert run_cli("archive", "validate", archive).code == 0
    restored = tmp_path / "restored"
    assert run_cli("restore", archive, "-o", restored).code == 0
    assert (restored / "p" / "j1.hdf5").read_bytes() == (store / "p" / "j1.hdf5").read_bytes()


def test_f1_lone_surrogate_in_params_and_catalog_json_is_replaced():
    from reportgen.site.jsonsafe import render_json
    from reportgen.site.render import render_catalog_js

    assert render_json({"k\udcff": ["a\ud800"]}) == '{"k\ufffd":["a\ufffd"]}'
    assert "\udcff" not in render_catalog_js("p\udcff", [])


# ----------------------------------------------------------------- long strings on the page
def test_f7_long_strings_are_cut_at_64k_on_the_page_and_whole_in_the_download(tmp_path):
    store, f, group = new_store(tmp_path)
    texts = [("line é %d\n" % i) * 30_000 for i in range(4)]  # ~300 kB each
    with f:
        write_output(group, "report", np.array(texts, dtype=object), dtype=STR, units="")
        write_output(group, "js", np.array([json.dumps({"t": texts[0]})], dtype=object), dtype=STR, units="JSON")
    site = tmp_path / "site"
    build(store, site)
    page = (site / "p" / "j1.html").read_text(encoding="utf-8")
    assert len(page.encode()) < 6 * 65_536 + 200_000, len(page)  # 5 cut strings, not 1.5 MB
    text = page_text(site)
    size = len(texts[0].encode())
    assert f"set 0 (first 65,536 of {size:,} bytes)" in text
    assert "strings over 65,536 bytes are cut on this page; the CSV download holds them whole" in text
    (report,) = [p for p in site.rglob("*report.csv")]
    csv.field_size_limit(10**7)
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert [row[2] for row in rows[1:]] == texts


# ----------------------------------------------------------------- scalars and (N, k) strings
def csv_rows(site: Path, name: str) -> list[list[str]]:
    page = (site / "p" / "j1.html").read_text(encoding="utf-8")
    import base64

    for href, saved in re.findall(r'<a class="download" href="([^"]+)" download="([^"]+)"', page):
        if saved == f"p_j1_n_{name}.csv":  # saved as <project>_<job>_<node>_<output> (session 22)
            href = html.unescape(href)
            body = base64.b64decode(href.split(",", 1)[1]) if href.startswith("data:") else (site / "p" / href).read_bytes()
            return list(csv.reader(io.StringIO(body.decode("utf-8"))))
    raise AssertionError(f"no CSV download of {name}")


def test_f10_scalars_are_one_set_and_strings_are_text_cells(tmp_path):
    store, f, group = new_store(tmp_path)
    with f:
        group.create_dataset("scal_time", data=stamps(1), dtype=STR)
        group.create_dataset("scal", data=3.5).attrs.create("units", "u", dtype=STR)
        group.create_dataset("scalstr_time", data=stamps(1), dtype=STR)
        group.create_dataset("scalstr", data="hello", dtype=STR)
        write_output(group, "str2d", np.array([["a", "b"], ["c", "d,e"]], dtype=object), dtype=STR)
        write_output(group, "fixed", np.array([b"abc", b"de"], dtype="S5"))
    job = read_job_of(store)
    outputs = {o.name: o for o in job.nodes[0].outputs}
    assert outputs["scal"].n_sets == 1 and outputs["scalstr"].n_sets == 1
    site = tmp_path / "site"
    build(store, site)
    assert re.search(r"scal \[u\] .*? sets 1 ", page_text(site))
    assert csv_rows(site, "scalstr")[1][2] == "hello"
    assert [row[2:] for row in csv_rows(site, "str2d")] == [["v0", "v1"], ["a", "b"], ["c", "d,e"]]
    assert [row[2] for row in csv_rows(site, "fixed")[1:]] == ["abc", "de"]
    assert "['a', 'b']" not in page_text(site) and '["a", "b"]' in page_text(site)


# ----------------------------------------------------------------- JSON sets in set order
def test_f11_png_and_json_sets_of_a_json_output_are_shown_in_set_order(tmp_path):
    import base64

    from reportgen.example.png import render_noise_png

    image = json.dumps({"png": base64.b64encode(render_noise_png(1, 4, 4)).decode("ascii")})
    store, f, group = new_store(tmp_path)
    with f:
        write_output(group, "o", np.array(['{"a": 1}', image, '[2]'], dtype=object), dtype=STR, units="JSON")
    site = tmp_path / "site"
    build(store, site)
    page = (site / "p" / "j1.html").read_text(encoding="utf-8")
    order = [m.group(1) for m in re.finditer(r"(?:<figcaption>|<summary>)(set \d)", page)]
    assert order == ["set 0", "set 1", "set 2"], order
    assert '<figcaption>set 1</figcaption>' in page
