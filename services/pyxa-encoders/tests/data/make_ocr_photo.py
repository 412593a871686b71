"""Renders ocr-zh-en.png, the Chinese + English OCR test photo (see tests/ocr.rs).

Made from registry packages only: Debian `fonts-wqy-zenhei` (the font) and PyPI `pillow`.
    apt-get install fonts-wqy-zenhei && pip install pillow==13.0.0 && python3 make_ocr_photo.py
The output is committed; re-running gives the same picture for the same Pillow and font.
"""
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
LINES = [
    ("北京欢迎你", 44, (20, 20, 20)),
    ("Hello World 2024", 34, (30, 30, 120)),
    ("今天天气很好", 36, (20, 20, 20)),
    ("咖啡 Coffee 每杯 25 元", 32, (120, 30, 30)),
]


def main() -> None:
    w, h = 640, 400
    img = Image.new("RGB", (w, h))
    # A soft paper-like gradient rather than flat white.
    px = img.load()
    for y in range(h):
        for x in range(w):
            v = 236 - (x + y) // 40
            px[x, y] = (v, v - 4, v - 12)
    draw = ImageDraw.Draw(img)
    y = 30
    for text, size, colour in LINES:
        font = ImageFont.truetype(FONT, size)
        draw.text((40, y), text, font=font, fill=colour)
        y += size + 36
    # An upside-down line, for the angle classifier.
    font = ImageFont.truetype(FONT, 30)
    strip = Image.new("RGB", (360, 44), (236, 232, 224))
    ImageDraw.Draw(strip).text((6, 4), "上下颠倒 upside down", font=font, fill=(20, 20, 20))
    img.paste(strip.rotate(180), (250, 340))
    # Slightly rotated and blurred, like a photo of a page.
    img = img.rotate(2.5, resample=Image.BICUBIC, fillcolor=(200, 196, 188))
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    img.save(Path(__file__).with_name("ocr-zh-en.png"), optimize=True)


if __name__ == "__main__":
    main()
