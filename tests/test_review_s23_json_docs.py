"""Data steward review, session 23, finding 7: every --json document is documented in docs/cli.md
("JSON output"): each key of each `format`, every problem `code` the converters can emit (found in
their source, not listed by hand) with its severity, and every problem kind of `bundle verify`.

Run ``python -m tests.test_review_s23_json_docs`` to print the codes found in the source.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

from tests.invariants import run_cli

ROOT = Path(__file__).resolve().parents[1]
SEVERITIES = ("error", "warning")
# what a code built with an f-string is formatted with (legacy_to_main: null-{section}, missing-{section})
FORMATTED = {"section": ("node_attributes", "node_extras")}


def _text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _code_texts(node: ast.AST) -> list[str]:
    """The codes an argument can be: a literal, either branch of ``a if c else b``, an f-string over
    a name of FORMATTED.  Anything else is an error: a new way to build a code must be taught here."""
    if _text(node) is not None:
        return [_text(node)]
    if isinstance(node, ast.IfExp):
        return _code_texts(node.body) + _code_texts(node.orelse)
    if isinstance(node, ast.JoinedStr):
        texts = [""]
        for part in node.values:
            if _text(part) is not None:
                texts = [t + _text(part) for t in texts]
            elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name) \
                    and part.value.id in FORMATTED:
                texts = [t + value for t in texts for value in FORMATTED[part.value.id]]
            else:
                raise AssertionError(f"a problem code formatted from {ast.unparse(part)}")
        return texts
    raise AssertionError(f"a problem code built from {ast.unparse(node)}")


def emitted_codes() -> dict[str, set[str]]:
    """code -> severities, from every call that records a problem in converters/:
    ``log.add(SEVERITY, CODE, ...)``, ``Problem(SEVERITY, CODE, ...)`` and the legacy validator's
    ``self.add(CODE, path, message[, SEVERITY])`` (converters/validate.py).  The pass-through calls
    inside the collectors themselves (``Problem(severity, code, ...)``) are skipped."""
    codes: dict[str, set[str]] = {}
    for path in sorted((ROOT / "converters").rglob("*.py")):
        legacy_checker = path == ROOT / "converters" / "validate.py"
        collector = path == ROOT / "converters" / "main" / "problems.py"  # passes on the codes it was given
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args = node.args
            if collector and isinstance(args[1:2] and args[1], ast.Name):
                continue
            if name in ("add", "Problem") and _text(args[0]) in SEVERITIES and len(args) > 1:
                for code in _code_texts(args[1]):
                    codes.setdefault(code, set()).add(_text(args[0]))
            elif name == "add" and legacy_checker and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == "self" and len(args) >= 3:
                severity = _text(args[3]) if len(args) > 3 else "error"
                for code in _code_texts(args[0]):
                    codes.setdefault(code, set()).add(severity)
    return codes


def json_section() -> str:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    start = text.index("\n## JSON output")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def documented_codes() -> dict[str, set[str]]:
    """The rows ``| `code` | severities | ...`` of the code tables of the JSON section."""
    rows = re.findall(r"^\| `([a-z0-9_-]+)` \| ((?:error|warning)(?:, (?:error|warning))*) \|", json_section(), re.MULTILINE)
    return {code: set(severities.split(", ")) for code, severities in rows}


def test_the_source_scan_finds_the_codes_it_should():
    """The scan is not vacuous: codes of each kind of call are found, with their severities."""
    codes = emitted_codes()
    assert codes["blob-hash"] == {"error"}  # log.add in converters/main/validate.py
    assert codes["no-repository"] == {"warning"}  # self.add(..., "warning") in converters/validate.py
    assert codes["structure"] == {"error", "warning"}
    assert {"null-node_extras", "missing-node_attributes", "missing-table", "missing-column"} <= set(codes)
    assert codes["unreadable-member"] == {"error"}  # Problem("error", ...)
    assert len(codes) > 30


def test_every_problem_code_is_documented_with_its_severities():
    emitted, documented = emitted_codes(), documented_codes()
    missing = sorted(set(emitted) - set(documented))
    assert not missing, f"problem codes not in docs/cli.md's JSON output tables: {missing}"
    wrong = {code: (sorted(documented[code]), sorted(s)) for code, s in emitted.items() if documented[code] != s}
    assert not wrong, f"documented severities differ from the code's: {wrong}"
    stale = sorted(set(documented) - set(emitted))
    assert not stale, f"documented codes no code emits: {stale}"


def test_every_bundle_verify_kind_is_documented():
    from reportgen.bundle import KINDS

    source = (ROOT / "reportgen" / "bundle.py").read_text(encoding="utf-8")
    used = set(re.findall(r'BagProblem\("([a-z]+)"', source))
    assert used == set(KINDS)
    section = json_section()
    assert all(f"`{kind}`" in section for kind in KINDS)


def _documented_keys(fmt: str) -> set[str]:
    """The `key` names of the key table under the heading naming ``fmt``, and of the common
    ``error`` table before the first heading."""
    section = json_section()
    start = section.index(f"### `{fmt}`")
    end = section.find("\n### ", start + 1)
    block = section[:section.index("\n### ")] + (section[start:] if end < 0 else section[start:end])
    return set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", block, re.MULTILINE))


def _keys(doc: object, prefix: str = "") -> set[str]:
    """Every key path of a JSON document: ``groups[].label``; the keys of count maps are data, not schema."""
    if isinstance(doc, dict):
        found = set()
        for key, value in doc.items():
            found.add(prefix + key)
            if key not in ("entities", "node_types", "link_types"):
                found |= _keys(value, prefix + key + ".")
        return found
    if isinstance(doc, list) and doc:
        return _keys(doc[0], prefix[:-1] + "[].")
    return set()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.export.test_audit_fixes import write_store

    root = tmp_path_factory.mktemp("s23json")
    write_store(root / "data_store")
    assert run_cli("export", root / "data_store", "-o", root / "a.aiida").code == 0
    return root / "a.aiida"


def test_every_key_of_every_archive_document_is_documented(archive: Path, tmp_path: Path):
    from converters.inspect import ArchiveSummary, GroupSummary

    inspect = json.loads(run_cli("archive", "inspect", "--json", archive).stdout)
    assert {f.name for f in fields(ArchiveSummary)} | {"format"} == set(inspect)
    assert {f"groups[].{f.name}" for f in fields(GroupSummary)} <= _keys(inspect)
    assert _keys(inspect) <= _documented_keys("reportgen-archive-inspect/1")
    (tmp_path / "junk.aiida").write_bytes(b"junk")
    validate_docs = [json.loads(run_cli("archive", "validate", "--json", path).stdout)
                     for path in (archive, tmp_path / "junk.aiida")]
    validate_docs[0]["problems"] = [{"severity": "", "code": "", "path": "", "message": ""}]  # a valid one has none
    for doc in validate_docs:
        assert _keys(doc) <= _documented_keys("reportgen-archive-validate/1"), _keys(doc)
    failed = json.loads(run_cli("archive", "inspect", "--json", tmp_path / "junk.aiida").stdout)
    assert _keys(failed) <= _documented_keys("reportgen-archive-inspect/1")


def test_every_key_of_the_bundle_verify_document_is_documented(tmp_path: Path):
    from reportgen.bundle import BagProblem, VerifyReport

    doc = json.loads(VerifyReport("b", 1, (BagProblem("missing", "data/x"),)).render_json())
    assert _keys(doc) <= _documented_keys("reportgen-bundle-verify/1")
    run = run_cli("bundle", "verify", "--json", tmp_path / "none")
    assert _keys(json.loads(run.stdout)) <= _documented_keys("reportgen-bundle-verify/1")


if __name__ == "__main__":
    for code, severities in sorted(emitted_codes().items()):
        print(f"| `{code}` | {', '.join(sorted(severities))} |")
