"""Draw the Teams app icons once (color 192x192, outline 32x32 white on transparent); the PNGs are committed.

Run: `python deploy/teams/make_icons.py` (needs Pillow). The mark is a speech balloon with three dots.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (31, 78, 121, 255)  # #1F4E79, also the manifest's accentColor
WHITE = (255, 255, 255, 255)


def balloon(
    draw: ImageDraw.ImageDraw, size: int, fill: tuple[int, ...] | None, outline: tuple[int, ...] | None
) -> None:
    s = size / 32
    width = max(1, round(2 * s)) if outline else 0
    draw.rounded_rectangle((4 * s, 6 * s, 28 * s, 22 * s), radius=5 * s, fill=fill, outline=outline, width=width)
    draw.polygon([(10 * s, 21 * s), (10 * s, 28 * s), (17 * s, 21 * s)], fill=fill or outline)
    for x in (11, 16, 21):
        draw.ellipse(
            ((x - 1.6) * s, 12.4 * s, (x + 1.6) * s, 15.6 * s), fill=(outline or ACCENT) if not fill else ACCENT
        )


def main() -> None:
    color = Image.new("RGBA", (192, 192), ACCENT)
    draw = ImageDraw.Draw(color)
    inner = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    balloon(ImageDraw.Draw(inner), 128, WHITE, None)
    color.alpha_composite(inner, (32, 36))
    color.save(HERE / "color.png", optimize=True)
    del draw

    outline = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    balloon(ImageDraw.Draw(outline), 32, None, WHITE)
    outline.save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()
