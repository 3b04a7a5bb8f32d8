"""Draws the app icons (a white bell on indigo) as PNGs with nothing but the standard library.

Run from anywhere: `python pwa/icons/make_icons.py`. The PNGs are committed; rerun after a change.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
Color = tuple[int, int, int, int]
TOP = (67, 56, 202)  # #4338ca
BOTTOM = (99, 102, 241)  # #6366f1
WHITE = (255, 255, 255)
RED = (239, 68, 68)


def png(width: int, height: int, pixels: list[Color]) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(struct.pack("4B", *pixels[y * width + x]) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def in_bell(x: float, y: float) -> bool:
    """The bell in a [-1, 1] square: dome, flared body, rim, clapper and knob."""
    if x * x + (y + 0.62) ** 2 <= 0.08**2:  # knob
        return True
    if y < -0.2:  # dome
        return x * x + (y + 0.2) ** 2 <= 0.38**2
    if y <= 0.34:  # body flaring from 0.38 to 0.56
        return abs(x) <= 0.38 + (y + 0.2) / 0.54 * 0.18
    if y <= 0.44:  # rim
        return abs(x) <= 0.62
    return x * x + (y - 0.5) ** 2 <= 0.13**2  # clapper


def in_rounded_square(x: float, y: float, radius: float) -> bool:
    qx, qy = max(abs(x) - (1 - radius), 0.0), max(abs(y) - (1 - radius), 0.0)
    return qx * qx + qy * qy <= radius * radius


def render(size: int, sample: Callable[[float, float], Color], aa: int) -> list[Color]:
    pixels: list[Color] = []
    for py in range(size):
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(aa):
                for sx in range(aa):
                    x = ((px + (sx + 0.5) / aa) / size) * 2 - 1
                    y = ((py + (sy + 0.5) / aa) / size) * 2 - 1
                    r, g, b, a = sample(x, y)
                    acc = [acc[0] + r * a, acc[1] + g * a, acc[2] + b * a, acc[3] + a]
            alpha = acc[3] / (aa * aa)
            if acc[3]:
                pixels.append((*(round(c / acc[3]) for c in acc[:3]), round(alpha)))  # type: ignore[misc]
            else:
                pixels.append((0, 0, 0, 0))
    return pixels


def app_icon(glyph_scale: float, full_bleed: bool) -> Callable[[float, float], Color]:
    def sample(x: float, y: float) -> Color:
        if not full_bleed and not in_rounded_square(x, y, 0.44):
            return (0, 0, 0, 0)
        gx, gy = x / glyph_scale, (y - 0.04) / glyph_scale
        if math.hypot(gx - 0.42, gy + 0.42) <= 0.2:
            return (*RED, 255)
        if in_bell(gx, gy):
            return (*WHITE, 255)
        t = (y + 1) / 2
        return (*(round(a + (b - a) * t) for a, b in zip(TOP, BOTTOM, strict=True)), 255)  # type: ignore[return-value]

    return sample


def badge(x: float, y: float) -> Color:
    # Monochrome: Android draws the badge from its alpha channel only.
    return (*WHITE, 255) if in_bell(x / 0.9, y / 0.9) else (0, 0, 0, 0)


def main() -> None:
    outputs = {
        "icon-192.png": (192, app_icon(0.8, False), 3),
        "icon-512.png": (512, app_icon(0.8, False), 2),
        # Maskable: full bleed, the bell inside the central 80% safe zone.
        "maskable-512.png": (512, app_icon(0.62, True), 2),
        "badge-96.png": (96, badge, 4),
    }
    for name, (size, sample, aa) in outputs.items():
        (HERE / name).write_bytes(png(size, size, render(size, sample, aa)))
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
