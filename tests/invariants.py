"""The invariants every negative test asserts (security reference, section 7).

One shared helper so that every bad-input test checks the same contract:
exactly one error line naming the file (and member) with a reason keyword, the
documented exit code, no traceback, nothing half-written left behind, and the
input unchanged.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ERROR_LINE = re.compile(r"^reportgen: error: (?P<where>'.*?'(?::'.*?')?|usage|[^:]+): (?P<reason>.+)$")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: object, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
    """Run ``python -m reportgen`` as a real process, as a user would."""
    full_env = dict(os.environ)
    full_env["CI"] = "1"
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "reportgen", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_one_error_line(run: Run, code: int, keyword: str, file_part: str = "") -> str:
    """Exactly one ``reportgen: error:`` line, no traceback, the given exit code."""
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.code == code, f"exit {run.code} != {code}; stderr={run.stderr!r}"
    assert "Traceback" not in run.stderr, run.stderr
    errors = [line for line in lines if line.startswith("reportgen: error: ")]
    assert len(errors) == 1, f"want one error line, got {lines!r}"
    assert ERROR_LINE.match(errors[0]), errors[0]
    assert keyword.lower() in errors[0].lower(), f"{keyword!r} not in {errors[0]!r}"
    if file_part:
        assert file_part in errors[0], f"{file_part!r} not in {errors[0]!r}"
    return errors[0]


def tree_digest(root: Path) -> dict[str, tuple[str, int, int]]:
    """sha256, mtime_ns and mode of every file under ``root`` (symlinks not followed)."""
    digest: dict[str, tuple[str, int, int]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_file() and not path.is_symlink():
            try:
                data = path.read_bytes()
            except PermissionError:
                data = b"<unreadable>"
            digest[str(path.relative_to(root))] = (hashlib.sha256(data).hexdigest(), st.st_mtime_ns, st.st_mode)
        else:
            digest[str(path.relative_to(root))] = ("", st.st_mtime_ns, st.st_mode)
    return digest


def assert_no_staging_left(parent: Path) -> None:
    leftovers = [p.name for p in parent.iterdir() if ".staging-" in p.name or p.name.endswith(".tmp")]
    assert not leftovers, leftovers



def run_on_terminal(*args: object, columns: int = 120) -> tuple[int, str]:
    """``python -m reportgen`` with stderr on a pseudo-terminal (``columns`` wide: in a terminal of
    0 columns, a pty's default, tqdm draws nothing), CI unset: as a person runs it.  Returns the
    exit code and everything drawn on the terminal."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.Popen([sys.executable, "-m", "reportgen", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=follower, env=env)  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return proc.wait(timeout=300), seen.decode("utf-8", "replace")
