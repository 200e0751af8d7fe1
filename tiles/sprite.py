"""The map's icon sprite (MapLibre sprite sheet: PNG + JSON index), drawn here, served by us."""

from __future__ import annotations

import struct
import zlib
from functools import cache

import numpy as np
from numpy.typing import NDArray

SIZE = 24  # icon side in CSS pixels
# name: (fill RGB, shape); the icons the platform's points will use.
ICONS = {
    "feedback": ((230, 120, 0), "circle"),  # phản ánh kiến nghị
    "dossier": ((31, 78, 121), "square"),  # hồ sơ
    "selected": ((214, 40, 40), "ring"),  # the tapped place
}


def _icon(colour: tuple[int, int, int], shape: str, ratio: int) -> NDArray[np.uint8]:
    side = SIZE * ratio
    yy, xx = np.mgrid[0:side, 0:side] + 0.5
    r = np.hypot(xx - side / 2, yy - side / 2)
    outer = side / 2 - ratio
    if shape == "circle":
        inside, edge = r <= outer, (r <= outer) & (r > outer - 2 * ratio)
    elif shape == "ring":
        inside = (r <= outer) & (r > outer - 4 * ratio)
        edge = np.zeros_like(inside)
    else:
        margin = 2 * ratio
        inside = ((xx > margin) & (xx < side - margin) & (yy > margin) & (yy < side - margin))
        edge = inside & ((xx < margin + 2 * ratio) | (xx > side - margin - 2 * ratio)
                         | (yy < margin + 2 * ratio) | (yy > side - margin - 2 * ratio))
    rgba = np.zeros((side, side, 4), dtype=np.uint8)
    rgba[inside] = (*colour, 255)
    rgba[edge] = (255, 255, 255, 255)
    return rgba


def _png(rgba: NDArray[np.uint8]) -> bytes:
    height, width, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


@cache
def sprite(ratio: int) -> tuple[dict[str, dict[str, int]], bytes]:
    """The sprite index and sheet at a pixel ratio (1 or 2)."""
    side = SIZE * ratio
    sheet = np.zeros((side, side * len(ICONS), 4), dtype=np.uint8)
    index = {}
    for i, (name, (colour, shape)) in enumerate(ICONS.items()):
        sheet[:, i * side:(i + 1) * side] = _icon(colour, shape, ratio)
        index[name] = {"x": i * side, "y": 0, "width": side, "height": side,
                       "pixelRatio": ratio}
    return index, _png(sheet)
