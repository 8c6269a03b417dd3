"""Seed a demo bank from a few benign sample images, so a new user sees matching work in one minute.

Uses the first few images of ``../shared/data/images`` beside the checkout when present; otherwise draws
benign synthetic pictures (soft coloured shapes) with Pillow. Writes an edited copy of the first image
(smaller, brighter, re-compressed) for the user to scan.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter
from sqlalchemy.orm import Session

from safeguard.auth import Actor
from safeguard.banks import media, service
from safeguard.banks.errors import BankNotFound

DEMO_BANK = "demo"
DEMO_IMAGES = 5
SHARED_IMAGES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "images"


@dataclass(frozen=True, slots=True)
class DemoSeed:
    bank: str
    added: int
    edited_path: Path
    from_samples: bool


def _synthetic(seed: int, size: int = 384) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(10):
        x, y = rng.randrange(size), rng.randrange(size)
        r = rng.randrange(30, size // 2)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(4))


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def sample_images(images_dir: Path | None = None) -> tuple[list[Image.Image], bool]:
    folder = images_dir if images_dir is not None else SHARED_IMAGES
    if folder.is_dir():
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[
            :DEMO_IMAGES
        ]
        if paths:
            return [Image.open(p).convert("RGB") for p in paths], True
    return [_synthetic(seed) for seed in range(DEMO_IMAGES)], False


def seed_demo(session: Session, actor: Actor, out_dir: Path, images_dir: Path | None = None) -> DemoSeed:
    images, from_samples = sample_images(images_dir)
    try:
        bank = service.get_bank_by_name(session, DEMO_BANK)
    except BankNotFound:
        bank = service.create_bank(session, actor, name=DEMO_BANK, description="Benign demo images")
    added = 0
    for image in images:
        signals = media.hashes_to_bank(_jpeg(image, 95))
        meta = service.ContentMeta(labels=("demo",), source="safeguard serve --demo")
        added += service.add_content(session, actor, bank, signals, meta).created
    first = images[0]
    smaller = first.resize((first.width * 4 // 5, first.height * 4 // 5))
    edited = ImageEnhance.Brightness(smaller).enhance(1.15)
    out_dir.mkdir(parents=True, exist_ok=True)
    edited_path = out_dir / "demo-edited.jpg"
    edited_path.write_bytes(_jpeg(edited, 70))
    return DemoSeed(bank=bank.name, added=added, edited_path=edited_path, from_samples=from_samples)
