"""The command-line docs and the CLI's own help say the same thing (new-user review s26).

docs/cli.md has one section per command; each section's option table must list exactly the
options `--help` prints, under the same metavar, and the synopses of README.md's command table
must be the usage lines `--help` prints.  test_project.py only checks that each option's name
appears somewhere on the page, which `--force` always does.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from converters import errors as converters_errors
from reportgen import errors as reportgen_errors
from reportgen.cli import cli
from reportgen.export import DEFAULT_EMAIL
from tests.invariants import run_cli

ROOT = Path(__file__).resolve().parent.parent
CLI_MD = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def find_command(words: list[str]) -> click.Command:
    command: click.Command = cli
    for word in words:
        assert isinstance(command, click.Group) and word in command.commands, f"no command {' '.join(words)}"
        command = command.commands[word]
    return command


def read_options(command: click.Command) -> dict[str, click.Option]:
    """The command's options by their long name, without --help."""
    return {
        max(param.opts, key=len): param
        for param in command.params
        if isinstance(param, click.Option) and "--help" not in param.opts
    }


def read_sections() -> dict[str, str]:
    """docs/cli.md's command sections: the command's words (`archive migrate`) to the section's text."""
    parts = re.split(r"^### `reportgen (.+?)`\n", CLI_MD, flags=re.M)
    sections = {}
    for heading, body in zip(parts[1::2], parts[2::2]):
        words = [w for w in heading.split() if not w.isupper() and not w.startswith("-")]
        sections[" ".join(words)] = body.split("\n## ")[0]
    return sections


def read_table_options(section: str) -> dict[str, str]:
    """The first column of a section's option table: long option name to the metavar written after it."""
    rows = {}
    for cell in re.findall(r"^\| `(-[^`]+)` \|", section, re.M):
        names, _, metavar = re.match(r"((?:-\w, )?--[\w-]+)( (.+))?$", cell).groups()
        rows[names.split(", ")[-1]] = metavar or ""
    return rows


SECTIONS = read_sections()
COMMANDS = [words for words in SECTIONS if not words.startswith("reportgen-")]


def test_every_command_has_a_section() -> None:
    def walk(group: click.Group, prefix: list[str]):
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from walk(command, [*prefix, name])
            else:
                yield " ".join([*prefix, name])

    assert sorted(walk(cli, [])) == sorted(COMMANDS)


@pytest.mark.parametrize("words", COMMANDS)
def test_section_lists_exactly_the_options_of_help(words: str) -> None:
    options = read_options(find_command(words.split()))
    section = SECTIONS[words]
    table = read_table_options(section)
    if table:  # a table lists them all, and nothing the command lacks
        assert sorted(table) == sorted(options), f"docs/cli.md `reportgen {words}` table vs --help"
    else:  # archive inspect: its options are named in the prose
        for name in options:
            assert f"`{name}" in section, f"docs/cli.md `reportgen {words}` does not mention {name}"


@pytest.mark.parametrize("words", COMMANDS)
def test_table_metavars_are_those_help_prints(words: str) -> None:
    options = read_options(find_command(words.split()))
    for name, metavar in read_table_options(SECTIONS[words]).items():
        if name == "--output":  # PATH would say nothing of what is written
            assert options[name].metavar, f"reportgen {words} -o has no metavar; the docs call it {metavar}"
        if options[name].metavar:  # an explicit metavar is what --help shows
            shown = options[name].metavar
            assert metavar == shown, f"reportgen {words} {name}: docs {metavar!r}, --help {shown!r}"


def read_readme_synopses() -> list[list[str]]:
    return [cell.split() for cell in re.findall(r"^\| `reportgen ([^`]+)` \|", README, re.M)]


def expand_alternatives(synopsis: list[str]) -> list[list[str]]:
    """`archive inspect\\|validate PATH` is two synopses."""
    for i, word in enumerate(synopsis):
        if "\\|" in word:
            return [[*synopsis[:i], alt, *synopsis[i + 1:]] for alt in word.split("\\|")]
    return [synopsis]


