"""What the tests of a main_0001 database's checks share: a reportgen main_0001 archive made from
the small legacy builder (the tests edit copies of it by SQL or corrupt its bytes), and the errors
validate_main reports."""

from __future__ import annotations

from pathlib import Path

from converters.main import convert
from converters.main.validate import validate_main
from tests.converters_main.helpers import legacy_archive


def write_main_archive(tmp: Path) -> Path:
    """``tmp/main.aiida``: the small legacy builder's archive converted to main_0001."""
    out = tmp / "main.aiida"
    convert(legacy_archive(tmp), out)
    return out


def error_messages(path: Path) -> dict[str, str]:
    """path -> message of every error validate_main reports."""
    return {p.path: p.message for p in validate_main(path) if p.severity == "error"}
