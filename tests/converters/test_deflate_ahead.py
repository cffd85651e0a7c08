"""Blocks of a zip member deflated ahead of the writer (``containers.DeflateAhead``).

The main archive's database is deflated on one core while SQLite builds its
indexes on the other.  What is made ahead must never change the output: a
block is used only when the writer reads the same bytes after the same
window, so a file that changed after the blocks were made gives the zip a
fresh deflate of what it holds now.  Each test compares the zip's bytes with
those of a writer given no blocks ahead.
"""

from __future__ import annotations

import random
import zipfile

from converters.containers import DEFLATE_BLOCK, DeflateAhead, OutMember, write_archive
from converters.main.writer import file_chunks


def _content(blocks: int, seed: int = 7) -> bytes:
    """``blocks`` blocks of compressible, not trivial bytes (words drawn at random): each block's
    deflate depends on its bytes and on the window before it."""
    rng = random.Random(seed)
    words = [rng.randbytes(rng.randint(3, 12)) for _ in range(500)]
    data = b"".join(rng.choices(words, k=blocks * DEFLATE_BLOCK // 5))
    return data[: blocks * DEFLATE_BLOCK]


def _made(source) -> DeflateAhead:
    """Blocks ahead, every one made (in a run, SQLite's index build gives the thread that time;
    the writer's first ``take`` stops it, so a test waits for it here)."""
    ahead = DeflateAhead(source)
    ahead._thread.join()
    return ahead


def _zip(path, source, ahead=None) -> bytes:
    member = OutMember("db.sqlite3", size=source.stat().st_size, chunks=file_chunks(source), ahead=ahead)
    write_archive(path, "zip", iter([member]))
    return path.read_bytes()


def test_blocks_made_ahead_give_the_same_zip(tmp_path):
    source = tmp_path / "db"
    source.write_bytes(_content(6) + b"tail")
    plain = _zip(tmp_path / "plain.zip", source)
    ahead = _made(source)
    taken = []
    original = ahead.take

    def take(index, window, block, level):
        found = original(index, window, block, level)
        taken.append(found is not None)
        return found

    ahead.take = take  # type: ignore[method-assign]
    assert _zip(tmp_path / "ahead.zip", source, ahead) == plain
    assert sum(taken) >= 3  # blocks 1 .. 4 (not the first, nor the last whole one): made ahead and used
    assert not taken[0]
    with zipfile.ZipFile(tmp_path / "ahead.zip") as zf:
        assert zf.read("db.sqlite3") == source.read_bytes()


def test_a_block_changed_after_it_was_made_is_deflated_again(tmp_path):
    source = tmp_path / "db"
    source.write_bytes(_content(6))
    ahead = _made(source)
    with open(source, "r+b") as fh:  # block 2 and the window of block 3 change, as a careless writer might
        fh.seek(3 * DEFLATE_BLOCK - 100)
        fh.write(b"changed" * 20)
    fresh = _zip(tmp_path / "fresh.zip", source)
    assert len(ahead._made) == 4  # blocks 1 .. 4, from the bytes before the change
    assert _zip(tmp_path / "ahead.zip", source, ahead) == fresh
    with zipfile.ZipFile(tmp_path / "ahead.zip") as zf:
        assert zf.read("db.sqlite3") == source.read_bytes()


def test_a_file_that_grew_after_the_blocks_were_made(tmp_path):
    """The database gets its index pages after the blocks were started: the blocks past the old
    end, and the one that was last, are the writer's own."""
    source = tmp_path / "db"
    source.write_bytes(_content(3))
    ahead = DeflateAhead(source)
    with open(source, "ab") as fh:
        fh.write(_content(2, seed=11) + b"end")
    assert _zip(tmp_path / "ahead.zip", source, ahead) == _zip(tmp_path / "plain.zip", source)


def test_stopped_or_gone_it_gives_nothing(tmp_path):
    source = tmp_path / "db"
    source.write_bytes(_content(4))
    ahead = DeflateAhead(source)
    ahead.stop()
    assert ahead.take(1, b"", b"x" * DEFLATE_BLOCK, 6) is None
    gone = tmp_path / "gone"
    gone.write_bytes(_content(4))
    early = DeflateAhead(gone)
    gone.unlink()  # the run stopped and its work folder went: the thread ends on its own
    early.stop()
