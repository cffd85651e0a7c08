"""Numbers in formats that write ASCII digits are read as ASCII digits only.

``\\d`` and ``str.isdigit()`` also take the digits of other scripts (``١٢``,
Arabic-Indic) and ``int()`` reads them, so a value no writer of the format
makes was taken as a number: a pid in a leftover's name (the file was
removed as a dead run's), a bag's Payload-Oxum, a git commit's time, a legacy
row's pk.  Each test here failed before: the value was read as the number.
"""

from __future__ import annotations

import os
from pathlib import Path

from converters.validate import validate
from converters.workdirs import remove_stale, temp_stem
from reportgen.bundle import check_oxum
from reportgen.readers.git import parse_ident
from tests.converters_main.builders import legacy_013, write_legacy

ARABIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")


def _dead_pid() -> int:
    """A pid below this system's pid_max that no process has."""
    top = int(Path("/proc/sys/kernel/pid_max").read_text())
    return next(pid for pid in range(top - 1, 300, -1) if not os.path.exists(f"/proc/{pid}"))


def test_a_leftover_named_with_other_digits_is_not_taken_for_a_dead_run(tmp_path):
    dst = tmp_path / "out.aiida"
    dead = str(_dead_pid())
    planted = tmp_path / f".{temp_stem(dst)}.staging-{dead.translate(ARABIC)}.tmp"
    planted.write_bytes(b"not ours")
    ours = tmp_path / f".{temp_stem(dst)}.staging-{dead}.tmp"
    ours.write_bytes(b"a killed run's")
    assert remove_stale(dst) == [ours.name]
    assert planted.exists()


def test_payload_oxum_in_other_digits_is_not_octets_count(tmp_path):
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    (bag / "data" / "f").write_bytes(b"abc")
    (bag / "bag-info.txt").write_text("Payload-Oxum: " + "3.1".translate(ARABIC) + "\n", encoding="utf-8")
    problems = check_oxum(bag, ["data/f"])
    assert [p.kind for p in problems] == ["changed"]
    assert "is not OCTETS.COUNT" in problems[0].detail
    (bag / "bag-info.txt").write_text("Payload-Oxum: 3.1\n", encoding="utf-8")
    assert check_oxum(bag, ["data/f"]) == []


def test_a_commit_time_in_other_digits_is_no_time():
    name, email, when = parse_ident("Ada <ada@example.org> " + "1656161234".translate(ARABIC) + " +0200")
    assert when is None and email == ""
    assert parse_ident("Ada <ada@example.org> 1656161234 +0200")[2] is not None


def test_legacy_validate_refuses_a_pk_in_other_digits(tmp_path: Path):
    metadata, data, files = legacy_013()
    nodes = data["export_data"]["Node"]
    nodes["3".translate(ARABIC)] = nodes.pop("3")
    nodes["\u00b2"] = nodes.pop("2")  # superscript two: str.isdigit() says yes, int() refuses it
    src = write_legacy(tmp_path / "in.zip", metadata, data, files)
    structure = sorted(p.path for p in validate(src) if p.code == "structure" and "primary key" in p.message)
    assert structure == sorted(['$.export_data.Node["\u0663"]', '$.export_data.Node["\u00b2"]'])
