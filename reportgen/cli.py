"""The reportgen command line: a table of contents over the library.

Each command is a few lines calling one library function.  Errors are caught
only here: ``main`` turns a ``ToolError`` into one line

    reportgen: error: '<file>'[:'<member>']: <reason>

and a sysexits code (docs/exit-codes.md).  ``--debug`` shows the traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import traceback
from pathlib import Path

import click

from converters import interrupts
from reportgen import __version__
from reportgen.errors import (
    EXIT_IOERR,
    EXIT_NOINPUT,
    EXIT_SIGINT,
    EXIT_SIGPIPE,
    EXIT_SIGTERM,
    EXIT_SOFTWARE,
    EXIT_USAGE,
    ToolError,
    WriteError,
)


class _PathArg(click.Path):
    """A path; an empty one is a usage error (it would silently mean the current folder)."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path names nothing", param, ctx)
        return super().convert(value, param, ctx)


PathArg = _PathArg(path_type=Path)
Workers = click.IntRange(min=0)

max_ratio_option = click.option(
    "--max-ratio", type=click.FloatRange(min=1), default=None, metavar="RATIO",
    help=("Refuse a member (256 MiB or more) that inflates more than RATIO times (default 200; a bomb guard; "
          "'inf' turns it off for archives you trust)."),
)  # fmt: skip


