"""Work files: written once from front to back, read back the same way, kept zstd-compressed.

The streamed conversions park bytes they cannot write out yet: the migrated
``data.json`` (a tar member needs its size before its bytes, and a section that
waited for its facts goes back at its place), the batches of such a section,
and the ``data.json`` of a downgrade.  Kept plain, that took about the size of
``data.json`` on disk (555 MB at 1,000,000 nodes) for an output a tenth of it.
zstd at level 1 keeps them 5-40 times smaller (JSON) for about 2 ms per MB,
and no memory beyond zstd's window.

A work file is anonymous (``tempfile.TemporaryFile``, gone when closed or when
the process dies), in the conversion's private work folder next to the output.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import zstandard

CHUNK = 1 << 20


class WorkFile:
    """Bytes written with ``write`` (``tell`` counts them), then read with ``reader`` once writing ended."""

    def __init__(self, workdir: Path) -> None:
        self._file = tempfile.TemporaryFile(dir=workdir)
        self._writer = zstandard.ZstdCompressor(level=1).stream_writer(self._file, closefd=False)
        self._size = 0
        self._reading: WorkReader | None = None

    def write(self, data: bytes | memoryview) -> None:
        self._writer.write(data)
        self._size += len(data)

    def tell(self) -> int:
        """The bytes written so far (uncompressed): where the next write lands."""
        return self._size

    @property
    def size(self) -> int:
        return self._size

    def reader(self) -> WorkReader:
        """The content from its first byte (ends the writing; one reader per work file)."""
        if self._reading is None:
            self._writer.flush(zstandard.FLUSH_FRAME)
            self._file.seek(0)
            self._reading = WorkReader(self._file)
        return self._reading

    def chunks(self) -> Iterator[bytes]:
        """The whole content, in chunks, then the file is closed."""
        reader = self.reader()
        while chunk := reader.read(CHUNK):
            yield chunk
        self.close()

    def close(self) -> None:
        self._file.close()


class WorkReader:
    """Reads a work file forward only: ``read``, ``read_range`` and line iteration."""

    def __init__(self, file) -> None:
        raw = zstandard.ZstdDecompressor().stream_reader(file, closefd=False)
        self._stream = io.BufferedReader(raw, CHUNK)
        self._at = 0

    def read(self, n: int) -> bytes:
        data = self._stream.read(n)
        self._at += len(data)
        return data

    def read_range(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end``, which must begin where the last read ended."""
        if start != self._at:
            raise ValueError(f"work file read out of order: at {self._at}, asked for {start}")
        left = end - start
        while left:
            chunk = self.read(min(CHUNK, left))
            if not chunk:
                raise OSError(f"work file ended {left} bytes early")
            left -= len(chunk)
            yield chunk

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            self._at += len(line)
            yield line
