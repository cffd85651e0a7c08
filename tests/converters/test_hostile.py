"""Security test plan rows 1-21 (archives): each bad input gives one error line, exit 65, no output.

Every hostile archive is generated here in a few lines (security reference
section 6: prefer generating to vendoring).  Each runs the real CLI
(``reportgen archive migrate``) through ``tests.invariants``.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest
import zstandard

from converters import Limits, open_archive, validate
from converters.errors import BadInputError
from tests.converters import builders as b
from tests.invariants import assert_no_staging_left, assert_one_error_line, run_cli, tree_digest

MiB = 1024 * 1024


def good_members(version: str = "0.13") -> dict[str, bytes]:
    return b.build_members(version)


def refuse(tmp_path: Path, src: Path, keyword: str, member: str = "") -> str:
    """Migrate ``src`` through the CLI: one error line, exit 65, input untouched, no output."""
    out = tmp_path / "out" / "result.zip"
    out.parent.mkdir(exist_ok=True)
    before = digest(src)
    run = run_cli("archive", "migrate", src, out)
    line = assert_one_error_line(run, 65, keyword, repr(str(src)))
    if member:
        assert member in line, line
    assert not out.exists()
    assert_no_staging_left(out.parent)
    assert digest(src) == before
    return line


def digest(src: Path) -> object:
    """Content, mtime and mode of an input file or folder (invariant d)."""
    if src.is_dir():
        return tree_digest(src)
    st = src.stat()
    return src.read_bytes(), st.st_mtime_ns, st.st_mode


def tar_bytes(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tf.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tf.addfile(info, io.BytesIO(entry[1]))
    return buffer.getvalue()


def good_tar_entries() -> list[tuple[str, bytes]]:
    return list(good_members().items())


def zip_with(path: Path, extra: list[tuple[str, bytes]], first: bool = False) -> Path:
    members = list(good_members().items())
    members = extra + members if first else members + extra
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


# ---------------------------------------------------------------- rows 1, 2, 6: unsafe names
@pytest.mark.parametrize("name", ["../../evil.txt", "..\\..\\x", "C:x", "/abs", "nodes/aa//bb", "nodes/./x"])
def test_row_1_2_unsafe_zip_names(tmp_path, name):
    refuse(tmp_path, zip_with(tmp_path / "a.zip", [(name, b"x")]), "unsafe member name")


def test_row_2_absolute_tar_name_and_nul(tmp_path):
    src = tmp_path / "a.tar"
    src.write_bytes(tar_bytes([*good_tar_entries(), ("/abs", b"x")]))
    refuse(tmp_path, src, "unsafe member name", "/abs")
    raw = bytearray((zip_with(tmp_path / "n.zip", [("aXb", b"x")])).read_bytes())
    nul = tmp_path / "nul.zip"
    nul.write_bytes(bytes(raw).replace(b"aXb", b"a\x00b"))
    refuse(tmp_path, nul, "unsafe member name")


def test_root_directory_entry_is_the_archive_itself_not_a_name(tmp_path):
    """AiiDA 0.9's own tar.gz exports (0.2) open with a directory entry named "/": the root, skipped."""
    root = tarfile.TarInfo("/")
    root.type = tarfile.DIRTYPE
    src = tmp_path / "a.tar.gz"
    src.write_bytes(gzip.compress(tar_bytes([root, *good_tar_entries()]), mtime=0))
    assert "metadata.json" in open_archive(src).files
    out = tmp_path / "out.zip"
    run = run_cli("archive", "migrate", src, out)
    assert run.code == 0, run.stderr
    assert "/" not in zipfile.ZipFile(out).namelist()


def test_a_file_named_like_the_root_is_still_refused(tmp_path):
    src = tmp_path / "a.tar"
    src.write_bytes(tar_bytes([*good_tar_entries(), ("/", b"x")]))
    refuse(tmp_path, src, "unsafe member name")


