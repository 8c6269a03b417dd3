"""How well PDQ matches edited re-uploads, before and after Safeguard's variants, and at what cost.

For every image of the developer set, each edit below is applied (then saved as a re-upload would be:
JPEG quality 90 unless the edit is itself an encoding) and the edited copy is looked up against a bank
of all originals. A copy matches when ANY of its query hashes is within PDQ distance 31 of ANY banked
hash of its own original. The false-match rate counts, over all ordered pairs of different images
(i, j), whether any query hash of i (the original, and separately every edited copy of i) is within 31
of any banked hash of j. Configurations:

- ``raw``: plain ``pdqhash.compute`` on Pillow's RGB pixels, one hash each side, no quality floor (the
  baseline as the issue measured it, computed here directly with pdqhash, not through Safeguard);
- ``raw q>=50``: the same with HMA's quality floor (hashes of quality < 50 are not matched), which every
  Safeguard configuration applies;
- ``trim``: + the ``trimmed`` variant on both sides (border/letterbox removal);
- ``trim+dihedral``: + the 7 rotated/mirrored variants banked;
- ``bank default``: + centre crops ``crop95/90/85/80`` banked (``HashOptions.for_bank()``);
- ``fine crops``: + the finer crop ladder ``FINE_CROPS`` (every 1.25% per side down to 10%).

usage: flock /tmp/safeguard-bench.lock .venv/bin/python bench/robustness.py [--images DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from safeguard.media import (
    BANKED_CROPS,
    FINE_CROPS,
    HashOptions,
    HashResult,
    signals_to_bank,
    signals_to_query,
)
from safeguard.media.pdq import crop_variant_name

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "images"
THRESHOLD = 31
FLOOR = 50
Edit = Callable[[Image.Image], bytes]


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def scale(image: Image.Image, factor: float) -> Image.Image:
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


def crop_each_side(image: Image.Image, share: float) -> Image.Image:
    w, h = image.size
    dx, dy = round(w * share), round(h * share)
    return image.crop((dx, dy, w - dx, h - dy))


def crop_box(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = image.size
    return image.crop((round(w * left), round(h * top), round(w * right), round(h * bottom)))


def border(image: Image.Image, share: float, colour: str | tuple[int, int, int]) -> Image.Image:
    w, h = image.size
    dx, dy = round(w * share), round(h * share)
    return ImageOps.expand(image, (dx, dy, dx, dy), fill=colour)


def watermark(image: Image.Image, size_share: float, centre: bool) -> Image.Image:
    marked = image.copy()
    draw = ImageDraw.Draw(marked)
    w, h = marked.size
    font = ImageFont.load_default(size=max(10, round(h * size_share)))
    text = "@reupload_2024"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=2)
    if centre:
        x, y = (w - (right - left)) / 2, (h - (bottom - top)) / 2
    else:
        x, y = w - (right - left) - w * 0.03, h - (bottom - top) - h * 0.04
    draw.text((x, y), text, font=font, fill="white", stroke_width=2, stroke_fill="black")
    return marked


def screenshot(image: Image.Image) -> bytes:
    """A screenshot-like copy: re-rendered at 90% size (display scaling) and saved as PNG."""
    w, h = image.size
    return png(image.resize((round(w * 0.9), round(h * 0.9)), Image.Resampling.BILINEAR))


#: The edits the issue names, in its order; ``target`` False marks the two it exempts.
EDITS: dict[str, tuple[Edit, bool]] = {
    "resize 50%": (
        lambda im: jpeg(im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS)),
        True,
    ),
    "resize 200%": (
        lambda im: jpeg(im.resize((im.width * 2, im.height * 2), Image.Resampling.LANCZOS)),
        True,
    ),
    "JPEG q30": (lambda im: jpeg(im, 30), True),
    "JPEG q70": (lambda im: jpeg(im, 70), True),
    "crop 5% each side": (lambda im: jpeg(crop_each_side(im, 0.05)), True),
    "crop 10% each side": (lambda im: jpeg(crop_each_side(im, 0.10)), False),
    "rotate 3°": (lambda im: jpeg(im.rotate(3, resample=Image.Resampling.BICUBIC)), False),
    "rotate 90°": (lambda im: jpeg(im.transpose(Image.Transpose.ROTATE_90)), True),
    "mirror": (lambda im: jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)), True),
    "brightness +20%": (lambda im: jpeg(ImageEnhance.Brightness(im).enhance(1.2)), True),
    "brightness -20%": (lambda im: jpeg(ImageEnhance.Brightness(im).enhance(0.8)), True),
    "contrast +20%": (lambda im: jpeg(ImageEnhance.Contrast(im).enhance(1.2)), True),
    "contrast -20%": (lambda im: jpeg(ImageEnhance.Contrast(im).enhance(0.8)), True),
    "text watermark (corner, 6% high)": (lambda im: jpeg(watermark(im, 0.06, centre=False)), True),
    "10% white border": (lambda im: jpeg(border(im, 0.10, "white")), True),
    "grayscale": (lambda im: jpeg(im.convert("L")), True),
    "screenshot (90% size, PNG)": (screenshot, True),
}
#: Harder variants of the same edits, reported for information (no target).
EXTRA_EDITS: dict[str, Edit] = {
    "text watermark (centre, 10% high)": lambda im: jpeg(watermark(im, 0.10, centre=True)),
    "10% black border, JPEG q30": lambda im: jpeg(border(im, 0.10, "black"), 30),
    "3% grey border, JPEG q50": lambda im: jpeg(border(im, 0.03, (128, 128, 128)), 50),
    "crop 2% each side": lambda im: jpeg(crop_each_side(im, 0.02)),
    "crop 3.5% each side": lambda im: jpeg(crop_each_side(im, 0.035)),
    "crop 6.25% each side": lambda im: jpeg(crop_each_side(im, 0.0625)),
    "crop 8% left+2% top, 2% right+8% bottom": lambda im: jpeg(
        im.crop(
            (round(im.width * 0.08), round(im.height * 0.02), round(im.width * 0.98), round(im.height * 0.92))
        )
    ),
    "rotate 3°, canvas expanded": lambda im: jpeg(
        im.rotate(3, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white")
    ),
}

DEFAULT_CROPS = {crop_variant_name(kept) for kept in BANKED_CROPS}
FINE = {crop_variant_name(kept) for kept in FINE_CROPS}
CONFIGS: dict[str, Callable[[str | None], bool]] = {
    "trim": lambda variant: variant in (None, "trimmed"),
    "trim+dihedral": lambda variant: variant is None or not str(variant).startswith("crop"),
    "bank default": lambda variant: (
        variant is None or not str(variant).startswith("crop") or variant in DEFAULT_CROPS
    ),
    "fine crops": lambda variant: True,
}


def to_words(hex_hashes: list[str]) -> npt.NDArray[np.uint64]:
    raw = np.frombuffer(b"".join(bytes.fromhex(h) for h in hex_hashes), dtype=">u8")
    return raw.astype(np.uint64).reshape(-1, 4)


class Bank:
    def __init__(self, hashes: list[list[str]]) -> None:
        self.owner = np.concatenate([np.full(len(h), i) for i, h in enumerate(hashes)])
        self.words = to_words([x for h in hashes for x in h])
        self.per_image = len(self.owner) / len(hashes)

    def owners_matched(self, query: list[str]) -> set[int]:
        if not query:
            return set()
        q = to_words(query)
        distance = np.bitwise_count(q[:, None, :] ^ self.words[None, :, :]).sum(axis=2)
        return {int(i) for i in np.unique(self.owner[(distance <= THRESHOLD).any(axis=0)])}


def raw_pdq(data: bytes) -> tuple[str, int]:
    bits, quality = pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex(), int(quality)


def raw_query(data: bytes, floor: int) -> list[str]:
    value, quality = raw_pdq(data)
    return [value] if quality >= floor else []


def pdq_hashes(result: HashResult, keep: Callable[[str | None], bool]) -> list[str]:
    return [s.hash for s in result.signals if s.signal_type == "pdq" and s.matchable and keep(s.variant)]


def query_hashes(config: str, data: bytes, result: HashResult) -> list[str]:
    if config == "raw":
        return raw_query(data, 0)
    if config == "raw q>=50":
        return raw_query(data, FLOOR)
    return pdq_hashes(result, CONFIGS[config])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N images")
    args = parser.parse_args()
    files = sorted(p for p in args.images.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if args.limit:
        files = files[: args.limit]
    started = time.perf_counter()
    print(f"{len(files)} images from {args.images}; {os.cpu_count()} cores (shared with other work)")
    originals = [Image.open(p).convert("RGB") for p in files]
    raw_bytes = [p.read_bytes() for p in files]

    bank_options = HashOptions.for_bank(
        crops=tuple(sorted(set(BANKED_CROPS) | set(FINE_CROPS), reverse=True))
    )
    banked = [signals_to_bank(data, bank_options) for data in raw_bytes]
    queried = [signals_to_query(data) for data in raw_bytes]
    raw_hashes = [raw_pdq(data) for data in raw_bytes]
    banks = {"raw": Bank([[h] for h, _q in raw_hashes])}
    banks["raw q>=50"] = Bank([[h] if q >= FLOOR else [] for h, q in raw_hashes])
    for name, keep in CONFIGS.items():
        banks[name] = Bank([pdq_hashes(r, keep) for r in banked])
    trimmed_originals = sum(any(s.variant == "trimmed" for s in r.signals) for r in banked)

    names = list(banks)
    header = f"{'edit':44s}" + "".join(f"{n:>15s}" for n in names) + "  target"
    print("\nShare of edited copies matched at PDQ distance <= 31")
    print(header)
    false_pairs = {n: 0 for n in names}
    query_pairs = 0
    rows = [(name, edit, target) for name, (edit, target) in EDITS.items()]
    rows += [(name, edit, None) for name, edit in EXTRA_EDITS.items()]
    for label, edit, target in rows:
        hits = {n: 0 for n in names}
        for index, image in enumerate(originals):
            data = edit(image)
            query = signals_to_query(data)
            for n in names:
                hashes = query_hashes(n, data, query)
                owners = banks[n].owners_matched(hashes)
                hits[n] += index in owners
                false_pairs[n] += len(owners - {index})
            query_pairs += len(originals) - 1
        shares = {n: 100.0 * hits[n] / len(originals) for n in names}
        mark = "" if target is None else ("  >=95%" if target else "  (none)")
        if target and shares["bank default"] < 95.0:
            mark += "  NOT REACHED"
        print(f"{label:44s}" + "".join(f"{shares[n]:14.1f}%" for n in names) + mark)

    pairs = len(originals) * (len(originals) - 1)
    print(f"\nFalse matches over {pairs:,} ordered pairs of different images (original as query)")
    for n in names:
        count = 0
        for index, result in enumerate(queried):
            hashes = query_hashes(n, raw_bytes[index], result)
            count += len(banks[n].owners_matched(hashes) - {index})
        print(
            f"  {n:15s} {count:4d} false pairs  rate {count / pairs:.2e}   banked PDQ hashes/image "
            f"{banks[n].per_image:.2f}"
        )
    print(f"\nFalse matches over {query_pairs:,} (edited copy, other image) pairs, all edits above")
    for n in names:
        print(f"  {n:15s} {false_pairs[n]:4d} false pairs  rate {false_pairs[n] / query_pairs:.2e}")
    print(f"\noriginals with a trimmed variant: {trimmed_originals} of {len(files)}")
    print(f"elapsed {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
