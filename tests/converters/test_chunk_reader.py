"""The file view of a chunk iterator (tar members are written through it, and every member
read goes through it) gives back exactly the chunks' bytes, whatever the chunk and read sizes."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from converters.containers import _ChunkReader


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=12), reads=st.lists(st.integers(1, 700), min_size=1, max_size=20))
def test_reads_of_any_size_give_back_the_chunks_exactly(chunks: list[bytes], reads: list[int]) -> None:
    reader, got, turn = _ChunkReader(iter(chunks)), bytearray(), 0
    while True:
        buffer = bytearray(reads[turn % len(reads)])
        n = reader.readinto(buffer)
        if n == 0:
            break
        got += buffer[:n]
        turn += 1
    assert bytes(got) == b"".join(chunks)
    assert reader.readinto(bytearray(8)) == 0  # and stays at the end


def test_a_buffered_reader_over_one_large_chunk() -> None:
    data = bytes(range(256)) * 40_000  # 10 MB handed over as one chunk, as data.json is
    stream = io.BufferedReader(_ChunkReader(iter([data])), 1 << 20)
    assert b"".join(iter(lambda: stream.read(777_777), b"")) == data