def _limits(max_ratio: float | None):
    """The converters' reading budgets, with the ratio the user chose."""
    from dataclasses import replace

    from converters import Limits

    return None if max_ratio is None else replace(Limits(), max_ratio=max_ratio)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="reportgen")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Turn an Entropy Hub data_store into a static run catalog, AiiDA export
    archives and offline audit bundles, with no server running.

    \b
    Example:
      reportgen example demo/data_store
      reportgen inspect demo/data_store
    """
    from converters.progress import reporting
    from reportgen.progress import stage_bars

    # one bar per stage of the converters (archives written and read by every command), on a
    # terminal only; silent in CI and pipes
    ctx.with_resource(reporting(stage_bars()))


# ---------------------------------------------------------------- data_store
@cli.command()
@click.argument("directory", type=PathArg)
@click.option("--seed", default=0, show_default=True, help="Seed of the generator.")
@click.option("--jobs", "jobs_per_project", default=12, show_default=True, help="Jobs per project.")
@click.option("--edge-cases", is_flag=True, help="Add every bad-input case of the generator table.")
@click.option("--huge", is_flag=True, help="With --edge-cases: add the huge arrays (about 110 MB).")
@click.option("--force", is_flag=True, help="Replace DIRECTORY if it exists and is not empty.")
def example(directory: Path, seed: int, jobs_per_project: int, edge_cases: bool, huge: bool, force: bool) -> None:
    """Write a realistic, deterministic example data_store into DIRECTORY.

    \b
    Example:
      reportgen example demo/data_store --edge-cases
    """
    from reportgen.example import write_example

    summary = write_example(
        directory, seed=seed, jobs_per_project=jobs_per_project, edge_cases=edge_cases, huge=huge, force=force
    )
    _say(summary)


@cli.command()
@click.argument("data_store", type=PathArg)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--strict", is_flag=True, help="Exit 65 on warnings too, not only on errors.")
@click.option("--workers", type=Workers, default=0, help="Reader processes (0: one per core).")
def inspect(data_store: Path, as_json: bool, strict: bool, workers: int) -> None:
    """List projects, jobs, status counts and every problem of DATA_STORE.

    Exits 0 when no problem of severity "error" was found (with --strict: no
    problem at all), 65 otherwise.

    \b
    Example:
      reportgen inspect demo/data_store --json
    """
    from reportgen.inspect_report import build_report_job, inspect_exit_code, render_inspect
    from reportgen.readers.datastore import read_data_store

    store = read_data_store(data_store, workers=workers, keep=build_report_job)
    _say(render_inspect(store, as_json=as_json), nl=not as_json)
    sys.exit(inspect_exit_code(store, strict=strict))


# ---------------------------------------------------------------- site (issue: static run catalog)
@cli.command()
@click.argument("data_store", type=PathArg)
@click.option("-o", "--output", "site", type=PathArg, required=True, metavar="SITE",
              help="Folder of the site (built beside it, swapped in).")
@click.option("--force", is_flag=True, help="Replace SITE even if it is not a reportgen site.")
@click.option("--full", is_flag=True, help="Rebuild every page, ignoring the previous build's manifest.")
@click.option("--strict", is_flag=True, help="Exit 65 when the data_store has any problem (the site is still written); "
                                             "the same as --fail-on warning.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default=None,
              help="Exit 65 when the data_store has a problem of this severity or worse (the site is still "
                   "written): 'error' for a nightly job that must not fail on a stray file.")
@click.option("--workers", type=Workers, default=0, help="Worker processes (0: one per core).")
@click.option("--config", "config_file", type=PathArg, default=None, metavar="FILE",
              help="TOML file naming extra catalog columns (key parameters, outputs, attributes), "
                   "figure views (x axes, log scales) and reductions of array outputs ([[reduce]]: "
                   "mean, max, ...); its [build] table may hold templates, precompress and base_url; "
                   "exit 78 if bad.")  # views: the help names them
@click.option("--templates", type=PathArg, default=None, metavar="DIR",
              help="Folder of template overrides: pages and static files that replace or extend the built-in ones.")
@click.option("--precompress", default="", metavar="gz,zst",
              help="Also write .gz and/or .zst siblings of the text files, for servers that send them as they are.")
@click.option("--base-url", default="", metavar="URL",
              help="The site's published address (http or https): absolute links in the feeds and sitemap.xml.")
def build(data_store: Path, site: Path, force: bool, full: bool, strict: bool, fail_on: str | None, workers: int,
          config_file: Path | None, templates: Path | None, precompress: str, base_url: str) -> None:
    """Build the static run catalog of DATA_STORE into SITE (incremental, atomic).

    \b
    Example:
      reportgen build demo/data_store -o demo/site
      reportgen build demo/data_store -o demo/site --config examples/catalog.toml
      reportgen build /srv/data_store -o /srv/www/runs --fail-on error   # nightly
    """
    from reportgen.errors import BadInputError
    from reportgen.site.build import BuildOptions, build_site, plural
    from reportgen.site.publish import read_base_url, read_precompress

    options = BuildOptions(workers=workers, force=force, full=full, config_file=config_file, templates=templates,
                           precompress=read_precompress(precompress), base_url=read_base_url(base_url))
    report = build_site(data_store, site, options)
    _say(report.summary())
    failing = [p for p in report.problems if strict or fail_on == "warning" or (fail_on == "error" and p.severity == "error")]
    if failing:
        option = "--strict" if strict else f"--fail-on {fail_on}"
        _name_failing_problems(failing, site)
        raise BadInputError(data_store, f"{plural(len(failing), 'data problem')} ({option}); "
                                        f"see {site / 'build-report.json'}")


SHOWN_PROBLEMS = 5  # a CI log names the first problems that failed the build; the report has them all


def _name_failing_problems(failing: list, site: Path) -> None:
    """The problems that fail a ``--fail-on``/``--strict`` build, on stderr before the error line, as
    ``inspect`` prints them (``severity code 'file':'member': reason``, names quoted, so a name
    cannot forge a line): the log of a nightly job then says what broke without fetching the report
    from the published site."""
    from reportgen.inspect_report import render_problem

    for problem in failing[:SHOWN_PROBLEMS]:
        click.echo(render_problem(problem), err=True)
    if len(failing) > SHOWN_PROBLEMS:
        click.echo(f"and {len(failing) - SHOWN_PROBLEMS} more (see {site / 'build-report.json'})", err=True)


# ---------------------------------------------------------------- archives (issue: converters)
@cli.group()
def archive() -> None:
    """Inspect, validate and migrate AiiDA export archives (versions 0.1 to 0.13 and main_0001).

    \b
    Example:
      reportgen archive migrate old.aiida new.zip --to 0.13
    """


@archive.command("inspect")
@click.argument("path", type=PathArg)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--stream", is_flag=True, help="Read data.json in bounded memory (0.4 ... 0.13 archives larger than memory).")
@max_ratio_option
def archive_inspect(path: Path, as_json: bool, stream: bool, max_ratio: float | None) -> None:
    """Show version, container, entity counts, types, groups, repository size and history of PATH.

    \b
    Example:
      reportgen archive inspect export.aiida --json
    """
    from converters import inspect, render_summary
    from converters.inspect import JSON_FORMAT
    from converters.main.validate import inspect_legacy_streaming

    limits = _limits(max_ratio)
    with _json_on_failure(as_json, {"format": JSON_FORMAT, "path": str(path)}):
        summary = inspect_legacy_streaming(path, limits) if stream else inspect(path, limits)
    _say(render_summary(summary, as_json=as_json), nl=False)


@archive.command("validate")
@click.argument("path", type=PathArg)
@click.option("--json", "as_json", is_flag=True, help="Print every problem as JSON.")
@click.option("--strict", is_flag=True, help="Exit 65 on warnings too, not only on errors.")
@click.option("--stream", is_flag=True, help="Check references in bounded memory (0.4 ... 0.13 archives larger than memory).")
@max_ratio_option
def archive_validate(path: Path, as_json: bool, strict: bool, stream: bool, max_ratio: float | None) -> None:
    """Check PATH's structure and references; list every problem with its JSON path.

    Exits 0 when valid, 65 when any error (with --strict: any problem) was found.

    \b
    Example:
      reportgen archive validate export.aiida
    """
    from converters.main.validate import validate_legacy_streaming
    from converters.validate import JSON_FORMAT, is_valid, render_problems, validate

    limits = _limits(max_ratio)
    unread = {"format": JSON_FORMAT, "archive": str(path), "valid": False, "errors": 1, "warnings": 0, "problems": []}
    with _json_on_failure(as_json, unread):
        problems = validate_legacy_streaming(path, limits) if stream else validate(path, limits)
    _say(render_problems(path, problems, as_json=as_json), nl=False)
    sys.exit(0 if is_valid(problems, strict=strict) else 65)


@archive.command("migrate")
@click.argument("source", type=PathArg)
@click.argument("output", type=PathArg)
@click.option("--to", "to_version", default="0.13", show_default=True, metavar="VERSION",
              help="Target export version.")
@click.option(
    "--format", "fmt", type=click.Choice(["zip", "tar.gz", "tar.zst"]), default=None,
    help="Output container (default: from OUTPUT's name, else zip). No AiiDA (1.x or 2.x) reads tar.zst, which is for storage.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--allow-loss", is_flag=True, help="Let a downgrade drop what the older version cannot hold.")
@click.option("--strict", is_flag=True,
              help="With --to main_XXXX: refuse dangling links and unknown group members "
                   "instead of reporting them.")
@max_ratio_option
def archive_migrate(
    source: Path, output: Path, to_version: str, fmt: str | None, force: bool, allow_loss: bool, strict: bool,
    max_ratio: float | None,
) -> None:
    """Migrate SOURCE to export version --to and write it to OUTPUT (SOURCE is never modified).

    --to may be any version 0.1 ... 0.13 or main_0000 ... main_0001 (AiiDA 2.x, zip
    only); going down needs each step's inverse and stops before losing anything
    unless --allow-loss.

    \b
    Example:
      reportgen archive migrate old.tar.gz new.tar.zst --to 0.13 --format tar.zst
      reportgen archive migrate old.aiida new.aiida --to main_0001
      reportgen archive migrate new.aiida old.zip --to 0.4 --allow-loss
    """
    from converters.main import convert  # main_XXXX and downgrades too, not only forward legacy steps

    result = convert(source, output, to_version=to_version, fmt=fmt, force=force, strict=strict, allow_loss=allow_loss,
                     limits=_limits(max_ratio))
    _say(result.describe())


# ---------------------------------------------------------------- export / restore / bundle
@cli.command()
@click.argument("data_store", type=PathArg)
@click.option("-o", "--output", type=PathArg, required=True, metavar="ARCHIVE", help="The archive to write.")
@click.option("--project", "projects", multiple=True, metavar="NAME",
              help="Export only this project (repeatable).")
@click.option("--job", "jobs", multiple=True, metavar="ID", help="Export only this job id (repeatable).")
@click.option("--export-version", default="0.13", show_default=True, metavar="V",
              help="Export version of the archive: 0.4 ... 0.13, or main_0000 ... main_0001 (AiiDA 2.x).")
@click.option("--format", "fmt", type=click.Choice(["zip", "tar.gz", "tar.zst"]), default=None,
              help="Container format (default: from the file name, else zip). No AiiDA (1.x or 2.x) reads tar.zst, which is for storage.")
@click.option("--user-email", default=None, metavar="EMAIL",
              help="Email of the one AiiDA user owning every entity; "
                   "default: entropy-export@reportgen.invalid.")
@click.option("--workers", type=Workers, default=0, help="Reader processes (0: one per core).")
@click.option("--allow-loss", is_flag=True, help="Let an --export-version below 0.13 drop what it cannot hold.")
@click.option("--skip-busy", is_flag=True,
              help="Leave out a job whose files change while they are read (a node still logging) instead of stopping.")
@click.option("--force", is_flag=True, help="Replace ARCHIVE if it exists.")
def export(data_store: Path, output: Path, projects: tuple[str, ...], jobs: tuple[str, ...], export_version: str,
           fmt: str | None, user_email: str | None, workers: int, allow_loss: bool, skip_busy: bool, force: bool) -> None:
    """Write DATA_STORE as an AiiDA export archive (each job a provenance graph, nothing lost).

    \b
    Example:
      reportgen export demo/data_store -o demo/runs.aiida
    """
    from reportgen.export import DEFAULT_EMAIL, ExportOptions, export_archive

    options = ExportOptions(projects, jobs, export_version, fmt, force, user_email or DEFAULT_EMAIL, workers, allow_loss,
                            skip_busy)
    _say(export_archive(data_store, output, options).render())


@cli.command()
@click.argument("archive", type=PathArg)
@click.option("-o", "--output", type=PathArg, required=True, metavar="DATA_STORE",
              help="The data_store directory to create (the folder it goes in must exist).")
@click.option("--force", is_flag=True, help="Replace DATA_STORE if it exists.")
def restore(archive: Path, output: Path, force: bool) -> None:
    """Rebuild the data_store an archive of `reportgen export` was made from.

    \b
    Example:
      reportgen restore demo/runs.aiida -o demo/restored_store
    """
    from reportgen.export import restore_data_store

    _say(restore_data_store(archive, output, force=force).render())


class _BundleGroup(click.Group):
    """``bundle DATA_STORE -o BUNDLE`` is ``bundle create DATA_STORE -o BUNDLE``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            self._refuse_a_misspelt_command(ctx, args[0])
            args = ["create", *args]
        return super().parse_args(ctx, args)

    def _refuse_a_misspelt_command(self, ctx: click.Context, word: str) -> None:
        """``bundle veriffy B`` is a typo, not a data_store named veriffy (which does not exist)."""
        import difflib

        close = difflib.get_close_matches(word, list(self.commands), n=1)
        if close and not Path(word).exists():
            ctx.fail(f"No such command {word!r}. Did you mean {close[0]!r}?")


