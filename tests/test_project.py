"""Project-level promises: the docs build, the wheel works alone, the CLI is documented."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import click
import pytest

from reportgen import __version__
from reportgen.cli import cli
from tests.invariants import assert_one_error_line, run_cli

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: click.Group, prefix: str = "reportgen"):
    for name in sorted(group.commands):
        command = group.commands[name]
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


def test_every_command_has_help_and_an_example() -> None:
    for path, command in _commands(cli):
        assert command.help, f"{path} has no help text"
        if not isinstance(command, click.Group):
            assert "Example" in command.help, f"{path}: docstring should end with an example"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{path} {param.opts} has no help"


def test_every_command_and_option_is_in_the_docs() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for path, command in _commands(cli):
        assert f"`{path}" in text, f"docs/cli.md does not document {path}"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.opts[0] in text, f"docs/cli.md does not mention {path} {param.opts[0]}"


def test_readme_opens_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert head.index("make demo") < head.index("make test")


def test_version_and_usage_errors() -> None:
    run = run_cli("--version")
    assert run.code == 0 and __version__ in run.stdout
    assert_one_error_line(run_cli("no-such-command"), 64, "usage")


def test_missing_data_store_is_one_line_exit_66(tmp_path: Path) -> None:
    assert_one_error_line(run_cli("inspect", tmp_path / "absent"), 66, "", str(tmp_path / "absent"))


def test_docs_build_strict(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "site" / "index.html").exists()


@pytest.mark.slow
def test_wheel_works_in_a_clean_virtualenv(tmp_path: Path) -> None:
    """Build the wheel from the tree, install it alone, and run it: templates included."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("reportgen-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(re.match(r"site_templates/.+\.html$", n) for n in names), "templates missing from wheel"
    assert any(n.startswith("converters/") for n in names)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = env_dir / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"  # not the source tree: the installed copy must be used
    work.mkdir()
    out = subprocess.run(
        [str(env_dir / "bin" / "reportgen"), "--version"], cwd=work, capture_output=True, text=True, check=True
    )
    assert __version__ in out.stdout
    probe = "import site_templates, reportgen, converters; print(site_templates.TEMPLATE_DIR)"
    where = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", probe], cwd=work, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert str(ROOT) not in where and Path(where, "base.html").exists()
    shutil.rmtree(env_dir)


def test_every_benchmark_takes_the_arguments_python_m_bench_gives_it():
    """``python -m bench`` (``make bench``) calls ``main(argv)`` of each module with its short-run
    arguments; one module whose ``main`` took none crashed the whole run after the first."""
    import importlib
    import pkgutil

    import bench
    from bench.__main__ import SMALL

    modules = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    assert set(SMALL) <= set(modules)
    for name in modules:
        main = importlib.import_module(f"bench.{name}").main
        with pytest.raises(SystemExit) as asked_for_help:
            main(["--help"])  # argparse parses the given list, not this process's argv
        assert asked_for_help.value.code == 0, name