README_SYNOPSES = [s for row in read_readme_synopses() for s in expand_alternatives(row)]


@pytest.mark.parametrize("synopsis", README_SYNOPSES, ids=" ".join)
def test_readme_synopsis_matches_help(synopsis: list[str]) -> None:
    words = [w for w in synopsis if w.islower() and not w.startswith(("-", "["))]
    if words == ["bundle"]:  # `bundle DATA_STORE -o BUNDLE` is short for `bundle create`
        words = ["bundle", "create"]
    command = find_command(words)
    arguments = [p.metavar or p.name.upper() for p in command.params if isinstance(p, click.Argument)]
    tokens = [w.strip("[]") for w in synopsis]
    shown = [w for w in tokens if w.isupper()]
    options = read_options(command)
    short = {opt: long for long, o in options.items() for opt in o.opts if not opt.startswith("--")}
    named = []  # metavars that follow an option in the synopsis
    for option, value in zip(tokens, [*tokens[1:], ""]):
        if option.startswith("-"):
            long = short.get(option, option)
            assert long in options, f"README: reportgen {' '.join(words)} has no option {option}"
            if value.isupper():
                in_help = options[long].metavar
                assert value == in_help, f"README: {option} {value}, --help {in_help}"
                named.append(value)
    assert [w for w in shown if w not in named] == arguments, f"README: reportgen {' '.join(synopsis)}"


def test_user_email_help_names_the_real_default() -> None:
    assert DEFAULT_EMAIL in read_options(find_command(["export"]))["--user-email"].help
    assert f"(default `{DEFAULT_EMAIL}`)" in (ROOT / "docs" / "export.md").read_text(encoding="utf-8")


def read_documented_exit_codes(text: str) -> set[int]:
    return {int(code) for code in re.findall(r"^\| (\d+) \|", text, re.M)}


def test_exit_codes_page_readme_and_code_agree() -> None:
    page = read_documented_exit_codes((ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8"))
    constants = {
        value
        for module in (converters_errors, reportgen_errors)
        for name, value in vars(module).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }
    assert page == constants
    section = README.split("## Errors and exit codes\n", 1)[1].split("\n## ", 1)[0]
    listed = section.split("code:", 1)[1].split("See `docs/exit-codes.md`")[0]  # "0 ok, 64 usage, ..."
    in_readme = {int(code) for code in re.findall(r"(?<![\w.])(\d+)(?=[ /])", listed)}
    assert in_readme == page, "README's exit codes differ from docs/exit-codes.md"


def test_signal_lines_and_the_to_refusal_are_as_documented(example_store: Path, tmp_path: Path) -> None:
    """exit-codes.md quotes the line of a run stopped by a signal; `--to 0.3` is refused as cli.md says."""
    text = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    assert "`reportgen: error: interrupted`" in text and "`reportgen: error: terminated`" in text
    archive = tmp_path / "runs.aiida"
    assert run_cli("export", example_store, "-o", archive, "--job", "j7").code == 0
    run = run_cli("archive", "migrate", archive, tmp_path / "old.zip", "--to", "0.3")
    assert run.code == 64
    assert "cannot migrate from 0.13 down to 0.3" in run.stderr
    assert "`cannot migrate from 0.13 down to 0.3`" in SECTIONS["archive migrate"]


def test_unknown_project_or_job_is_a_usage_error_as_documented(example_store: Path, tmp_path: Path) -> None:
    for option, value in (("--project", "no_such_project"), ("--job", "j999")):
        run = run_cli("export", example_store, "-o", tmp_path / "x.aiida", option, value)
        assert run.code == 64, run.stderr
        assert repr(value) in run.stderr
        assert not (tmp_path / "x.aiida").exists()
    assert "an unknown one is exit 64" in SECTIONS["export"]
