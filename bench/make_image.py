"""A deterministic 1280x800 synthetic screenshot for both sides of the benchmark."""
import sys

from PIL import Image, ImageDraw

image = Image.new("RGB", (1280, 800), "white")
draw = ImageDraw.Draw(image)
draw.rectangle((0, 0, 1280, 56), fill=(32, 33, 36))
for i in range(12):
    y = 80 + i * 58
    draw.rectangle((40, y, 1240, y + 44), outline=(200, 200, 200), fill=(245, 247, 250) if i % 2 else (255, 255, 255))
    draw.text((60, y + 14), f"Item {i + 1}: settings, charts and documents", fill=(20, 20, 20))
    draw.rectangle((1100, y + 8, 1220, y + 36), fill=(26, 115, 232))
image.save(sys.argv[1])
