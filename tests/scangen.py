"""Scans and photos of printed decisions, made from the PDFs tests/docgen.py and tests/layoutgen.py write.

A page is rendered at a scanner's resolution, turned by a fraction of a degree as paper lies on the glass, given
sensor noise and a few specks, and saved as a PDF of images without any text layer (Pillow writes one). A photo is a
page at a phone's resolution with uneven light and a larger tilt, saved as JPEG. ``blot`` inks over a printed word
before the page is degraded, as a stain or a pen stroke does on paper.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2
from PIL import Image, ImageDraw, ImageFilter

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points


def render(pdf: bytes | Path, dpi: int = 200) -> list[Image.Image]:
    """Every page of a PDF as a grey image at ``dpi``."""
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    document = pypdfium2.PdfDocument(data)
    try:
        return [page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for page in document]
    finally:
        document.close()


def word_box(pdf: bytes | Path, page: int, text: str, beside: str) -> Box:
    """Where ``text`` is printed on ``page`` (from 1) of a PDF with a text layer: of the words equal to it on the
    line that holds the word ``beside``, the nearest to that word."""
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    with pdfplumber.open(io.BytesIO(data)) as document:
        words = document.pages[page - 1].extract_words()
    anchor = next(w for w in words if w["text"] == beside)
    found = [w for w in words if w["text"] == text and abs(w["top"] - anchor["top"]) < 2]
    if not found:
        raise LookupError(f"{text!r} is not printed beside {beside!r} on page {page}")
    word = min(found, key=lambda w: abs(w["x0"] - anchor["x0"]))
    return word["x0"], word["top"], word["x1"], word["bottom"]


def blot(image: Image.Image, box: Box, dpi: int, part: tuple[float, float] = (0.0, 1.0)) -> Image.Image:
    """Ink over the horizontal ``part`` (fractions of its width) of a printed word's box."""
    x0, top, x1, bottom = (v * dpi / 72 for v in box)
    left, right = x0 + (x1 - x0) * part[0], x0 + (x1 - x0) * part[1]
    inked = image.copy()
    ImageDraw.Draw(inked).ellipse((left - 2, top - 1, right + 2, bottom + 1), fill=20)
    return inked


def degrade(image: Image.Image, *, angle: float = 0.5, noise: float = 10.0, specks: int = 300,
            seed: int = 0) -> Image.Image:
    """As a flatbed scanner gives a printed page: turned by ``angle`` degrees, with sensor noise and dust."""
    rng = np.random.default_rng(seed)
    turned = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    pixels = np.asarray(turned, dtype=np.float32) + rng.normal(0.0, noise, (turned.height, turned.width))
    ys, xs = rng.integers(0, turned.height, specks), rng.integers(0, turned.width, specks)
    pixels[ys, xs] = rng.integers(0, 120, specks)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.4))


def scan_pdf(pages: Iterable[Image.Image], dpi: int = 200) -> bytes:
    """Page images as a PDF without a text layer, as a scanner saves them."""
    images = [page.convert("L") for page in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()


def scanned(pdf: bytes | Path, *, dpi: int = 200, angles: Sequence[float] = (0.5, -0.4, 0.6, -0.5),
            seed: int = 0, inked: dict[int, list[tuple[Box, tuple[float, float]]]] | None = None) -> bytes:
    """A typed PDF printed and scanned: each page turned by the next of ``angles``, noisy, and inked over the
    (box, part) ``inked`` gives for its page number (from 1)."""
    pages = []
    for number, page in enumerate(render(pdf, dpi), start=1):
        for box, part in (inked or {}).get(number, []):
            page = blot(page, box, dpi, part)
        pages.append(degrade(page, angle=angles[(number - 1) % len(angles)], seed=seed + number))
    return scan_pdf(pages, dpi)


def photo(pdf: bytes | Path, page: int, *, angle: float = 1.2, seed: int = 0, quality: int = 80) -> bytes:
    """A phone photo of one printed page (from 1): about 3,500 pixels tall, light falling off across the page,
    tilted, slightly soft, saved as JPEG."""
    image = render(pdf, 300)[page - 1]
    rng = np.random.default_rng(seed)
    height, width = image.height, image.width
    light = np.linspace(1.0, 0.78, width)[None, :] * np.linspace(0.95, 1.0, height)[:, None]
    pixels = np.asarray(image, dtype=np.float32) * light + rng.normal(0.0, 6.0, (height, width))
    shot = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    shot = shot.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=int(235 * 0.85))
    shot = shot.filter(ImageFilter.GaussianBlur(0.7)).convert("RGB")
    out = io.BytesIO()
    shot.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def text_page(paragraphs: Sequence[str], path: Path) -> Path:
    """A typed A4 page of running text (no table), for scans that hold no ranking."""
    from fpdf import FPDF

    from tests.docgen import _FONT_DIR

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(left=30, top=20, right=15)
    pdf.add_font("DejaVu", "", str(_FONT_DIR / "DejaVuSans.ttf"))
    pdf.set_font("DejaVu", "", 12)
    pdf.add_page()
    for paragraph in paragraphs:
        pdf.multi_cell(0, 7, paragraph, align="J", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.output(str(path))
    return path


def shuffled_angles(seed: int, count: int, spread: float = 0.6) -> list[float]:
    """Tilts of about half a degree either way, one per page."""
    rng = random.Random(seed)
    return [round(rng.choice((-1, 1)) * rng.uniform(0.3, spread), 2) for _ in range(count)]
