"""Input pictures and header texts, against the rules of pix2struct's converters and
model-runtime/src/tasks/{boxes,prompts}.ts."""
import random
import struct

import pytest
from PIL import Image, ImageDraw

from pix2struct_remote.inputs import (InputError, PixelBox, ai2d_header, ai2d_letters_image, draw_box,
                                      normalized_to_pixel_box, refexp_header, rico_bounds_to_pixel_box)
from samples import BLUE, outline_pixels


def blue_pixels(image):
    w = image.width
    return {(i % w, i // w) for i, p in enumerate(image.getdata()) if p == BLUE}


def test_box_is_a_one_pixel_blue_outline_with_the_inside_untouched():
    src = Image.new("RGB", (20, 10), (200, 100, 50))
    out = draw_box(src, PixelBox(2, 3, 8, 7))
    assert blue_pixels(out) == outline_pixels(2, 3, 7, 6)
    assert out.getpixel((4, 5)) == (200, 100, 50)
    assert src.getpixel((2, 3)) == (200, 100, 50)  # the input is not modified


def test_box_is_clipped_and_wider_lines_grow_inwards():
    out = draw_box(Image.new("RGB", (10, 10), (255, 255, 255)), PixelBox(-3, 5, 4, 15))
    assert blue_pixels(out) == {(x, 5) for x in range(0, 4)} | {(3, y) for y in range(5, 10)}
    thick = draw_box(Image.new("RGB", (10, 10), (255, 255, 255)), PixelBox(1, 1, 9, 9), width=2)
    assert blue_pixels(thick) == outline_pixels(1, 1, 8, 8) | outline_pixels(2, 2, 7, 7)


def test_rico_bounds_scale_by_height_over_2560_and_truncate():
    # 256 px high: factor 0.1 for x and y alike; 905 * 0.1 = 90.5 -> 90, 1015 * 0.1 = 101.5 -> 101.
    assert rico_bounds_to_pixel_box([100, 200, 905, 1015], 256) == PixelBox(10, 20, 91, 102)
    with pytest.raises(InputError, match="not ordered"):
        rico_bounds_to_pixel_box([500, 0, 100, 10], 256)


def test_normalized_boxes_round_half_to_even():
    # 0.125 * 100 = 12.5 -> 12 and 0.875 * 100 = 87.5 -> 88 (Python's round); 0.1 * 200 -> 20;
    # 0.9375 * 200 = 187.5 -> 188. Corners are inclusive, so the exclusive ends are 89 and 189.
    assert normalized_to_pixel_box(0.125, 0.1, 0.875, 0.9375, 100, 200) == PixelBox(12, 20, 89, 189)


def test_headers_match_the_inference_prompts():
    assert ai2d_header("Which is the sun?", ["A", "B", "moon"]) == "Which is the sun? (a) A (b) B (c) moon"
    assert refexp_header("red button at the top") == "red button at the top"
    with pytest.raises(InputError, match="at most 26"):
        ai2d_header("q", [str(i) for i in range(27)])
    with pytest.raises(InputError, match="empty"):
        refexp_header("  ")


def test_ai2d_labels_are_painted_over_with_their_letter():
    diagram = Image.new("RGB", (120, 80), (255, 255, 255))
    diagram.paste((255, 0, 0), (20, 20, 70, 50))  # a red "label" covering x 20..69, y 20..49
    out = ai2d_letters_image(diagram, [("A", [[20, 20], [69, 49]])])
    inside = [out.getpixel((x, y)) for x in range(20, 70) for y in range(20, 50)]
    assert (255, 0, 0) not in inside  # the label text is gone
    assert any(p[0] < 128 and p == (p[0],) * 3 for p in inside)  # and a dark letter stands in its place
    assert diagram.getpixel((30, 30)) == (255, 0, 0)


def pix2struct_drawing(image, corner_a, corner_b):
    """The drawing call of pix2struct's widget/RefExp converters, run on this Pillow: an RGBA
    draw with a transparent fill and an opaque blue outline, corners given (min x, max y),
    (max x, min y)."""
    out = image.copy()
    ImageDraw.Draw(out, "RGBA").rectangle(xy=(corner_a, corner_b), fill=(0, 0, 255, 0), outline=(0, 0, 255, 255))
    return out


def test_boxes_equal_pillows_own_drawing_of_the_original_coordinates():
    rng = random.Random(3)
    for _ in range(40):
        height = rng.choice([256, 480, 960])
        width = height * 9 // 16
        image = Image.new("RGB", (width, height), (rng.randrange(256), 180, 90))
        # Widget Captioning: RICO bounds scaled to floats, PIL truncates.
        l, r = sorted(rng.uniform(-50, 1500) for _ in range(2))
        t, b = sorted(rng.uniform(-50, 2600) for _ in range(2))
        scale = height / 2560
        expected = pix2struct_drawing(image, (l * scale, b * scale), (r * scale, t * scale))
        assert draw_box(image, rico_bounds_to_pixel_box([l, t, r, b], height)).tobytes() == expected.tobytes()
        # RefExp: float32 fractions, Python's round.
        x0, x1 = sorted(struct.unpack("<f", struct.pack("<f", rng.random()))[0] for _ in range(2))
        y0, y1 = sorted(struct.unpack("<f", struct.pack("<f", rng.random()))[0] for _ in range(2))
        xmin, xmax, ymin, ymax = round(x0 * width), round(x1 * width), round(y0 * height), round(y1 * height)
        expected = pix2struct_drawing(image, (xmin, ymax), (xmax, ymin))
        assert draw_box(image, normalized_to_pixel_box(x0, y0, x1, y1, width, height)).tobytes() == expected.tobytes()


def test_ai2d_placeholders_still_render_without_any_truetype_font(monkeypatch):
    import pix2struct_remote.inputs as inputs
    monkeypatch.setattr(inputs, "LABEL_FONTS", ("no-such-font-1.ttf",))
    inputs._label_font_path.cache_clear()
    inputs._font.cache_clear()
    try:
        diagram = Image.new("RGB", (60, 40), (255, 0, 0))
        out = ai2d_letters_image(diagram, [("B", [[5, 5], [50, 30]])])
        inside = [out.getpixel((x, y)) for x in range(5, 51) for y in range(5, 31)]
        assert (255, 0, 0) not in inside and (0, 0, 0) in inside
    finally:
        inputs._label_font_path.cache_clear()
        inputs._font.cache_clear()