def test_row_6_bad_member_after_good_ones_leaves_nothing(tmp_path):
    src = tmp_path / "a.tar.gz"
    src.write_bytes(gzip.compress(tar_bytes([*good_tar_entries(), ("../evil", b"x")]), mtime=0))
    refuse(tmp_path, src, "unsafe member name", "../evil")
    assert not (tmp_path / "evil").exists()


# ---------------------------------------------------------------- rows 3-5: links and special files
def _info(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    "entries",
    [[_info("nodes", tarfile.SYMTYPE, ".."), ("nodes/evil", b"x")], [_info("metadata.json", tarfile.SYMTYPE, "/etc/passwd")],
     [_info("data.json", tarfile.LNKTYPE, "/etc/passwd")], [_info("data.json", tarfile.LNKTYPE, "metadata.json")]],
)  # fmt: skip
def test_row_3_4_links_refused(tmp_path, entries):
    src = tmp_path / "a.tar"
    src.write_bytes(tar_bytes([("metadata.json", b"{}"), *entries]))
    refuse(tmp_path, src, "link members not allowed")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.FIFOTYPE, tarfile.BLKTYPE])
def test_row_5_special_files_refused(tmp_path, kind):
    src = tmp_path / "a.tar"
    src.write_bytes(tar_bytes([*good_tar_entries(), _info("nodes/aa/bb/dev", kind)]))
    refuse(tmp_path, src, "special file")


def test_row_5_setuid_mode_is_written_as_0644(tmp_path):
    entries = []
    for name, data in good_tar_entries():
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o4777
        entries.append((info, data))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for info, data in entries:
            tf.addfile(info, io.BytesIO(data))
    src = tmp_path / "a.tar"
    src.write_bytes(buffer.getvalue())
    out = tmp_path / "o.tar.gz"
    assert run_cli("archive", "migrate", src, out).code == 0
    with tarfile.open(out) as tf:
        assert {m.mode for m in tf.getmembers() if m.isfile()} == {0o644}


# ---------------------------------------------------------------- rows 7-9: duplicates, collisions, encodings
def test_row_7_duplicate_member(tmp_path):
    with pytest.warns(UserWarning):
        src = zip_with(tmp_path / "a.zip", [("metadata.json", b"{}")])
    refuse(tmp_path, src, "duplicate member metadata.json")


@pytest.mark.parametrize("extra", ["Data.json", b.node_dir(b.U["3"]) + "/path/AIIDA.IN"])
def test_row_8_case_collision(tmp_path, extra):
    refuse(tmp_path, zip_with(tmp_path / "a.zip", [(extra, b"{}")]), "names collide")


def test_row_8_nfc_nfd_collision(tmp_path):
    base = b.node_dir(b.U["3"]) + "/path/"
    src = zip_with(tmp_path / "a.zip", [(base + "caf\u00e9", b"1"), (base + "cafe\u0301", b"2")])
    line = refuse(tmp_path, src, "names collide (same text in another Unicode form)")
    assert "caf\\xe9" in line and "cafe\\u0301" in line  # shown apart, not as two identical names


def test_row_9_non_utf8_zip_name(tmp_path):
    src = zip_with(tmp_path / "a.zip", [("nodes/aa/bb/Z", b"x")])
    raw = src.read_bytes().replace(b"nodes/aa/bb/Z", b"nodes/aa/bb/\x81")
    src.write_bytes(raw)
    line = refuse(tmp_path, src, "name is not UTF-8")
    assert "\\x81" in line or "ü" not in line


def test_row_9_zip_name_flagged_utf8_that_is_not(tmp_path):
    src = zip_with(tmp_path / "a.zip", [("nodes/aa/bb/Z\u00e9", b"x")])  # non-ASCII: zipfile sets flag 0x800
    src.write_bytes(src.read_bytes().replace("Z\u00e9".encode(), b"Z\xff\xfe"))
    line = refuse(tmp_path, src, "name is not UTF-8")
    assert "\\xff" in line