@cli.group(cls=_BundleGroup)
def bundle() -> None:
    """Offline audit bundles: a BagIt bag of the static site and the export archive.

    `reportgen bundle DATA_STORE -o BUNDLE` is short for `bundle create`.

    \b
    Example:
      reportgen bundle demo/data_store -o demo/audit-bundle
      reportgen bundle verify demo/audit-bundle
    """


@bundle.command("create")
@click.argument("data_store", type=PathArg)
@click.option("-o", "--output", type=PathArg, required=True, metavar="BUNDLE",
              help="The bundle directory to create (the folder it goes in must exist).")
@click.option("--force", is_flag=True, help="Replace BUNDLE if it exists.")
@click.option("--config", "config_file", type=PathArg, default=None, metavar="FILE",
              help="The site's config, as for build: catalog columns, figure views, reductions, "
                   "templates (its precompress and base_url are not applied to a bundle); exit 78 if bad.")
@click.option("--organization", default="", metavar="NAME",
              help="Source-Organization of bag-info.txt: the organisation sending the bundle "
                   "(RFC 8493); left out when not given.")
def bundle_create(data_store: Path, output: Path, force: bool, config_file: Path | None, organization: str) -> None:
    """Write an audit bundle of DATA_STORE: site + archive + sha256/sha512 manifests.

    \b
    Example:
      reportgen bundle create demo/data_store -o demo/audit-bundle
      reportgen bundle create demo/data_store -o demo/audit-bundle --config examples/catalog.toml
      reportgen bundle create demo/data_store -o demo/audit-bundle --organization "Ion Trap Lab, Example University"
    """
    from reportgen.bundle import write_bundle

    _say(write_bundle(data_store, output, force=force, config=config_file, organization=organization).render())


