"""File names a main archive may hold and a legacy archive cannot (review s24, F04).

POSIX and AiiDA allow a folder ``aux/``, a file ``CON`` or ``nul.txt``, a
backslash, ``A.txt`` beside ``a.txt``; the legacy reading policy refuses each
(security reference, name allowlist).  ``archive validate`` of the main
archive called it valid while ``migrate --to 0.13`` refused it, naming one
file, with no way out.  Now validate warns of each (node and file),
``migrate --to 0.13`` names every one (the first 20, then a count), and
``--allow-loss`` leaves them out with a note each.  Reading a legacy archive
that holds such a member stays refused.  Archives are reportgen main_0001
archives of the small legacy builder, their trees set by SQL.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from converters.containers import open_archive
from converters.main import convert
from converters.main.validate import validate_main
from converters.main.zipread import MainZip
from converters.validate import validate
from tests.converters_main.builders import uid
from tests.converters_main.helpers import edit_main, legacy_archive, rows
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli

UNHOLDABLE = ["A.txt/a.txt", "CON", "a\\b.txt", "aux/out.dat"]  # "A.txt/a.txt": a.txt collides with A.txt


@pytest.fixture()
def named(tmp_path: Path) -> Path:
    """Node 3: four refused names beside two good ones; node 4: only a refused one."""
    main = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), main)
    with MainZip(main) as zf:
        k1, k2 = zf.keys[:2]
    tree3 = {"o": {"ok.txt": {"k": k1}, "A.txt": {"k": k1}, "a.txt": {"k": k2}, "CON": {"k": k2}, "a\\b.txt": {"k": k1},
                   "aux": {"o": {"out.dat": {"k": k2}}}, "sub": {"o": {"fine.dat": {"k": k2}}}}}  # fmt: skip
    tree4 = {"o": {"nul.txt": {"k": k1}}}
    return edit_main(main, tmp_path / "names.aiida",
                     *(f"UPDATE db_dbnode SET repository_metadata = '{json.dumps(t).replace(chr(39), chr(39) * 2)}' WHERE id = {n}"
                       for n, t in ((3, tree3), (4, tree4))))  # fmt: skip


def test_validate_warns_of_each_name_naming_node_and_file(named):
    problems = validate_main(named)
    assert [p for p in problems if p.severity == "error"] == []
    warned = [p for p in problems if p.code == "legacy-unholdable-name"]
    assert len(warned) == 5
    text = "\n".join(p.describe() for p in warned)
    for node, name in [(3, "'a.txt'"), (3, "'CON'"), (3, "'a\\\\b.txt'"), (3, "'aux/out.dat'"), (4, "'nul.txt'")]:
        assert f"db_dbnode[{node}].repository_metadata: node {uid(node)}: {name}" in text, text
    assert "--allow-loss" in warned[0].message
    run = run_cli("archive", "validate", named)
    assert run.code == 0 and "valid (0 errors, 5 warnings)" in run.stdout, run.stdout


def test_migrate_down_names_every_such_file_and_writes_nothing(tmp_path, named):
    out = tmp_path / "out.zip"
    run = run_cli("archive", "migrate", named, out, "--to", "0.13")
    line = assert_one_error_line(run, 65, "would lose information: 5 node files whose names", "names.aiida")
    for name in ("'A.txt' and 'a.txt'", "'CON'", "'a\\\\b.txt'", "'aux/out.dat'", "'nul.txt'", "--allow-loss"):
        assert name in line, line
    assert not out.exists()
    assert_no_staging_left(tmp_path)


def test_more_than_twenty_are_named_up_to_twenty_and_counted(tmp_path):
    main = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), main)
    with MainZip(main) as zf:
        key = zf.keys[0]
    tree = {"o": {f"com{i % 10}.{i}": {"k": key} for i in range(25)} | {"keep.txt": {"k": key}}}
    bad = edit_main(main, tmp_path / "many.aiida", f"UPDATE db_dbnode SET repository_metadata = '{json.dumps(tree)}' WHERE id = 2")
    line = assert_one_error_line(run_cli("archive", "migrate", bad, tmp_path / "o.zip", "--to", "0.13"), 65, "25 node files")
    assert line.count("unsafe member name") == 20 and "5 more such files" in line, line
    result = convert(bad, tmp_path / "o.zip", to_version="0.13", allow_loss=True)
    left_out = [n for n in result.notes if "left out" in n]
    assert len(left_out) == 21 and left_out[-1].endswith("left out 5 more such files"), left_out


@pytest.mark.parametrize(("to", "fmt"), [("0.13", "zip"), ("0.4", "tar.gz")])
def test_allow_loss_leaves_them_out_with_a_note_each(tmp_path, named, to, fmt):
    out = tmp_path / f"out.{fmt}"
    run = run_cli("archive", "migrate", named, out, "--to", to, "--allow-loss")
    assert run.code == 0, run.stderr
    notes = [line for line in run.stdout.splitlines() if "left out" in line]
    assert len(notes) == 5, run.stdout
    assert "main_0000 -> 0.13 lost: 5 node files whose names a legacy archive cannot hold safely" in run.stdout
    with open_archive(out) as archive:
        names = [m.name for m in archive.listing.members]
        assert archive.listing.warnings == ()
    u3, u4 = uid(3), uid(4)
    node3 = f"nodes/{u3[:2]}/{u3[2:4]}/{u3[4:]}/path/"
    assert sorted(n[len(node3):] for n in names if n.startswith(node3)) == ["A.txt", "ok.txt", "sub/fine.dat"]
    assert f"nodes/{u4[:2]}/{u4[2:4]}/{u4[4:]}/path" in names  # its only file left out: the folder stays
    assert [p for p in validate(out) if p.severity == "error"] == []
    up = tmp_path / "up.aiida"
    convert(out, up)
    (tree,) = [json.loads(t) for (t,) in rows(up, "SELECT repository_metadata FROM db_dbnode WHERE id = 3")]
    assert sorted(tree["o"]) == ["A.txt", "ok.txt", "sub"]


def test_a_legacy_archive_holding_such_a_member_is_still_refused_on_reading(tmp_path):
    """A legacy archive is extracted to disk by its readers: the security rules keep refusing it."""
    src = legacy_archive(tmp_path)
    u = uid(2)
    with zipfile.ZipFile(src, "a") as zf:
        zf.writestr(f"nodes/{u[:2]}/{u[2:4]}/{u[4:]}/path/aux/out.dat", b"x")
    assert_one_error_line(run_cli("archive", "inspect", src), 65, "unsafe member name", "aux/out.dat")
