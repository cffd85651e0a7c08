"""The docs' printed commands run as printed, and say what the code does (new-user review s23, 07-12).

Each test runs what a page prints (README, docs/index.md, export.md, example-data.md, restore
--help) in a fresh folder, or checks a page's table or synopsis against the code's behaviour.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.invariants import run_cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def read_sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def read_page(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def read_commands(block: str) -> list[list[str]]:
    """The block's `reportgen ...` lines as argument lists (comments dropped)."""
    return [shlex.split(line.split("#")[0]) for line in block.splitlines() if line.startswith("reportgen ")]


def read_own_data_block(page: Path) -> str:
    """The sh block of the page's "Use it on your own data" section."""
    return read_sh_blocks(read_page(page).split("## Use it on your own data\n", 1)[1])[0]


def read_site_exit_codes() -> set[int]:
    text = read_page(DOCS / "site.md")
    table = re.search(r"^## Exit codes\n(.*?)(?=^## )", text, re.S | re.M).group(1)
    return {int(code) for row in re.findall(r"^\| ([\d /]+) \|", table, re.M) for code in row.split("/")}


# ---------------------------------------------------------------- 07: README and landing page


def test_own_data_block_runs_on_a_data_store(example_store: Path, tmp_path: Path) -> None:
    readme, index = (read_own_data_block(ROOT / "README.md"), read_own_data_block(DOCS / "index.md"))
    assert readme == index, "README.md and docs/index.md show different first steps"
    assert ". .venv/bin/activate" in readme and "pip install ." in readme
    commands = read_commands(readme)
    assert [c[1] for c in commands] == ["inspect", "build"]
    for command in commands:
        args = [str(example_store) if a == "/path/to/data_store" else a for a in command[1:]]
        run = run_cli(*args, cwd=tmp_path)
        assert run.code == 0, (command, run.stderr)
    assert (tmp_path / "site" / "index.html").is_file()  # the page the text says to open


def test_readme_links_the_publishing_section() -> None:
    assert "(docs/site.md#publishing-the-site)" in read_page(ROOT / "README.md")
    assert "\n## Publishing the site\n" in read_page(DOCS / "site.md")


# ---------------------------------------------------------------- 08: restore examples


@pytest.fixture(scope="module")
def archive(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("s23-archive") / "runs.aiida"
    run = run_cli("export", example_store, "-o", path)
    assert run.code == 0, run.stderr
    return path


def test_export_page_restore_line_runs_as_printed(archive: Path, tmp_path: Path) -> None:
    line = next(c for c in read_commands(read_sh_blocks(read_page(DOCS / "export.md"))[0]) if c[1] == "restore")
    (tmp_path / line[2]).symlink_to(archive)  # the archive the page's export line wrote
    run = run_cli(*line[1:], cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert any((tmp_path / line[line.index("-o") + 1]).rglob("*.hdf5"))


def test_restore_help_example_runs_as_printed(archive: Path, tmp_path: Path) -> None:
    example = re.search(r"^\s+(reportgen restore .+)$", run_cli("restore", "--help").stdout, re.M).group(1)
    args = shlex.split(example)[1:]
    source = tmp_path / args[1]
    source.parent.mkdir(parents=True)  # where the help's export example wrote it (demo/)
    source.symlink_to(archive)
    run = run_cli(*args, cwd=tmp_path)
    assert run.code == 0, run.stderr


# ---------------------------------------------------------------- 09: example-data.md


def test_example_data_block_runs_top_to_bottom(tmp_path: Path) -> None:
    commands = read_commands(read_sh_blocks(read_page(DOCS / "example-data.md"))[0])
    outputs = [c[2] for c in commands]
    assert len(set(outputs)) == len(outputs), "two lines write the same folder: the second exits 73"
    for command in commands[:2]:  # the third and fourth write edge cases (and 110 MB): same rule, checked above
        run = run_cli(*command[1:], cwd=tmp_path)
        assert run.code == 0, (command, run.stderr)


# ---------------------------------------------------------------- 10: the build's exit-code table


def test_build_exit_codes_are_in_the_site_table(example_store: Path, tmp_path: Path) -> None:
    cases = {
        "no git": (["--workers", "1"], {"PATH": "/nonexistent"}),
        "bad precompress": (["--precompress", "br"], None),
        "bad base url": (["--base-url", "ftp://host/"], None),
        "missing templates": (["--templates", tmp_path / "no-theme"], None),
    }
    table = read_site_exit_codes()
    codes = {}
    for name, (extra, env) in cases.items():
        codes[name] = run_cli("build", example_store, "-o", tmp_path / name.replace(" ", "-"), *extra, env=env).code
    assert codes == {"no git": 69, "bad precompress": 64, "bad base url": 64, "missing templates": 66}
    assert set(codes.values()) <= table, sorted(table)


# ---------------------------------------------------------------- 11: synopsis and --config help


def test_site_synopsis_names_every_build_option() -> None:
    from reportgen.cli import build

    synopsis = re.search(r"```sh\n(reportgen build[^\n]*)\n", read_page(DOCS / "site.md")).group(1)
    options = [p.opts for p in build.params if p.opts[0].startswith("-")]  # -o is written short
    assert [o for o in options if not any(re.search(rf"(?<![\w-]){name}\b", synopsis) for name in o)] == []
    config = next(p for p in build.params if p.name == "config_file")
    assert "[build]" in config.help


# ---------------------------------------------------------------- 12: inspect's order


def test_inspect_lists_jobs_in_natural_order(example_store: Path) -> None:
    run = run_cli("inspect", example_store)
    blocks = re.split(r"^project ", run.stdout, flags=re.M)[1:]
    orders = [re.findall(r"^  (j\d+):", block, re.M) for block in blocks]
    natural = [sorted(ids, key=lambda job_id: int(job_id[1:])) for ids in orders]
    assert any(n != sorted(ids) for n, ids in zip(natural, orders)), "no project where code-point order differs"
    assert orders == natural
