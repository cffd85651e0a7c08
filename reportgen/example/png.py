"""Small real PNG images made with zlib and struct only (no imaging library).

``final_report/final_plot`` of the example workflow is ``{"png": <base64>}``
of a matplotlib figure; these stand in for it: a white canvas with a grid and
two curves, deterministic for given inputs.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def render_png(pixels: np.ndarray) -> bytes:
    """Encode an ``(height, width, 3)`` uint8 RGB array as a PNG file."""
    height, width, _ = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, width * 3)], axis=1)
    body = zlib.compress(rows.tobytes(), 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def _draw_curve(canvas: np.ndarray, ys: np.ndarray, colour: tuple[int, int, int]) -> None:
    height, width, _ = canvas.shape
    cols = np.arange(width)
    rows = np.clip(((1 - (ys + 1) / 2) * (height - 1)).round().astype(int), 0, height - 1)
    for thickness in (-1, 0, 1):
        canvas[np.clip(rows + thickness, 0, height - 1), cols] = colour


def render_plot_png(parameter: float, width: int = 160, height: int = 120) -> bytes:
    """A plot of ``cos(a x / 10)`` and ``cos(cos(a x / 10)) / 3``, like plot.py."""
    canvas = np.full((height, width, 3), 255, np.uint8)
    canvas[:: height // 6, :] = (225, 225, 225)
    canvas[:, :: width // 8] = (225, 225, 225)
    x = np.linspace(0, 10, width)
    y = np.cos(parameter * x / 10)
    _draw_curve(canvas, y, (31, 119, 180))
    _draw_curve(canvas, np.cos(y) / 3, (214, 39, 40))
    return render_png(canvas)


def render_noise_png(seed: int, width: int, height: int) -> bytes:
    """An incompressible PNG of random pixels, for the huge-string case."""
    rng = np.random.default_rng(seed)
    return render_png(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8))


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
