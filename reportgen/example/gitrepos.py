"""Bare git repositories ``workflow.git`` and ``params.git`` (design decision D3).

One commit per submitted change on branch ``main``, written with the git CLI
(``git init --bare`` then one ``git fast-import`` stream), with fixed author,
committer and dates so that the SHAs are the same on every run.  git runs
with a clean environment: no system or global configuration, no templates,
no signing, so a developer's settings cannot change the result.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reportgen.errors import WriteError
from reportgen.readers.git import git_cause

GIT_OPTIONS = (
    "-c", "init.defaultBranch=main",
    "-c", "commit.gpgsign=false",
    "-c", "user.name=Entropy Hub",
    "-c", "user.email=hub@entropy.invalid",
    "-c", "core.autocrlf=false",
)


@dataclass(frozen=True)
class CommitSpec:
    """One commit: the whole tree (path -> text), who, when and why."""

    files: dict[str, str]
    message: str
    author: str
    email: str
    when: datetime  # timezone-aware


def _git_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "LANG": "C",
        "LC_ALL": "C",
        "TZ": "UTC",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
    }


def run_git(git_dir: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run one git command on ``git_dir``; a failure is a WriteError."""
    command = ["git", *GIT_OPTIONS, f"--git-dir={git_dir}", *args]
    proc = subprocess.run(command, input=stdin, capture_output=True, env=_git_env(), check=False)
    if proc.returncode != 0:
        _remove_crash_reports(git_dir)
        raise WriteError(git_dir, f"git {args[0]} failed: {git_cause(proc.stderr, proc.returncode)}")
    return proc.stdout.decode()


def _remove_crash_reports(git_dir: Path) -> None:
    """fast-import dumps ``fast_import_crash_<pid>`` into the repository when it dies: not a leftover we keep."""
    for report in git_dir.glob("fast_import_crash_*"):
        report.unlink(missing_ok=True)


def init_bare_repo(git_dir: Path) -> None:
    """An empty bare repository on ``main`` (no template files, no hooks)."""
    git_dir.parent.mkdir(parents=True, exist_ok=True)
    run_git(git_dir, "init", "--quiet", "--bare", "--template=", str(git_dir))


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def render_fast_import(commits: list[CommitSpec]) -> bytes:
    """A fast-import stream: each commit replaces the whole tree (deleteall).

    Later commits to the same branch continue from its tip inside fast-import,
    so no ``from`` line is needed.
    """
    stream = bytearray()
    for commit in commits:
        stamp = f"{int(commit.when.timestamp())} {commit.when.strftime('%z')}"
        ident = f"{commit.author} <{commit.email}> {stamp}".encode()
        stream += b"commit refs/heads/main\n"
        stream += b"author " + ident + b"\ncommitter " + ident + b"\n"
        stream += _data(commit.message.encode())
        stream += b"deleteall\n"
        for path in sorted(commit.files):
            stream += f"M 100644 inline {path}\n".encode() + _data(commit.files[path].encode())
    return bytes(stream)


def write_repo(git_dir: Path, commits: list[CommitSpec]) -> list[str]:
    """Create ``git_dir`` with ``commits`` in order; returns their SHAs."""
    init_bare_repo(git_dir)
    if not commits:
        return []
    run_git(git_dir, "fast-import", "--quiet", "--date-format=raw", stdin=render_fast_import(commits))
    return run_git(git_dir, "rev-list", "--reverse", "refs/heads/main").split()
