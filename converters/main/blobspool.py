"""Repository blobs of a tar input, kept for pass 2 so that they can leave in name order.

A main archive lists its ``repo/<sha256>`` members in the order of the first
(smallest) input member name that holds each blob, whatever the container:
zip and folder inputs are read in that order, so pass 2 re-reads them; a tar
is a stream in its writer's order, which may be any.  So for a tar, pass 1
keeps each distinct blob here while it hashes it (it has the bytes in hand),
and pass 2 reads them back in name order instead of decompressing the tar a
second time.

One work file, each blob its own zstd frame (level 1, as ``converters.workfile``:
a few times smaller than the blobs for ~2 ms per MB), found by offset and
length kept in the blob plan.  A blob seen before is cut off again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import zstandard

CHUNK = 1 << 20


class BlobSpool:
    """Write side (pass 1): ``add`` each member's chunks; ``close`` when the stream ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = open(path, "xb")
        self._cctx = zstandard.ZstdCompressor(level=1)
        self._seen: set[bytes] = set()

    def add(self, chunks: Iterable[bytes]) -> tuple[str, int, int | None, int]:
        """``(sha256, size, offset, packed length)``; offset None when the blob was kept before."""
        at = self._fh.tell()
        digest, size = hashlib.sha256(), 0
        with self._cctx.stream_writer(self._fh, closefd=False) as writer:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                writer.write(chunk)
        packed = self._fh.tell() - at
        if digest.digest() in self._seen:
            self._fh.seek(at)
            self._fh.truncate()
            return digest.hexdigest(), size, None, 0
        self._seen.add(digest.digest())
        return digest.hexdigest(), size, at, packed

    def close(self) -> None:
        self._seen.clear()
        self._fh.close()


def read_spooled(path: Path, at: int, packed: int) -> Iterator[bytes]:
    """The bytes of the blob whose frame starts at ``at`` (``packed`` bytes long), in chunks."""
    with open(path, "rb") as fh:
        fh.seek(at)
        with zstandard.ZstdDecompressor().stream_reader(_Window(fh, packed), read_size=CHUNK) as reader:
            while chunk := reader.read(CHUNK):
                yield chunk


class _Window:
    """``packed`` bytes of ``fh`` from where it stands: the decompressor must not read past its frame."""

    def __init__(self, fh, packed: int) -> None:
        self._fh, self._left = fh, packed

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._fh.read(n)
        self._left -= len(data)
        return data