def test_row_9_non_utf8_tar_name(tmp_path):
    raw = tar_bytes([*good_tar_entries(), ("nodes/aa/bb/Z", b"x")])
    src = tmp_path / "a.tar"
    header_at = raw.index(b"nodes/aa/bb/Z")
    patched = bytearray(raw)
    patched[header_at + 12] = 0x81
    patched[header_at + 148 : header_at + 156] = b"%06o\x00 " % (sum(patched[header_at : header_at + 148]) + 256 + sum(patched[header_at + 156 : header_at + 512]))
    src.write_bytes(bytes(patched))
    line = refuse(tmp_path, src, "name is not UTF-8")
    assert "\\x81" in line


# ---------------------------------------------------------------- rows 10-15: bombs and lies
def test_row_10_deflate_bomb_stops_at_ratio(tmp_path):
    """1 GiB of zeros would be 1 MB of zip: the guard stops the 320 MiB here early, naming the way out."""
    src = zip_with(tmp_path / "a.zip", [])
    with zipfile.ZipFile(src, "a", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(b.node_dir(b.U["3"]) + "/path/zeros", "w") as fh:
            for _ in range(320):  # past the 256 MiB below which members are not ratio-checked
                fh.write(bytes(MiB))
    assert src.stat().st_size < 2 * MiB
    line = refuse(tmp_path, src, "exceeds size budget", "zeros")
    assert "--max-ratio" in line  # the way out for honest data is named


@pytest.mark.parametrize("target", ["0.13", "0.12", "main_0001"])
def test_row_10_max_ratio_lets_honest_compressible_data_through(tmp_path, target):
    src = zip_with(tmp_path / "a.zip", [])
    with zipfile.ZipFile(src, "a", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(b.node_dir(b.U["3"]) + "/path/zeros", "w") as fh:
            for _ in range(260):
                fh.write(bytes(MiB))
    out = tmp_path / "out.zip"
    run = run_cli("archive", "migrate", src, out, "--to", target, "--max-ratio", "inf")
    assert run.code == 0, run.stderr
    assert run_cli("archive", "validate", out, "--max-ratio", "inf").code == 0
    default = run_cli("archive", "validate", out)  # validate reads every member, as migrate does
    assert default.code == 65
    assert "compression ratio over 200" in default.stdout + default.stderr


def _overlapping_zip(path: Path) -> Path:
    zip_with(path, [])
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        first, second = infos[0], infos[1]
        cd = zf.start_dir
    # point the second central-directory record at the first local header
    at = raw.index(b"PK\x01\x02" + raw[cd + 4 : cd + 6], cd)
    records = []
    while raw[at : at + 4] == b"PK\x01\x02":
        records.append(at)
        n, m, k = struct.unpack("<HHH", raw[at + 28 : at + 34])
        at += 46 + n + m + k
    struct.pack_into("<I", raw, records[1] + 42, first.header_offset)
    assert second.header_offset != first.header_offset
    path.write_bytes(bytes(raw))
    return path


def test_row_11_overlapping_entries(tmp_path):
    refuse(tmp_path, _overlapping_zip(tmp_path / "a.zip"), "overlapping entries")


def test_row_12_lying_sizes_give_crc_error(tmp_path):
    src = tmp_path / "a.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_STORED) as zf:
        for name, data in good_members().items():
            zf.writestr(name, data)
    raw = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("data.json")
    real = info.file_size
    packed = struct.pack("<II", real, real)
    for at in [i for i in range(len(raw)) if raw[i : i + 8] == packed]:
        struct.pack_into("<II", raw, at, 10, 10)
    src.write_bytes(bytes(raw))
    refuse(tmp_path, src, "corrupt member (CRC)", "data.json")


def _patched_repository_zip(path: Path, patch) -> tuple[Path, str]:
    """A good deflated zip whose first repository file's bytes go through ``patch(raw, at, info)``:
    ``at`` is where its local header starts.  Small members are read from their local header
    (``Archive._read_small_zip_member``), so these lies must be caught there."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in good_members().items():
            zf.writestr(name, data)
    with zipfile.ZipFile(path) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("nodes/") and not i.is_dir())
    raw = bytearray(path.read_bytes())
    patch(raw, info.header_offset, info)
    path.write_bytes(bytes(raw))
    return path, info.filename


def _payload_at(raw: bytearray, at: int) -> int:
    name_length, extra_length = struct.unpack_from("<HH", raw, at + 26)
    return at + 30 + name_length + extra_length


def test_small_member_with_corrupt_deflate_bytes(tmp_path):
    def garble(raw, at, info):
        start = _payload_at(raw, at)
        raw[start : start + info.compress_size] = b"\xff" * info.compress_size

    src, name = _patched_repository_zip(tmp_path / "a.zip", garble)
    refuse(tmp_path, src, "corrupt member", name)
    problems = [p for p in validate(src) if p.severity == "error"]  # validate reads the member too
    assert [(p.code, p.path) for p in problems] == [("unreadable-member", name)]


def test_small_member_whose_local_name_differs_from_the_directory(tmp_path):
    def rename(raw, at, info):
        start = at + 30
        raw[start] = ord("x") if raw[start] != ord("x") else ord("y")

    src, name = _patched_repository_zip(tmp_path / "a.zip", rename)
    refuse(tmp_path, src, "local header names", name)


def test_small_member_that_inflates_past_its_recorded_size(tmp_path):
    """A bomb in miniature: the directory says 1 byte; inflating stops at 2 and refuses."""

    def shrink(raw, at, info):
        # the file size field of the central directory entry (offset 24) and of the local header (22)
        central = next(
            pos for pos in range(len(raw) - 46)
            if raw[pos : pos + 4] == b"PK\x01\x02" and struct.unpack_from("<I", raw, pos + 42)[0] == at
        )  # fmt: skip
        struct.pack_into("<I", raw, central + 24, 1)
        struct.pack_into("<I", raw, at + 22, 1)

    src, name = _patched_repository_zip(tmp_path / "a.zip", shrink)
    refuse(tmp_path, src, "holds 2 bytes, not 1", name)


def test_small_member_whose_deflate_stream_is_cut_short(tmp_path):
    def cut(raw, at, info):
        start = _payload_at(raw, at)
        stream = zlib.compressobj(6, zlib.DEFLATED, -15)
        partial = stream.compress(b"x" * 50) + stream.flush(zlib.Z_SYNC_FLUSH)  # no final block
        assert len(partial) <= info.compress_size
        raw[start : start + info.compress_size] = partial.ljust(info.compress_size, b"\x00")[: info.compress_size]

    src, name = _patched_repository_zip(tmp_path / "a.zip", cut)
    refuse(tmp_path, src, "corrupt member", name)


def _zst_tar(entries: list[tuple[str, bytes]], big: tuple[str, int] | None = None) -> bytes:
    """A tar.zst streamed (no content size in the frame); ``big`` adds a member of zeros."""
    out = io.BytesIO()
    cctx = zstandard.ZstdCompressor(level=1, write_content_size=False)
    with cctx.stream_writer(out, closefd=False) as writer:
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.GNU_FORMAT) as tf:
            for name, data in entries:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            if big:
                info = tarfile.TarInfo(big[0])
                info.size = big[1]
                tf.addfile(info, _Zeros(big[1]))
    return out.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def test_row_13_zstd_bomb(tmp_path):
    src = tmp_path / "a.tar.zst"
    src.write_bytes(_zst_tar(good_tar_entries(), (b.node_dir(b.U["3"]) + "/path/zeros", 320 * MiB)))
    assert src.stat().st_size < MiB
    refuse(tmp_path, src, "exceeds size budget", "zeros")


def _patched_frame(raw: bytes, fhd_or: int = 0, insert_fcs: bytes = b"", window_byte: int | None = None) -> bytes:
    assert raw[:4] == b"\x28\xb5\x2f\xfd"
    fhd = raw[4]
    assert fhd >> 6 == 0 and not (fhd >> 5) & 1 and fhd & 3 == 0  # no FCS, window descriptor, no dict id
    wd = raw[5] if window_byte is None else window_byte
    return raw[:4] + bytes([fhd | fhd_or, wd]) + insert_fcs + raw[6:]


def test_row_14_forged_zstd_content_size(tmp_path):
    src = tmp_path / "a.tar.zst"
    src.write_bytes(_patched_frame(_zst_tar(good_tar_entries()), fhd_or=3 << 6, insert_fcs=struct.pack("<Q", 64 << 30)))
    refuse(tmp_path, src, "exceeds size budget")


def test_row_15_zstd_window_too_large(tmp_path):
    src = tmp_path / "a.tar.zst"
    src.write_bytes(_patched_frame(_zst_tar(good_tar_entries()), window_byte=20 << 3))  # 2^(10+20) = 1 GiB
    refuse(tmp_path, src, "zstd window 1 GiB > limit 128 MiB")


# ---------------------------------------------------------------- row 16: truncated and garbage
@pytest.mark.parametrize("container", ["zip", "tar", "tar.gz", "tar.zst"])
def test_row_16_truncated_at_60_percent(tmp_path, container):
    full = b.build_archive(tmp_path, "0.13", container).read_bytes()
    src = tmp_path / ("cut" + b.SUFFIX[container])
    src.write_bytes(full[: len(full) * 6 // 10])
    line = refuse(tmp_path, src, "")
    assert "truncated" in line or "not a valid archive" in line, line


@pytest.mark.parametrize("container", ["zip", "tar", "tar.gz", "tar.zst"])
def test_row_16_trailing_bytes(tmp_path, container):
    src = b.build_archive(tmp_path, "0.13", container)
    src.write_bytes(src.read_bytes() + b"garbage!" * 10)
    refuse(tmp_path, src, "trailing bytes")


def test_zero_padding_after_the_tar_end_marker_is_accepted(tmp_path):
    src = b.build_archive(tmp_path, "0.13", "tar")
    src.write_bytes(src.read_bytes() + bytes(20 * 512))  # a writer's record padding
    assert not [p for p in validate(src) if p.severity == "error"]


def test_row_16_random_bytes_named_zip(tmp_path):
    src = tmp_path / "random.zip"
    src.write_bytes(bytes(range(256)) * 40)
    refuse(tmp_path, src, "not a valid archive")


# ---------------------------------------------------------------- rows 17, 18
def test_row_17_entry_count_bomb_with_small_limit(tmp_path):
    members = good_members()
    members.update({b.node_dir(b.U["3"]) + f"/path/f{i}": b"" for i in range(1200)})
    src = b.write_container(tmp_path / "many.tar.gz", members, "tar.gz")
    with pytest.raises(BadInputError, match=r"too many entries \(more than 1000\)"):
        open_archive(src, Limits(max_entries=1000))
    assert len(open_archive(src).listing.members) == len(members)


def test_row_18_negative_size_tar_header(tmp_path):
    raw = bytearray(tar_bytes(good_tar_entries()))
    raw[124:136] = b"\xff" * 12  # base-256 negative size (CVE-2025-8194 shape)
    raw[148:156] = b"%06o\x00 " % (sum(raw[:148]) + 256 + sum(raw[156:512]))
    src = tmp_path / "neg.tar"
    src.write_bytes(bytes(raw))
    refuse(tmp_path, src, "malformed tar")


# ---------------------------------------------------------------- rows 19, 20
@pytest.mark.parametrize(
    ("drop", "rename", "keyword"),
    [("metadata.json", None, "missing metadata.json"), (None, "sub/metadata.json", "missing metadata.json"),
     ("data.json", None, "missing data.json")],
)  # fmt: skip
def test_row_19_missing_format_files(tmp_path, drop, rename, keyword):
    members = good_members()
    if rename:
        members[rename] = members.pop("metadata.json")
    if drop:
        members.pop(drop)
    refuse(tmp_path, b.write_container(tmp_path / "a.zip", members, "zip"), keyword)


@pytest.mark.parametrize("value", ["0.99", 13, "1.0;rm"])
def test_row_20_unknown_export_version(tmp_path, value):
    members = good_members()
    members["metadata.json"] = json.dumps({**b.build_metadata("0.13"), "export_version": value}).encode()
    line = refuse(tmp_path, b.write_container(tmp_path / "a.zip", members, "zip"), "unsupported export version")
    assert "supported: 0.1 ..." in line


# ---------------------------------------------------------------- row 21: malformed JSON
@pytest.mark.parametrize(
    "text",
    [b'{"links_uuid": [', b"[" * 100_000, b'{"a": ' + b"7" * 5000 + b"}", b'{"a": NaN}',
     b'{"export_data": {}, "export_data": {}}', b'{"a": "\\ud800"}', b'{"a": 1e400}'],
    ids=["truncated", "deep", "5000-digits", "nan", "duplicate-keys", "lone-surrogate", "beyond-a-double"],
)  # fmt: skip
def test_row_21_malformed_json(tmp_path, text):
    members = good_members()
    members["data.json"] = text
    refuse(tmp_path, b.write_container(tmp_path / "a.tar.gz", members, "tar.gz"), "data.json: invalid JSON at")


@pytest.mark.parametrize("member", ["data.json", "metadata.json"])
@pytest.mark.parametrize("to", ["0.13", "main_0001"])
def test_row_21_a_byte_order_mark_is_refused_alike_everywhere(tmp_path, member, to):
    """RFC 8259: no BOM. json.loads(bytes) skipped one, the streamed reader did not: validate
    called such an archive valid and migrate refused it as 'not a JSON object'."""
    members = good_members("0.12")
    members[member] = b"\xef\xbb\xbf" + members[member]
    src = b.write_container(tmp_path / "a.zip", members, "zip")
    line = assert_one_error_line(run_cli("archive", "validate", src), 65, "byte-order mark")
    assert member in line
    out = tmp_path / "out.zip"
    assert member in assert_one_error_line(run_cli("archive", "migrate", src, out, "--to", to), 65, "byte-order mark")
    assert not out.exists()


def test_row_21_utf16_json_is_refused(tmp_path):
    members = good_members()
    members["metadata.json"] = members["metadata.json"].decode().encode("utf-16")
    src = b.write_container(tmp_path / "a.zip", members, "zip")
    assert_one_error_line(run_cli("archive", "validate", src), 65, "not UTF-8")


@pytest.mark.parametrize("section", ["links_uuid", "export_data"])
def test_a_downgrade_of_a_misshapen_archive_is_bad_input(tmp_path, section):
    """The downgrade steps trust their version's structure as the forward ones do; a wrong shape
    was an internal error (exit 70) there."""
    members = good_members()
    data = json.loads(members["data.json"])
    data[section] = "abc" if section == "links_uuid" else [1]
    members["data.json"] = json.dumps(data).encode()
    src = b.write_container(tmp_path / "a.zip", members, "zip")
    out = tmp_path / "old.zip"
    wanted = "must be a list, not a string" if section == "links_uuid" else "must be an object, not a list"
    assert_one_error_line(run_cli("archive", "migrate", src, out, "--to", "0.4", "--allow-loss"), 65, f"$.{section}: {wanted}")
    assert not out.exists()
