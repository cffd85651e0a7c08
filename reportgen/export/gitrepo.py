"""Git bundles of a project's repositories, and rebuilding bare repositories from them.

Why this module runs git at all: the export must carry *whole* histories
(``git bundle create``) and restore must rebuild bare repositories from
bundles; ``reportgen/readers/git.py`` (the only git *reader*, used here for
blobs) offers neither.  Every call goes through ``run_git`` with a hardened
environment: no system or global config, hooks and fsmonitor off, replace
objects ignored, no prompts, no optional locks, one pack thread (so that the
same repository gives byte-identical bundles).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from reportgen.errors import BadInputError, WriteError

_HARDENING = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "core.sshCommand=false",
    "-c", "protocol.allow=never",
    "-c", "protocol.file.allow=always",
    "-c", "pack.threads=1",
    "-c", "pack.deltaCacheSize=0",
    "-c", "gc.auto=0",
    "-c", "init.defaultBranch=main",
)


def git_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
    }


def run_git(git_dir: Path, *args: str, stdin: bytes | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """One git command on ``git_dir``; never raises on a git failure (callers check returncode)."""
    command = ["git", *_HARDENING, f"--git-dir={git_dir}", *args]
    try:
        return subprocess.run(command, input=stdin, capture_output=True, env=git_env(), timeout=timeout, check=False)
    except FileNotFoundError:
        return subprocess.CompletedProcess(command, 127, b"", b"git not found")


def read_head(git_dir: Path) -> str:
    """Content of HEAD ("ref: refs/heads/main\\n"); "" when absent or unreadable."""
    try:
        with open(git_dir / "HEAD", "rb") as fh:
            return fh.read(4096).decode("utf-8", "replace")  # a real HEAD is one short line
    except OSError:
        return ""


def read_bundle(git_dir: Path) -> bytes | None:
    """A bundle of every ref of ``git_dir``, or None when git cannot make one (empty, broken)."""
    with tempfile.TemporaryDirectory(prefix="reportgen-bundle-") as tmp:
        target = Path(tmp) / "repo.bundle"
        done = run_git(git_dir, "bundle", "create", "--quiet", str(target), "--all")
        if done.returncode != 0 or not target.is_file():
            return None
        return target.read_bytes()


def read_refs(git_dir: Path) -> dict[str, str]:
    """ref name -> commit SHA for every ref (what restore must give back)."""
    done = run_git(git_dir, "for-each-ref", "--format=%(refname) %(objectname)")
    if done.returncode != 0:
        return {}
    refs = {}
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        name, _, sha = line.partition(" ")
        refs[name] = sha
    return refs


def write_repo_from_bundle(git_dir: Path, bundle: Path, head: str) -> None:
    """A bare repository at ``git_dir`` holding every ref of ``bundle``, HEAD as recorded."""
    init = subprocess.run(
        ["git", *_HARDENING, "init", "--bare", "--quiet", str(git_dir)],
        capture_output=True, env=git_env(), check=False,
    )
    if init.returncode != 0:
        raise WriteError(git_dir, f"git init failed: {init.stderr.decode('utf-8', 'replace').strip()}")
    fetch = run_git(git_dir, "fetch", "--quiet", "--no-write-fetch-head", str(bundle), "refs/*:refs/*")
    if fetch.returncode != 0:
        raise BadInputError(bundle, f"git bundle unusable: {fetch.stderr.decode('utf-8', 'replace').strip()}")
    if head:
        (git_dir / "HEAD").write_text(head, encoding="utf-8")
