"""One definition of a log line everywhere (audit s18 F1, F2, F5): the reader, the job page, the
catalog and compare split at "\\n" only (the CR of a CRLF dropped), so a tqdm progress line (lone
CR) or a U+2028 never shifts a line number; the marks cover the lines a page shows (the last ones)
and every count is a true count; compare's log health rows are bounded."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from reportgen.inspect_report import build_report_job
from reportgen.readers.logs import (
    MAX_MARKED_LINES, error_and_traceback_count, read_log, split_log_lines,
)
from reportgen.records import Commit, Job, LogFile, NodeGroup
from reportgen.site import compare
from reportgen.site.contexts import MAX_LOG_LINES, build_catalog_row, build_log_view
from reportgen.site.render import render_log_lines
from tests.readers.builders import write_log

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _tqdm_log() -> str:
    """300 lines; a progress bar (lone CRs) at 260, a U+2028 at 280, a warning at 296 and a
    traceback at 298 (the file's own line numbers, counting "\\n")."""
    lines = [f"line {i}" for i in range(1, 301)]
    lines[259] = "progress 10%\rprogress 50%\rprogress 100%"
    lines[279] = "json said \u2028 here"
    lines[295] = "UserWarning: near the end"
    lines[297] = "Traceback (most recent call last):"
    lines[299] = "ValueError: boom"
    return "\r\n".join(lines[:10]) + "\r\n" + "\n".join(lines[10:]) + "\n"  # a CRLF head too


def test_split_log_lines_splits_at_newline_only_and_drops_the_cr_of_a_crlf() -> None:
    text = "a\r\nb\rc\u2028d\x85e\nlast"
    assert split_log_lines(text) == ["a", "b\rc\u2028d\x85e", "last"]
    for sample in ("", "\n", "x", "x\n", "x\r\n\r\n", "a\rb\n", text):  # a line per newline, plus an unended last one
        assert len(split_log_lines(sample)) == sample.count("\n") + (1 if sample and not sample.endswith("\n") else 0)


def test_line_numbers_are_the_files_after_a_lone_cr_and_u2028(tmp_path: Path) -> None:
    log = read_log(write_log(tmp_path / "n.log", _tqdm_log()), "n.log", "n")
    assert log.traceback_lines == (298,) and log.warning_lines == (296,) and log.line_count == 300
    assert 298 in log.error_lines and 300 in log.error_lines
    view = build_log_view(log, "")
    kinds = {line.number: (line.kind, line.text) for line in view.lines}
    assert kinds[296] == ("warning", "UserWarning: near the end")
    assert kinds[298] == ("traceback", "Traceback (most recent call last):")
    assert kinds[300] == ("error", "ValueError: boom") and kinds[1] == ("", "line 1")  # CR of the CRLF gone
    html = render_log_lines(view.lines, "n")
    assert "\r" not in html and "\u2028" not in html  # a browser would break the line there
    assert 'id="n-L260"><a class="lnum" href="#n-L260">260</a>progress 10%\u240dprogress 50%\u240dprogress 100%\n' in html
    assert 'href="#n-L280">280</a>json said \u2424 here\n' in html
    assert html.count('<span class="ln') == 300


def test_compare_log_ends_number_lines_as_the_file_and_a_whole_log_has_numbers(tmp_path: Path) -> None:
    log = read_log(write_log(tmp_path / "n.log", _tqdm_log()), "n.log", "n")
    end = compare.build_log_end(log)
    lines = end["text"].split("\n")[:-1]
    assert "\r" not in end["text"] and end["first"] == 1 and end["note"] == "the whole log (300 lines)"
    numbered = {text: end["first"] + i for i, text in enumerate(lines)}
    assert numbered["UserWarning: near the end"] == 296 and numbered["ValueError: boom"] == 300
    assert numbered["progress 10%\u240dprogress 50%\u240dprogress 100%"] == 260
    small = read_log(write_log(tmp_path / "s.log", "a\rb\nc\r\nd\n"), "s.log", "s")  # travels whole
    assert compare.build_log_end(small) == {"node": "s", "first": 1, "text": "a\u240db\nc\nd\n",
                                            "note": "the whole log (3 lines)"}


def test_marks_cover_the_shown_lines_and_counts_are_true(tmp_path: Path) -> None:
    count = MAX_MARKED_LINES + 500
    warned = read_log(write_log(tmp_path / "w.log", "".join(f"UserWarning: step {i}\n" for i in range(count))), "w.log", "w")
    errors = read_log(write_log(tmp_path / "e.log", "".join(f"ERROR step {i}\n" for i in range(count))), "e.log", "e")
    for log, kind in ((warned, "warning"), (errors, "error")):
        view = build_log_view(log, "")
        assert len(view.lines) == MAX_LOG_LINES and all(line.kind == kind for line in view.lines)
    assert (build_log_view(warned, "").warning_count, build_log_view(errors, "").error_count) == (count, count)
    assert warned.warning_lines[-1] == count and warned.warning_lines_left_out == 500
    job = replace(_job(), logs=(warned, errors))
    row = build_catalog_row(job, "j1.html")
    assert (row.log_errors, row.log_warnings) == (count, count)
    assert compare.build_log_rows(job)[0][:2] == [("w: error lines", "0"), ("w: warning lines", f"{count:,}")]
    kept = build_report_job(job).logs  # inspect drops the lines, not the counts
    assert kept[0].warning_lines == () and kept[0].warning_lines_left_out == count


def test_a_traceback_counts_once_whether_its_line_is_kept_or_past_the_preview() -> None:
    log = LogFile("n", "p/j1/n.log", 10, T0, "", True, 2000, tuple(range(1001, 2001)), (5, 1500, 1999, 5000),
                  False, total_lines=5000, error_lines_left_out=7)
    # 5 is among the 7 left out, 1500 among those kept, 1999 kept; 5000 is past the preview
    assert error_and_traceback_count(log) == 1000 + 7 + 1


def _job(logs: tuple[LogFile, ...] = ()) -> Job:
    node = NodeGroup("n", "/n", "Node", "", "", (), ())
    return Job("p", "j1", "p/j1.hdf5", "p/j1", 10, T0, (), "a run", "#/j1", "ts", T0, T0, "output-time",
               (node,), logs, Commit("workflow", "b" * 40, "present"), Commit("params", "a" * 40, "present"), "ok", ())


def _health_log(name: str, errors: int) -> LogFile:
    return LogFile(name, f"p/j1/{name}.log", 5, T0, "ok\n", False, 1, tuple(range(1, errors + 1)), (), False)


def test_compare_log_rows_are_bounded_unhealthy_nodes_first_and_the_rest_summed() -> None:
    logs = tuple(_health_log(f"n{i:04d}", 2 if i in (3, 1400) else 0) for i in range(1500))
    rows, note = compare.build_log_rows(replace(_job(), logs=logs))
    keys = [key for key, _ in rows]
    assert len(rows) == 3 * compare.MAX_LOG_NODES + 1
    assert "n1400: error lines" in keys and keys[:3] == ["n0000: error lines", "n0000: warning lines", "n0000: traceback"]
    assert rows[-1] == ("other nodes' logs", "1,400 nodes: 0 error lines, 0 warning lines, 0 with a traceback")
    assert note.startswith("the log health of 1,400 of 1,500 nodes is one row")
    assert compare.build_log_rows(replace(_job(), logs=logs[:5]))[1] == ""


def test_the_compare_data_file_keeps_its_bound_and_its_series_with_long_node_names() -> None:
    logs = tuple(_health_log("<" * 296 + f"{i:04d}", 1) for i in range(1500))  # "<" is 6 bytes escaped
    data = compare.build_compare_data(replace(_job(), logs=logs), {}, "j1")
    data = replace(data, series=('{"key": "/n/x", "y": []}',))
    text = compare.render_compare_js(data)
    body = json.loads(text[text.index("(") + 1: text.rindex(")")])
    assert len(text.encode("utf-8")) <= compare.COMPARE_DATA_BYTES and len(body["series"]) == 1
    assert body["logs"] == [["all nodes' logs", "1,500 nodes: 1,500 error lines, 0 warning lines, 0 with a traceback"]]
    assert any(note.startswith("the log health of every node is one row") for note in body["notes"])
    assert not any(note.startswith("the log health of 1,400") for note in body["notes"])
