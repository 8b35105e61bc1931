"""The final input pictures: boxes drawn the way pix2struct's converters drew them, header texts
built the way model-runtime builds them at inference (model-runtime/src/tasks/{boxes,prompts}.ts).

Headers are only text here: the Hugging Face processor renders them above the picture when it
makes patches, as model-runtime does at inference.
"""
from __future__ import annotations

import math
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional, Sequence, Tuple

from PIL import Image, ImageDraw, ImageFont

Rgb = Tuple[int, int, int]
BOX_COLOR: Rgb = (0, 0, 255)  # PIL outline=(0, 0, 255, 255) with a transparent fill: pure blue, 1 px
RICO_CANVAS_HEIGHT = 2560  # RICO's view hierarchies use a 1440 x 2560 canvas whatever the screenshot size


class InputError(ValueError):
    """A box or header that cannot describe a model input."""


@dataclass(frozen=True)
class PixelBox:
    """Inclusive-exclusive pixels: the outline covers columns x0..x1-1 and rows y0..y1-1."""
    x0: int
    y0: int
    x1: int
    y1: int

    def __post_init__(self) -> None:
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            raise InputError(f"box must have x0 < x1 and y0 < y1, got {self}")


def draw_box(image: Image.Image, box: PixelBox, color: Rgb = BOX_COLOR, width: int = 1) -> Image.Image:
    """An RGB copy of `image` with the outline of `box` (clipped to the picture; inside untouched)."""
    if width < 1:
        raise InputError(f"box line width must be >= 1, got {width}")
    out = image.convert("RGB")  # always a copy
    # PIL takes inclusive corners and grows a wider line inwards, like model-runtime's drawBox.
    ImageDraw.Draw(out).rectangle((box.x0, box.y0, box.x1 - 1, box.y1 - 1), outline=color, width=width)
    return out


def rico_bounds_to_pixel_box(bounds: Sequence[float], image_height: int,
                             canvas_height: int = RICO_CANVAS_HEIGHT) -> PixelBox:
    """convert_widget_captioning.py's box: every bound scaled by height / 2560 (x too, as RICO
    screenshots keep the canvas' aspect ratio), truncated towards zero by PIL, corners inclusive."""
    if len(bounds) != 4 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in bounds):
        raise InputError(f"RICO bounds must be four finite numbers [left, top, right, bottom], got {bounds!r}")
    left, top, right, bottom = (math.trunc(v * image_height / canvas_height) for v in bounds)
    if right < left or bottom < top:
        raise InputError(f"RICO bounds {list(bounds)} are not ordered left <= right, top <= bottom")
    return PixelBox(left, top, right + 1, bottom + 1)


def normalized_to_pixel_box(xmin: float, ymin: float, xmax: float, ymax: float,
                            image_width: int, image_height: int) -> PixelBox:
    """convert_refexp.py's box: round(fraction * size) (half to even), corners inclusive."""
    x0, x1 = round(xmin * image_width), round(xmax * image_width)
    y0, y1 = round(ymin * image_height), round(ymax * image_height)
    if x1 < x0 or y1 < y0:
        raise InputError(f"box ({xmin}, {ymin})-({xmax}, {ymax}) is not ordered min <= max")
    return PixelBox(x0, y0, x1 + 1, y1 + 1)


AI2D_MAX_OPTIONS = len(string.ascii_lowercase)


def ai2d_header(question: str, options: Sequence[str]) -> str:
    """convert_ai2d.py's header: the question, then the options lettered "(a) ... (b) ..."."""
    if not question.strip():
        raise InputError("AI2D question is empty")
    if not options:
        raise InputError("AI2D needs at least one answer option")
    if len(options) > AI2D_MAX_OPTIONS:
        raise InputError(f"AI2D options are lettered a-z, so at most {AI2D_MAX_OPTIONS} fit; got {len(options)}")
    lettered = " ".join(f"({string.ascii_lowercase[i]}) {option}" for i, option in enumerate(options))
    return f"{question} {lettered}"


def refexp_header(expression: str) -> str:
    """convert_refexp.py's header: the referring expression, unchanged."""
    if not expression.strip():
        raise InputError("referring expression is empty")
    return expression


# AI2D's label placeholders -------------------------------------------------------------------

# convert_ai2d.py used Arial; Liberation Sans has Arial's metrics, DejaVu Sans is nearly everywhere.
LABEL_FONTS = ("arial.ttf", "Arial.ttf", "LiberationSans-Regular.ttf", "DejaVuSans.ttf")


@lru_cache(maxsize=None)
def _label_font_path() -> Optional[str]:
    for name in LABEL_FONTS:
        try:
            ImageFont.truetype(name, size=10)  # PIL also searches the system font folders
            return name
        except OSError:
            continue
    return None


@lru_cache(maxsize=512)
def _font(size: int):
    path = _label_font_path()
    return ImageFont.truetype(path, size=size, encoding="unic") if path else ImageFont.load_default()


def _text_size(font, text: str) -> Tuple[int, int]:
    # The extent from the drawing origin, as PIL's old getsize() reported it.
    _, _, right, bottom = font.getbbox(text)
    return right, bottom


def render_label_placeholder(image: Image.Image, text: str, rectangle: Sequence[Sequence[float]]) -> None:
    """convert_ai2d.py's label blanking, in place: the label's rectangle painted white and
    `text` (its replacement letter) drawn centred in the largest size that fits in 95% of it."""
    (x0, y0), (x1, y1) = rectangle
    draw = ImageDraw.Draw(image)
    draw.rectangle((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), fill=(255, 255, 255))
    if not text:
        return
    if _label_font_path() is None:  # PIL's built-in bitmap font has one size and no anchors
        font = _font(0)
        w, h = _text_size(font, text)
        draw.text(((x0 + x1 - w) / 2, (y0 + y1 - h) / 2), text, font=font, fill=(0, 0, 0))
        return
    size = 1
    while True:
        w, h = _text_size(_font(size + 1), text)
        if not (w < 0.95 * (x1 - x0) and h < 0.95 * (y1 - y0)):
            break
        size += 1
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, font=_font(size), fill=(0, 0, 0), anchor="mm")


def ai2d_letters_image(image: Image.Image, labels: Iterable[Tuple[str, Sequence[Sequence[float]]]]) -> Image.Image:
    """An RGB copy of an AI2D diagram with every text label replaced by its placeholder letter."""
    out = image.convert("RGB")
    for text, rectangle in labels:
        render_label_placeholder(out, text, rectangle)
    return out