@bundle.command("verify")
@click.argument("bundle_dir", metavar="BUNDLE", type=PathArg)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict and every problem as JSON on stdout.")
def bundle_verify(bundle_dir: Path, as_json: bool) -> None:
    """Check every checksum of BUNDLE; name each changed, missing or extra file (exit 65).

    \b
    Example:
      reportgen bundle verify demo/audit-bundle
      reportgen bundle verify demo/audit-bundle --json
    """
    from reportgen.bundle import VERIFY_FORMAT, verify_bundle

    unread = {"format": VERIFY_FORMAT, "bundle": str(bundle_dir), "valid": False, "files": 0, "problems": []}
    with _json_on_failure(as_json, unread):
        report = verify_bundle(bundle_dir)
    if as_json:  # the problems are in the document; stderr has the one error line only
        _say(report.render_json(), nl=False)
        return report.check()
    for problem in report.problems:
        click.echo(problem, err=True)
    report.check()
    _say(report.render())


@contextlib.contextmanager
def _json_on_failure(as_json: bool, head: dict):
    """With --json, a run that stops on its input (not an archive, cut short, not a bag) still prints
    one JSON document, ``head`` plus ``error``, before the one error line and the exit code: a
    script's json.loads never meets an empty stdout (docs/cli.md, "JSON output")."""
    try:
        yield
    except ToolError as exc:
        if as_json:
            import orjson

            error = {"file": exc.file, "member": exc.member, "reason": exc.reason, "exit_code": exc.exit_code}
            _say(orjson.dumps({**head, "error": error}, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
        raise



# ---------------------------------------------------------------- entry point
class _PipeClosed(Exception):
    """The reader of stdout went away (``reportgen inspect --json | head``): not an error to report."""


def _say(text: str, nl: bool = True) -> None:
    """A command's result on stdout.  A closed or full stdout is an error about ``'<stdout>'``
    (an OSError from a write names no file); a closed pipe ends the run quietly."""
    if sys.stdout is None:  # started with stdout closed (>&-): click would drop the text silently
        raise WriteError("<stdout>", "standard output is closed")
    try:
        _write_all(text + "\n" if nl else text)
    except BrokenPipeError:
        raise _PipeClosed() from None
    except OSError as exc:
        raise WriteError("<stdout>", exc.strerror or str(exc)) from None


def _write_all(text: str) -> None:
    """Write ``text`` to stdout whole, or fail.  Python's buffered stdout takes a short write to a
    pipe whose reader left (``| head``) as done and drops the rest, so a cut-short result
    exited 0; ``os.write`` in a loop sees the broken pipe instead (SIGPIPE is ignored)."""
    stream = sys.stdout
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's captured stream)
        click.echo(text, nl=False)
        stream.flush()
        return
    stream.flush()
    view = memoryview(text.encode(stream.encoding or "utf-8", stream.errors or "strict"))
    while view:
        view = view[os.write(fd, view):]


def _silence_stdout() -> None:
    """After a closed pipe: stdout to /dev/null, so that the interpreter's last flush does not fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _utf8_names(argv: list[str] | None) -> None:
    """Re-run in Python's UTF-8 mode when the locale's file system encoding is not UTF-8.

    Names on disk are bytes; reportgen reads them as UTF-8 (undecodable bytes kept as
    ``\\xNN`` escapes), and its slugs, uuids and manifests are built from that text.  Under a
    Latin-1 or ASCII locale (a legacy server, ``PYTHONUTF8=0`` in a cron job) Python decodes
    them otherwise, and the same data_store gave another site and another archive.  Only the
    real entry point re-runs (``argv`` None); a second run cannot loop: UTF-8 mode is set.
    """
    if argv is not None or sys.getfilesystemencoding() == "utf-8" or sys.flags.utf8_mode:
        return
    env = dict(os.environ, PYTHONUTF8="1")
    os.execve(sys.executable, [sys.executable, "-X", "utf8", *sys.orig_argv[1:]], env)


def _global_options_first(args: list[str]) -> list[str]:
    """``--debug`` anywhere before ``--`` counts, as the docs' examples put it after the command."""
    end = args.index("--") if "--" in args else len(args)
    if "--debug" not in args[:end]:
        return args
    return ["--debug", *(a for a in args[:end] if a != "--debug"), *args[end:]]


def _error_line(message: str) -> None:
    click.echo(f"reportgen: error: {message}", err=True)


def _os_error_code(exc: OSError) -> int:
    if exc.errno in (errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENOTDIR):
        return EXIT_NOINPUT
    return EXIT_IOERR


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every failure becomes one line and a documented exit code."""
    _utf8_names(argv)
    args = _global_options_first(list(sys.argv[1:] if argv is None else argv))
    debug = args[:1] == ["--debug"]
    interrupts.clear()
    signal.signal(signal.SIGTERM, interrupts.on_signal)
    signal.signal(signal.SIGINT, interrupts.on_signal)
    interrupts.install_unraisable_hook()  # no traceback for a signal whose exception Python drops
    try:
        code = cli.main(args=args, prog_name="reportgen", standalone_mode=False)
        interrupts.check()  # a signal whose exception Python dropped (see converters.interrupts)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except _PipeClosed:
        _silence_stdout()
        code = EXIT_SIGPIPE
    except click.exceptions.Abort:  # click's form of a KeyboardInterrupt inside a command
        _error_line("interrupted")
        code = EXIT_SIGINT
    except click.ClickException as exc:
        _error_line(f"usage: {exc.format_message()}")
        code = EXIT_USAGE
    except ToolError as exc:
        if debug:
            traceback.print_exc()
        _error_line(exc.describe())
        code = exc.exit_code
    except KeyboardInterrupt:
        _error_line("interrupted")
        code = EXIT_SIGINT
    except interrupts.Terminated:
        _error_line("terminated")
        code = EXIT_SIGTERM
    except OSError as exc:
        if debug:
            traceback.print_exc()
        if exc.errno is None and exc.filename is None:  # not the OS's: a library error no reader converted (a bug)
            _error_line(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and report it")
            code = EXIT_SOFTWARE
        else:  # an OS error names its file when it has one; a write through an open file may not
            where = repr(exc.filename) if exc.filename is not None else "I/O error"
            _error_line(f"{where}: {exc.strerror or exc}")
            code = _os_error_code(exc)
    except Exception as exc:  # a bug: bad input must never end here
        if debug:
            traceback.print_exc()
        _error_line(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and report it")
        code = EXIT_SOFTWARE
    sys.exit(code if isinstance(code, int) else 0)
