"""Gold test: the whole site of a small example data_store against a stored tree.

Text files (HTML, JS, JSON) are stored scrubbed of the tool version, the theme
hash and build timings; every other file (plotly.min.js, NPY, CSV, log copies)
is pinned by its sha256 in ``SHA256SUMS``.  Update after an intended change:

    make gold        # REPORTGEN_UPDATE_GOLD=1 pytest tests -k gold
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from reportgen import __version__
from reportgen.site.build import BuildOptions, build_site

GOLD = Path(__file__).parent / "gold" / "example"
TEXT = (".html", ".js", ".json", ".xml")
PINNED_ELSEWHERE = {"assets/plotly.min.js"}  # from the installed plotly: its version is not ours to pin


def scrub(relative: str, text: str) -> str:
    text = text.replace(f"reportgen {__version__}", "reportgen VERSION")
    if relative == "build-report.json":
        report = json.loads(text)
        report["timings"] = {}
        return json.dumps(report, indent=2, sort_keys=True) + "\n"
    if relative == "build-manifest.json":
        text = re.sub(r'"(theme|tool|fingerprint)": "[^"]*"', r'"\1": "SCRUBBED"', text)
    return text


def build_gold_view(site: Path) -> tuple[dict[str, str], str]:
    texts, sums = {}, []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        relative = path.relative_to(site).as_posix()
        if relative in PINNED_ELSEWHERE:
            continue
        if relative.endswith(TEXT):
            texts[relative] = scrub(relative, path.read_text(encoding="utf-8"))
        else:
            sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {relative}")
    return texts, "\n".join(sums) + "\n"


def write_gold(texts: dict[str, str], sums: str) -> None:
    shutil.rmtree(GOLD, ignore_errors=True)
    for relative, text in texts.items():
        (GOLD / relative).parent.mkdir(parents=True, exist_ok=True)
        (GOLD / relative).write_text(text, encoding="utf-8")
    (GOLD / "SHA256SUMS").write_text(sums)


def test_gold_site(tmp_path: Path) -> None:
    from reportgen.example import write_example

    write_example(tmp_path / "data_store", seed=0, jobs_per_project=1)
    build_site(tmp_path / "data_store", tmp_path / "site", BuildOptions(workers=1, show_progress=False))
    texts, sums = build_gold_view(tmp_path / "site")
    if os.environ.get("REPORTGEN_UPDATE_GOLD"):
        write_gold(texts, sums)
    assert GOLD.is_dir(), "no gold tree yet: run `make gold`"
    stored = {p.relative_to(GOLD).as_posix() for p in GOLD.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert sorted(stored) == sorted(texts), "the set of files changed; `make gold` after checking"
    for relative, text in texts.items():
        want = (GOLD / relative).read_text(encoding="utf-8")
        if want != text:
            diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True), "gold", "now", n=1))
            pytest.fail(f"{relative} differs from gold (run `make gold` if intended):\n{diff[:3000]}")
    assert (GOLD / "SHA256SUMS").read_text() == sums
