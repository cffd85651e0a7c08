"""Archives as other tools write them: a zip root entry of any spelling, tar members GNU tar stored
sparse in posix format, and a UTF-8 name in a zip without the UTF-8 flag (Info-ZIP on Linux).
Each was a crash (exit 70) or a silent change of the data (exit 0)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.converters import builders as b
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, tree_digest


def _files(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.filename.endswith("/")}


# ---------------------------------------------------------------- a zip entry named ''
@pytest.mark.parametrize("root", ["", "/", "./"])
def test_a_zip_root_entry_of_any_spelling_is_the_root_and_nothing_else(tmp_path: Path, root: str) -> None:
    """The format reference has seen '' and './' entries in real zips; '' crashed every command
    (zipfile's ``is_dir`` indexes the name's last character)."""
    members = b.build_members("0.4")
    plain = b.write_container(tmp_path / "plain.zip", members, "zip")
    odd = tmp_path / "odd.zip"
    with zipfile.ZipFile(odd, "w") as zf:
        zf.writestr(zipfile.ZipInfo(root), b"")
        for name, data in members.items():
            zf.writestr(name, data)
    for command in (("validate",), ("inspect",)):
        run = run_cli("archive", *command, odd)
        assert run.code == 0, run.stderr
    for source in (plain, odd):
        assert run_cli("archive", "migrate", source, tmp_path / f"{source.stem}.13.zip", "--to", "0.13").code == 0
    assert _files(tmp_path / "odd.13.zip")["data.json"] == _files(tmp_path / "plain.13.zip")["data.json"]


# ---------------------------------------------------------------- GNU sparse members in posix tars
def _node_file(members: dict[str, bytes]) -> str:
    return next(name for name in members if name.startswith("nodes/"))


def test_a_sparse_member_written_by_gnu_tar_is_refused_naming_it(tmp_path: Path) -> None:
    """``tar --format=posix --sparse`` stores only the data blocks; read as they are they were a
    silently shorter file (exit 0).  Refused, naming the member's real name."""
    if shutil.which("tar") is None:
        pytest.skip("GNU tar is missing")
    members = b.build_members("0.4")
    folder = b.write_container(tmp_path / "src", members, "folder")
    sparse = Path(os.path.dirname(folder / _node_file(members))) / "big.bin"
    with open(sparse, "wb") as fh:
        fh.write(b"A" * 10)
        fh.seek(4 << 20)
        fh.write(b"B" * 10)
    rel = sparse.relative_to(folder).as_posix()
    for version in ("0.0", "1.0"):
        archive = tmp_path / f"sparse-{version}.tar"
        subprocess.run(["tar", "--format=posix", "--sparse", f"--sparse-version={version}", "-cf", archive, "-C", folder,
                        "."], check=True)  # fmt: skip
        with tarfile.open(archive) as tf:
            if not any(m.issparse() for m in tf.getmembers()):
                pytest.skip("this file system stores no holes, so tar wrote no sparse member")
        before = tree_digest(tmp_path / "src")
        out = tmp_path / f"out-{version}.zip"
        run = run_cli("archive", "migrate", archive, out, "--to", "0.13")
        line = assert_one_error_line(run, 65, "sparse member not supported", f"'{archive}'")
        assert rel in line  # the member's own name, not GNU tar's GNUSparseFile.PID/ stand-in
        assert not out.exists() and tree_digest(tmp_path / "src") == before
        assert_no_staging_left(tmp_path)


def test_a_sparse_pax_header_is_refused_in_every_command(tmp_path: Path) -> None:
    """The same, written by hand (sparse 1.0: the real name in ``GNU.sparse.name``)."""
    members = b.build_members("0.4")
    real = _node_file(members)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if name == real:
                info.name = f"{os.path.dirname(name)}/GNUSparseFile.0/{os.path.basename(name)}"
                info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": name,
                                    "GNU.sparse.realsize": str(len(data) + 4096)}  # fmt: skip
            tf.addfile(info, io.BytesIO(data))
    archive = tmp_path / "hand.tar"
    archive.write_bytes(buffer.getvalue())
    for args in (("validate", archive), ("inspect", archive), ("migrate", archive, tmp_path / "o.zip", "--to", "main_0001")):
        assert_one_error_line(run_cli("archive", *args), 65, "sparse member not supported", real)


# ---------------------------------------------------------------- a UTF-8 name without the zip's UTF-8 flag
def test_a_utf8_name_without_the_zips_flag_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    """Info-ZIP on Linux writes names so: the bytes are UTF-8, the flag says cp437.  The line said
    "not UTF-8", which the user can see is untrue; it now says what the flag means and the remedy,
    and shows the name as the user wrote it."""
    node = b.node_dir(b.U["3"])
    members = {**b.build_members("0.12"), f"{node}/path/ZAB": b"x"}  # ASCII: zipfile leaves bit 11 clear
    archive = b.write_container(tmp_path / "in.zip", members, "zip")
    archive.write_bytes(archive.read_bytes().replace(b"/path/ZAB", "/path/Zé".encode()))
    line = assert_one_error_line(run_cli("archive", "validate", archive), 65, "bit 11 clear")
    assert f"{node}/path/Zé" in line and "re-create the zip" in line
