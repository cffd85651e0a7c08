"""Open a legacy archive keeping a tar's ``data.json`` zstd-compressed in memory.

STOP-GAP (issue-5 report): ``containers.open_archive`` captures a tar's
``data.json`` whole while listing (bytes joined in a bytearray, then copied:
twice its size at the peak), which for a 1,000,000-node archive (~0.5 GB of
JSON) alone breaks the 512 MB bound.  Until containers.py offers another
keeping policy, this subclass lists the tar the same way (same builder, same
checks) but recompresses ``data.json`` with zstd level 1 on the fly (about
5x smaller for this JSON) and hands out a decompressing stream per pass.
"""

from __future__ import annotations

import io
from pathlib import Path

import zstandard

from converters.containers import Archive, Limits, Member, _ListingBuilder, detect_container
from converters.errors import BadInputError, InputMissingError

KEPT = "data.json"


class CompressedJsonArchive(Archive):
    """An ``Archive`` whose tar ``data.json`` lives zstd-compressed in ``self.kept``."""

    kept: bytes | None = None

    def _list(self):
        if self.container in ("zip", "folder"):
            return super()._list()
        builder = _ListingBuilder(self.path, self.container, self.limits)
        self._walk_tar(builder, capture={"metadata.json"}, visit=self._keep)
        return builder.build()

    def _keep(self, member: Member, chunks) -> None:
        if member.name != KEPT:
            for _ in chunks:  # drained: the stream must move on
                pass
            return
        sink = io.BytesIO()
        total = 0
        with zstandard.ZstdCompressor(level=1).stream_writer(sink, closefd=False) as writer:
            for chunk in chunks:
                total += len(chunk)
                if total > self.limits.max_json_bytes:
                    raise BadInputError(self.path, f"exceeds size budget ({self.limits.max_json_bytes} bytes)", KEPT)
                writer.write(chunk)
        self.kept = sink.getvalue()

    def read_bytes(self, name: str) -> bytes:
        if name == KEPT and self.kept is not None:
            return self.open_kept().read()
        return super().read_bytes(name)

    def open_kept(self):
        """A fresh stream of data.json (one per ijson pass)."""
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(self.kept), read_across_frames=True)


def open_legacy(path: Path | str, limits: Limits | None = None) -> Archive:
    """Like ``containers.open_archive``, with a tar's data.json kept compressed."""
    path = Path(path)
    try:
        return CompressedJsonArchive(path, detect_container(path), limits or Limits())
    except PermissionError:
        raise InputMissingError(path, "permission denied") from None
