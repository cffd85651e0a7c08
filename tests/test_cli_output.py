"""The CLI's own duties, as a shell sees them: where its results go when stdout is closed, full
or a pipe that stops reading; the locale; ``--debug`` after the command; option names in errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.invariants import ERROR_LINE, assert_one_error_line, run_cli

REPORTGEN = [sys.executable, "-m", "reportgen"]


def _run(args: list[str], **popen) -> subprocess.CompletedProcess:
    env = dict(os.environ, CI="1", **popen.pop("env", {}))
    return subprocess.run([*REPORTGEN, *map(str, args)], stderr=subprocess.PIPE, text=True, env=env, timeout=120, **popen)


def test_a_full_stdout_is_one_line_naming_stdout_exit_74(example_store: Path):
    with open("/dev/full", "w") as full:
        run = _run(["inspect", example_store, "--json"], stdout=full)
    assert run.returncode == 74
    assert run.stderr.splitlines() == ["reportgen: error: '<stdout>': No space left on device"]


def test_a_closed_stdout_is_an_error_not_silence(example_store: Path):
    run = _run(["inspect", example_store], stdout=None, pass_fds=(), preexec_fn=lambda: os.close(1))
    assert run.returncode == 74
    assert run.stderr.splitlines() == ["reportgen: error: '<stdout>': standard output is closed"]


def test_a_reader_that_stops_ends_the_run_quietly_with_141(example_store: Path):
    """``reportgen inspect --json | true``: the shell's SIGPIPE status, nothing on stderr
    (click's own handling gave an undocumented exit 1)."""
    proc = subprocess.Popen([*REPORTGEN, "inspect", example_store, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ, CI="1"))
    proc.stdout.close()  # the reader is gone before the first write
    code = proc.wait(timeout=120)
    errors = proc.stderr.read().decode()
    proc.stderr.close()
    assert (code, errors) == (141, "")


def test_a_reader_that_leaves_mid_output_is_141_not_a_cut_short_success(example_store: Path):
    """``reportgen inspect --json | head -c 100``: the reader leaves while the result is being
    written.  Python's stdout took the short write to the pipe as done and dropped the rest, so a
    truncated result exited 0.  A 4 KiB pipe makes the output longer than the pipe here."""
    import fcntl

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen([*REPORTGEN, "inspect", example_store, "--json"], stdout=write_end,
                            stderr=subprocess.PIPE, env=dict(os.environ, CI="1"))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        assert len(reader.read(100)) == 100  # the first bytes arrive, then the reader is gone
    code = proc.wait(timeout=120)
    errors = proc.stderr.read().decode()
    proc.stderr.close()
    assert (code, errors) == (141, "")


@pytest.mark.parametrize("locale_env", [
    {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},  # file system encoding: ascii
])  # fmt: skip
def test_names_read_the_same_whatever_the_locale(edge_store: Path, locale_env: dict):
    """The edge store has non-ASCII project, node and log names: the report (and so the site and
    the archive, built from the same names) must not depend on the locale's encoding."""
    probe = subprocess.run([sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"],
                           capture_output=True, text=True, env=dict(os.environ, **locale_env))
    assert probe.stdout.strip() != "utf-8"  # the case under test is real
    plain = run_cli("inspect", edge_store, "--json")
    odd = run_cli("inspect", edge_store, "--json", env=locale_env)
    assert (odd.code, odd.stdout) == (plain.code, plain.stdout), odd.stderr
    assert "\\u91cf\\u5b50" in plain.stdout  # 量子, as the writer named the project


def test_debug_after_the_command_shows_the_traceback(tmp_path: Path):
    run = run_cli("archive", "validate", tmp_path / "missing.zip", "--debug")
    assert run.code == 66 and "Traceback" in run.stderr
    assert ERROR_LINE.match(run.stderr.strip().splitlines()[-1])


def test_export_names_the_users_option_not_the_converters(example_store: Path, tmp_path: Path):
    run = run_cli("export", example_store, "-o", tmp_path / "x.zip", "--export-version", "0.3")
    assert_one_error_line(run, 64, "'--export-version': cannot migrate from 0.13 down to 0.3")
    assert not (tmp_path / "x.zip").exists()
