"""The job page's review fixes of session 22: what failed (a box under the title, the Nodes nav's
marks, the failing log open), download names that name their job, the duration and a start
after the end.  One data_store of small jobs, built once (tests/readers/builders.py)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from reportgen.site.paths import MAX_SAVED_NAME, build_saved_name
from tests.readers.builders import HEADER, Node, Out, simple_job, write_log
from tests.site.one_job_store import build

LONG = "n" * 250  # a 250-byte node name (its log file's name is 254 bytes), with a 300-byte output
RTL = "\u05e9\u05dc\u05d5\u05dd\u202egpj.exe"  # Hebrew, then a right-to-left override
HOSTILE_LINE = "ValueError: <script>alert(1)</script> " + "x" * 400
TRACEBACK = ('Traceback (most recent call last):\n  File "node.py", line 3, in <module>\n    fit()\n'
             "numpy.linalg.LinAlgError: Singular matrix\n")
AFTER_OUTPUTS = "2022-06-25T13:00:00Z"  # the builders' outputs are stamped from 12:52:14.000Z


def write_failed_log(root: Path, job: str, node: str, text: str) -> None:
    write_log(root / "p" / job / f"{node}.log", HEADER.format(node=node) + "step 1\nstep 2\n" + text)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s22") / "store"
    out = [Out("final_data", [1.0, 2.0])]
    simple_job(root, "p", "ok", [Node("QPU", out), Node("fit", out)], creation_timestamp=AFTER_OUTPUTS)
    simple_job(root, "p", "failed", [Node("QPU", out), Node("fit", out)], creation_timestamp=AFTER_OUTPUTS)
    write_failed_log(root, "failed", "fit", TRACEBACK + "cleanup done\n")
    simple_job(root, "p", "skew", [Node("QPU", out)])  # ends 12:41:05Z, outputs from 12:52:14Z
    hostile = [Node(name, out) for name in ("a:b*c", "CON", LONG, RTL, "a_b", "a")]
    hostile[2].outputs = [Out("o" * 300, [1.0, 2.0])]
    hostile[-1].outputs = [Out("b_c", [1.0])]  # saved as ..._a_b_c.csv, as is a_b's c below
    hostile[-2].outputs = [Out("c", [2.0])]
    simple_job(root, "p", "hostile", hostile, creation_timestamp=AFTER_OUTPUTS)
    write_failed_log(root, "hostile", RTL, HOSTILE_LINE + "\n" + TRACEBACK.replace("numpy.linalg.LinAlgError: Singular matrix", HOSTILE_LINE))
    many = [Node(f"n{i:02d}", []) for i in range(70)]  # over 64 nodes: a node page each
    simple_job(root, "p", "split", many, creation_timestamp=AFTER_OUTPUTS)
    for i in range(3, 70, 5):  # 14 failing nodes: 10 named, 4 counted
        write_failed_log(root, "split", f"n{i:02d}", TRACEBACK)
    simple_job(root, "p", "incomplete", [Node("QPU", out)], creation_timestamp=AFTER_OUTPUTS)
    write_failed_log(root, "incomplete", "a_ghost", TRACEBACK)  # logs without a node group
    for name in ("b_ghost", "c_ghost", "d_ghost"):
        write_log(root / "p" / "incomplete" / f"{name}.log", "fine\n")
    simple_job(root, "p", "executor", [Node("QPU", out)], creation_timestamp=AFTER_OUTPUTS)
    (root / "p" / "executor" / "_executor_result.json").write_text(json.dumps(
        {"status": "Failure", "status_message": "x", "nodes_success": 0, "nodes_error": 1, "nodes_count": 1, "nodes": {}}))
    site = root.parent / "site"
    build(root, site)
    return site


def page(site: Path, job: str) -> str:
    return (site / "p" / f"{job}.html").read_text("utf-8")


def failure_box(text: str) -> str:
    found = re.search(r'<section id="failure".*?</section>', text, re.S)
    return found.group(0) if found else ""


def nav(text: str) -> str:
    return re.search(r'<nav class="toc".*?</nav>', text, re.S).group(0)


# ----------------------------------------------------------------- what failed
def test_a_failed_job_names_the_node_and_its_exception_line_under_the_title(site: Path) -> None:
    text = page(site, "failed")
    box = failure_box(text)
    assert text.index("</h1>") < text.index('<section id="failure"') < text.index('<nav class="toc"')
    items = re.findall(r'<li><a class="failure-node" href="([^"]+)"><code>([^<]+)</code></a>: '
                       r'<a class="failure-line" href="([^"]+)"><code>([^<]+)</code></a>', box)
    assert items == [("#node-fit", "fit", "#node-fit-L11", "numpy.linalg.LinAlgError: Singular matrix")]
    line = re.search(r'<span class="ln[^"]*" id="node-fit-L11">.*?</span>', text, re.S).group(0)  # the link's line
    assert "LinAlgError" in line


def test_the_nav_marks_the_failing_node_and_its_log_is_open(site: Path) -> None:
    text = page(site, "failed")
    marked = re.findall(r'<a href="#([^"]+)" class="node-failed">([^<]+)<span class="fail-mark" aria-hidden="true"> \u2716</span>'
                        r'<span class="visually-hidden"> \(failed\)</span></a>', nav(text))
    assert marked == [("node-fit", "fit")]
    assert re.findall(r'<details class="log" id="log-([^"]+)" open>', text) == ["node-fit"]


def test_an_ok_job_has_no_failure_box_mark_or_open_log(site: Path) -> None:
    text = page(site, "ok")
    assert "failure" not in text and "\u2716" not in nav(text) and "(failed)" not in text
    assert not re.search(r'<details class="log"[^>]* open', text)
    assert "</h1>\n<nav" in text  # nothing at all between the title and the nav


def test_hostile_lines_and_names_are_escaped_and_cut(site: Path) -> None:
    text = page(site, "hostile")
    box = failure_box(text)
    assert "<script>" not in box and "&lt;script&gt;" in box
    node, line = re.search(r'class="failure-node"[^>]*><code>([^<]*)</code>.*?class="failure-line"[^>]*><code>([^<]*)</code>',
                           box, re.S).groups()
    assert html.unescape(node) == RTL
    shown = html.unescape(line)
    assert len(shown) == 300 and shown.endswith("\u2026") and shown.startswith("ValueError: <script>")


def test_a_split_job_links_the_failing_lines_on_their_node_pages_and_counts_past_ten(site: Path) -> None:
    text = page(site, "split")
    box = failure_box(text)
    links = re.findall(r'class="failure-line" href="([^"]+)"', box)
    assert len(links) == 10 and "and 4 more failing nodes, marked in the node table" in box
    for link in links:
        name, anchor = link.split("#")
        assert re.fullmatch(r"split~node-n\d\d\.html", name)
        node_page = (site / "p" / name).read_text("utf-8")
        assert f'id="{anchor}"' in node_page and "LinAlgError" in re.search(f'id="{anchor}">.*?</span>', node_page, re.S).group(0)
        assert f'<details class="log" id="log-{anchor.rsplit("-L", 1)[0]}" open>' in node_page
    assert text.count('<span class="fail-mark" aria-hidden="true"> \u2716</span>') == 14  # every failing row


# ----------------------------------------------------------------- downloads
def saved_names(text: str) -> list[str]:
    return [html.unescape(name) for name in re.findall(r'<a class="download" href="[^"]+" download="([^"]+)"', text)]


def test_downloads_are_saved_under_the_project_job_node_and_output(site: Path) -> None:
    names = saved_names(page(site, "ok"))
    assert "p_ok.ipynb" in names
    assert {"p_ok_QPU_final_data.npy", "p_ok_QPU_final_data.csv", "p_ok_fit_final_data.csv"} <= set(names)
    assert saved_names(page(site, "failed")) != names  # the same output of another job: another name


def test_hostile_download_names_are_safe_unique_and_bounded(site: Path) -> None:
    names = saved_names(page(site, "hostile"))
    assert len(names) == len(set(names)) == 1 + 2 * 6  # the notebook, NPY and CSV of six outputs
    for name in names:
        assert not re.search(r'[/\\:*?"<>|\x00-\x1f\u202e]', name), name
        assert not name.startswith((".", " ")) and not name.rsplit(".", 1)[0].endswith((".", " "))
        assert len(name.encode("utf-8")) <= MAX_SAVED_NAME and name.startswith(("p_hostile_", "p_hostile.ipynb"))
    assert any(name.startswith("p_hostile_a_b_c-") for name in names)  # a:b*c changed: hashed
    assert any(name.startswith("p_hostile_\u05e9\u05dc\u05d5\u05dd_gpj.exe_final_data-") for name in names)  # readable RTL kept
    assert sum(name.startswith("p_hostile_" + "n" * 20) and len(name.encode()) == MAX_SAVED_NAME for name in names) == 2


@pytest.mark.parametrize(("parts", "expected"), [
    (("default_project", "j1", "QPU", "final_data"), "default_project_j1_QPU_final_data.csv"),
    (("CON", "j1", "n", "o"), "CON_j1_n_o.csv"),  # not a device name: CON_j1...
])
def test_plain_names_are_kept(parts: tuple[str, ...], expected: str) -> None:
    assert build_saved_name(parts, "csv") == expected


def test_saved_names_of_unsafe_parts() -> None:
    assert build_saved_name(("CON.x", "j", "n", "o"), "csv").startswith("_CON.x_j")  # CON.<anything> is the device
    name = build_saved_name(("../x", "a:b*c", "n", ". o. "), "npy")
    assert re.fullmatch(r"_x_a_b_c_n_\. o-[0-9a-f]{8}\.npy", name), name
    assert build_saved_name(("p", "j", "a:b"), "csv") != build_saved_name(("p", "j", "a_b"), "csv")
    cut = [build_saved_name(("p", "j", "x" * 300 + tail), "csv") for tail in ("1", "2")]
    assert cut[0] != cut[1] and all(len(n.encode()) == MAX_SAVED_NAME for n in cut)
    multibyte = build_saved_name(("p", "\u00e9" * 200), "csv")  # cut on a character boundary
    assert len(multibyte.encode()) <= MAX_SAVED_NAME and multibyte.encode().decode("utf-8") == multibyte


# ----------------------------------------------------------------- times
def summary_row(text: str, key: str) -> str | None:
    key = re.escape(key).replace(r"\(UTC\)", r"(?:<span data-tz>)?\(UTC\)(?:</span>)?")  # times.js's zone label
    found = re.search(rf'<tr><th scope="row">{key}</th><td>(.*?)</td></tr>', text)
    return html.unescape(re.sub(r"</?time[^>]*>", "", found.group(1))) if found else None


def test_a_duration_row_when_the_start_is_before_the_end(site: Path) -> None:
    text = page(site, "ok")
    assert summary_row(text, "duration (approx.)") == "7 min 46 s"  # 12:52:14.000 to 13:00:00
    assert "start after end" not in text


def test_a_start_after_the_end_is_flagged_and_has_no_duration(site: Path) -> None:
    text = page(site, "skew")
    start = summary_row(text, "start time (UTC)")
    assert start.startswith("2022-06-25 12:52:14 (approx., from output-time) \u26a0 start after end")
    assert "(by 11 min 09 s; clock skew?)" in start
    assert summary_row(text, "duration (approx.)") is None


def test_durations_are_formatted_in_their_two_largest_units() -> None:
    from reportgen.site.contexts import format_duration

    assert [format_duration(s) for s in (0, 42, 192, 7500, 93600 + 120)] == ["0 s", "42 s", "3 min 12 s", "2 h 05 min", "1 d 02 h"]


def test_an_incomplete_job_counts_its_logs_without_a_node_and_opens_only_logs_with_errors(site: Path) -> None:
    text = page(site, "incomplete")
    box = failure_box(text)
    assert '<a href="#orphan-logs">3 logs without a node group</a>' in box
    assert re.findall(r'class="failure-node" href="([^"]+)"', box) == ["#log-orphan-1"]  # the one with a traceback
    assert re.findall(r'<details class="log" id="log-([^"]+)" open>', text) == ["orphan-1"]


def test_a_failed_status_without_a_failing_log_says_what_it_means(site: Path) -> None:
    box = html.unescape(failure_box(page(site, "executor")))
    assert "The executor's result file reports failed nodes" in box and "<li>" not in box
