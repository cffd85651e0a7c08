"""The reportgen command line: a table of contents over the library.

Each command is a few lines calling one library function.  Errors are caught
only here: ``main`` turns a ``ToolError`` into one line

    reportgen: error: '<file>'[:'<member>']: <reason>

and a sysexits code (docs/exit-codes.md).  ``--debug`` shows the traceback.
"""

from __future__ import annotations

import errno
import signal
import sys
import traceback
from pathlib import Path

import click

from reportgen import __version__
from reportgen.errors import (
    EXIT_IOERR,
    EXIT_NOINPUT,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_SOFTWARE,
    EXIT_USAGE,
    ToolError,
)

PathArg = click.Path(path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="reportgen")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
def cli(debug: bool) -> None:
    """Turn an Entropy Hub data_store into a static run catalog, AiiDA export
    archives and offline audit bundles, with no server running.

    \b
    Example:
      reportgen example demo/data_store
      reportgen inspect demo/data_store
    """


# ---------------------------------------------------------------- data_store
@cli.command()
@click.argument("directory", type=PathArg)
@click.option("--seed", default=0, show_default=True, help="Seed of the generator.")
@click.option("--jobs", "jobs_per_project", default=12, show_default=True, help="Jobs per project.")
@click.option("--edge-cases", is_flag=True, help="Add every bad-input case of the generator table.")
@click.option("--huge", is_flag=True, help="With --edge-cases: add the huge arrays (about 100 MB).")
@click.option("--force", is_flag=True, help="Replace DIRECTORY if it exists.")
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
    click.echo(summary)


@cli.command()
@click.argument("data_store", type=PathArg)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--strict", is_flag=True, help="Exit 65 on warnings too, not only on errors.")
@click.option("--workers", type=int, default=0, help="Reader processes (0: one per core).")
def inspect(data_store: Path, as_json: bool, strict: bool, workers: int) -> None:
    """List projects, jobs, status counts and every problem of DATA_STORE.

    Exits 0 when no problem of severity "error" was found (with --strict: no
    problem at all), 65 otherwise.

    \b
    Example:
      reportgen inspect demo/data_store --json
    """
    from reportgen.inspect_report import inspect_exit_code, render_inspect
    from reportgen.readers.datastore import read_data_store

    store = read_data_store(data_store, workers=workers)
    click.echo(render_inspect(store, as_json=as_json), nl=not as_json)
    sys.exit(inspect_exit_code(store, strict=strict))


# ---------------------------------------------------------------- site (issue: static run catalog)
# ---------------------------------------------------------------- archives (issue: converters)
# ---------------------------------------------------------------- export / restore / bundle


# ---------------------------------------------------------------- entry point
class Terminated(BaseException):
    """Raised by the SIGTERM handler so that cleanup code in finally blocks runs."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def _error_line(message: str) -> None:
    click.echo(f"reportgen: error: {message}", err=True)


def _os_error_code(exc: OSError) -> int:
    if exc.errno in (errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENOTDIR):
        return EXIT_NOINPUT
    return EXIT_IOERR


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every failure becomes one line and a documented exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = cli.main(args=args, prog_name="reportgen", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
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
    except Terminated:
        _error_line("terminated")
        code = EXIT_SIGTERM
    except OSError as exc:
        if debug:
            traceback.print_exc()
        _error_line(f"{exc.filename!r}: {exc.strerror or exc}")
        code = _os_error_code(exc)
    except Exception as exc:  # a bug: bad input must never end here
        if debug:
            traceback.print_exc()
        _error_line(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and report it")
        code = EXIT_SOFTWARE
    sys.exit(code if isinstance(code, int) else 0)
