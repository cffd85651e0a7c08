"""Findings of the session 11 audit on the containers (docs/archives.md).

2. An input that cannot be read while an archive is written is "input missing" (66),
   naming that input; only a failure to write the output is an I/O error (74).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from converters.containers import OutMember, write_archive
from converters.errors import InputMissingError
from tests.converters import builders as b
from tests.invariants import Run, assert_no_staging_left, assert_one_error_line, run_cli, tree_digest

DROP_CAPS = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
             "--bounding-set=-dac_override,-dac_read_search"]  # fmt: skip


def run_cli_unprivileged(*args: object) -> Run:
    """The CLI as a user for whom a chmod 000 file is unreadable (root without CAP_DAC_OVERRIDE)."""
    if os.geteuid() != 0:
        return run_cli(*args)
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    proc = subprocess.run([*DROP_CAPS, sys.executable, "-m", "reportgen", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, "CI": "1"}, timeout=120)  # fmt: skip
    return Run(proc.returncode, proc.stdout, proc.stderr)


# ---------------------------------------------------------------- 2. unreadable input while writing
def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        yield fh.read()


@pytest.mark.parametrize("fmt", ["zip", "tar.gz", "tar.zst"])
def test_a_member_whose_input_is_gone_is_input_missing_naming_it(tmp_path: Path, fmt: str):
    gone = tmp_path / "gone.bin"
    members = [OutMember("a.txt", data=b"a"), OutMember("b.bin", size=3, chunks=_file_chunks(gone))]
    with pytest.raises(InputMissingError) as caught:
        write_archive(tmp_path / "out", fmt, members)
    assert caught.value.file == str(gone) and "No such file" in caught.value.reason
    assert not (tmp_path / "out").exists()
    assert_no_staging_left(tmp_path)


def test_a_members_generator_that_cannot_read_is_input_missing(tmp_path: Path):
    def members() -> Iterator[OutMember]:
        yield OutMember("a.txt", data=b"a")
        yield OutMember("b.txt", data=(tmp_path / "gone.txt").read_bytes())

    with pytest.raises(InputMissingError) as caught:
        write_archive(tmp_path / "out.zip", "zip", members())
    assert caught.value.file == str(tmp_path / "gone.txt")
    assert_no_staging_left(tmp_path)


def test_an_unreadable_file_of_a_folder_archive_exits_66(tmp_path: Path):
    src = b.write_container(tmp_path / "in", b.build_members("0.13"), "folder")
    locked = next(p for p in sorted(src.rglob("*")) if p.is_file() and "nodes" in p.parts)
    os.chmod(locked, 0)
    before = tree_digest(src)
    try:
        run = run_cli_unprivileged("archive", "migrate", src, tmp_path / "out.aiida")
    finally:
        os.chmod(locked, 0o644)
    assert_one_error_line(run, 66, "permission denied", str(locked))
    assert not (tmp_path / "out.aiida").exists()
    assert_no_staging_left(tmp_path)
    os.chmod(locked, 0)
    assert tree_digest(src) == before
    os.chmod(locked, 0o644)


# ---------------------------------------------------------------- 4. SOURCE_DATE_EPOCH
@pytest.mark.parametrize("value", ["\u00b2", "\u0663", " 3", "-1", "1.5", "99999999999", str(8**11)])
def test_a_bad_source_date_epoch_is_a_usage_error_naming_it(tmp_path: Path, value: str):
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.13"), "zip")
    run = run_cli("archive", "migrate", src, tmp_path / "out.tar.gz", env={"SOURCE_DATE_EPOCH": value})
    assert_one_error_line(run, 64, "not a number of seconds", "SOURCE_DATE_EPOCH")
    assert not (tmp_path / "out.tar.gz").exists()
    assert_no_staging_left(tmp_path)


@pytest.mark.parametrize(("value", "mtime"), [("", 315_619_200), ("0", 315_619_200), ("1700000000", 1_700_000_000),
                                              (str(8**11 - 1), 8**11 - 1)])  # fmt: skip
def test_source_date_epoch_sets_tar_mtimes_without_pax_timestamps(tmp_path: Path, monkeypatch, value: str, mtime: int):
    import tarfile

    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    write_archive(tmp_path / "out.tar.gz", "tar.gz", [OutMember("a/", is_dir=True), OutMember("a/b.txt", data=b"b")])
    with tarfile.open(tmp_path / "out.tar.gz") as tf:
        members = tf.getmembers()
    assert [m.mtime for m in members] == [mtime, mtime]
    assert all(m.pax_headers == {} for m in members)


def test_source_date_epoch_is_public_for_the_bundle(monkeypatch):
    from converters.containers import source_date_epoch
    from converters.errors import UsageError

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert source_date_epoch() is None
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert source_date_epoch() == 86400
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "\u00b2")
    with pytest.raises(UsageError):
        source_date_epoch()


# ---------------------------------------------------------------- 5. names that promise another container
@pytest.mark.parametrize("name", ["x.tar", "x.TAR", "x.tar.zstd", "x.zst", "x.zstd", "x.gz", "x.tar.xz", "x.tar.bz2"])
def test_an_output_named_for_an_unwritten_container_is_a_usage_error(tmp_path: Path, name: str):
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.13"), "zip")
    run = run_cli("archive", "migrate", src, tmp_path / name)
    assert_one_error_line(run, 64, "--format", name)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(("name", "fmt"), [("x.aiida", "zip"), ("x.zip", "zip"), ("x.data", "zip"), ("x", "zip"),
                                           ("x.tgz", "tar.gz"), ("x.tar.gz", "tar.gz"), ("x.tzst", "tar.zst"),
                                           ("x.tar.zst", "tar.zst")])  # fmt: skip
def test_known_and_unknown_suffixes_keep_their_format(name: str, fmt: str):
    from converters.containers import guess_format

    assert guess_format(Path(name)) == fmt


def test_format_given_overrides_a_tar_name(tmp_path: Path):
    import tarfile

    src = b.write_container(tmp_path / "in.zip", b.build_members("0.13"), "zip")
    assert run_cli("archive", "migrate", src, tmp_path / "x.tar", "--format", "tar.gz").code == 0
    assert tarfile.is_tarfile(tmp_path / "x.tar")


# ---------------------------------------------------------------- 6. temporary names of a long output name
@pytest.mark.parametrize(("stem", "to"), [("a" * 249, "0.13"), ("é" * 122, "0.13"), ("m" * 249, "main_0001")])
def test_any_output_name_the_os_accepts_can_be_written(tmp_path: Path, stem: str, to: str):
    src = b.write_container(tmp_path / "in.tar.gz", b.build_members("0.12"), "tar.gz")
    out = tmp_path / "out"
    out.mkdir()
    name = stem + ".aiida"  # 255 bytes: NAME_MAX
    assert len(name.encode()) <= 255
    run = run_cli("archive", "migrate", src, out / name, "--to", to)
    assert run.code == 0, run.stderr
    assert [p.name for p in out.iterdir()] == [name]


def test_temporary_stems_of_long_names_stay_distinct():
    from converters.workdirs import temp_stem

    one, two = Path("a" * 240 + "1.aiida"), Path("a" * 240 + "2.aiida")
    assert temp_stem(Path("m.aiida")) == "m.aiida"
    assert temp_stem(one) != temp_stem(two) and len(temp_stem(one).encode()) < 200


# ---------------------------------------------------------------- 7. what a killed run left behind
def _dead_pid() -> int:
    """The pid of a process that has just ended (not reused in the moment this test takes)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


@pytest.mark.parametrize("to", ["0.13", "main_0001"])
def test_a_killed_runs_staging_file_and_work_folder_are_swept_by_the_next_run(tmp_path: Path, to: str):
    """kill -9 runs no cleanup; the next run of the same output removes what a dead pid left,
    and never what a live one (this test's own process) is writing."""
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.12"), "zip")
    out = tmp_path / "out"
    out.mkdir()
    dead, alive = _dead_pid(), os.getpid()
    left = [f".m.aiida.staging-{dead}.tmp", f".m.aiida.work-{dead}-k2j4x9"]
    kept = [f".m.aiida.staging-{alive}.tmp", f".m.aiida.work-{alive}-a1b2c3", ".m.aiida.staging-x.tmp", ".other.staging-1.tmp"]
    for name in left + kept:
        (out / name).mkdir() if ".work-" in name else (out / name).write_bytes(b"partial")
    (out / left[1] / "staging.sqlite3").write_bytes(b"half a database")
    run = run_cli("archive", "migrate", src, out / "m.aiida", "--to", to)
    assert run.code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(["m.aiida", *kept])
