"""Decoding images safely into RGB arrays, the way PDQ needs them.

- The sniffed format is the only Pillow plugin tried (``formats=[...]``): a PNG named ``.jpg`` decodes as
  PNG, and a non-image never reaches a decoder.
- Size is checked from the header before any pixel is decoded (pixel limit, frame limit).
- EXIF orientation is applied (what people see is what gets hashed); the stored orientation is kept as
  the ``unoriented`` array so lists made without orientation still match.
- Every Pillow mode becomes 8-bit RGB: alpha is dropped (as python-threatexchange does for LA/RGBA, so
  those hashes equal the reference); palette images use their palette colours; 16-bit images are scaled
  to 8 bits (python-threatexchange clips them, which whitens almost every pixel: its I;16 test image gets
  quality 36 and is never matched by HMA); float images are scaled from 0..1 or clipped to 0..255.
- Where python-threatexchange (and so HMA) hashes other pixels than those, the ``reference`` array holds
  what it hashes: palette indices for palette images (PNG, GIF), the raw C, M and Y channels of CMYK
  JPEGs, clipped 16-bit greyscale; taken before EXIF orientation, which it does not apply. Ours stays the
  primary hash (the picture as it looks, the same whatever the format); the reference one is a variant,
  so lists built by HMA still match.

Decoders of hostile files can raise almost any exception class, so decoding errors other than ours are
caught broadly and become :class:`CorruptMedia`; memory exhaustion becomes :class:`MemoryLimitExceeded`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from safeguard.errors import SafeguardError
from safeguard.media.errors import CorruptMedia, ImageTooLarge, MemoryLimitExceeded, NotMedia, TooManyFrames
from safeguard.media.types import MediaLimits

RGB = npt.NDArray[np.uint8]
T = TypeVar("T")

PIL_FORMATS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "heif": "HEIF",
    "avif": "AVIF",
}

_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_heif_registered = False


@dataclass(slots=True)
class DecodedImage:
    """The first frame (oriented), the stored first frame when EXIF rotated it, and the frame count."""

    image: Image.Image
    first: RGB
    unoriented: RGB | None
    width: int
    height: int
    frame_count: int
    orientation: int
    reference: RGB | None = None  # python-threatexchange's pixels, when they differ from ``first``'s

    def later_frames(self) -> Iterator[RGB]:
        """Frames 1..n-1 of an animated image, oriented like the first, decoded one at a time."""
        for index in range(1, self.frame_count):
            yield guarded(partial(self._frame, index))

    def _frame(self, index: int) -> RGB:
        self.image.seek(index)
        return _oriented(self.image, self.orientation)


def decode(data: bytes, image_format: str, limits: MediaLimits) -> DecodedImage:
    """Decode the first frame of an image of the sniffed ``image_format`` within ``limits``."""
    pil_format = PIL_FORMATS.get(image_format)
    if pil_format is None:
        raise NotMedia(f"{image_format!r} is not an image format Safeguard decodes")
    if pil_format == "HEIF":
        _register_heif()
    return guarded(lambda: _decode(data, pil_format, limits))


def guarded(work: Callable[[], T]) -> T:
    """Run decoder work, turning anything a hostile file provokes into our typed errors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies
            warnings.filterwarnings(
                "ignore", category=UserWarning, module="PIL"
            )  # damage is raised, not warned
            return work()
    except SafeguardError:
        raise
    except MemoryError:
        raise MemoryLimitExceeded("decoding the image needed more memory than the limit allows") from None
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"the image is a decompression bomb ({exc})") from None
    except Exception as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise CorruptMedia(f"the image cannot be decoded: {reason[:200]}") from None


def _decode(data: bytes, pil_format: str, limits: MediaLimits) -> DecodedImage:
    image = Image.open(io.BytesIO(data), formats=[pil_format])
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptMedia(f"the image has no pixels ({width}x{height})")
    if width * height > limits.max_image_pixels:
        raise ImageTooLarge(
            f"the image has {width}x{height} = {width * height:,} pixels; the limit is "
            f"{limits.max_image_pixels:,}"
        )
    frame_count = int(getattr(image, "n_frames", 1))
    if frame_count > limits.max_image_frames:
        raise TooManyFrames(f"the image has {frame_count:,} frames; the limit is {limits.max_image_frames:,}")
    orientation = _orientation(image)
    image.seek(0)
    image.load()  # truncated files raise here (Pillow's LOAD_TRUNCATED_IMAGES is False by default)
    unoriented = to_rgb(image)
    reference = reference_rgb(image, unoriented)
    if orientation not in _TRANSPOSE_FOR_ORIENTATION:
        return DecodedImage(image, unoriented, None, width, height, frame_count, 1, reference)
    first = _transpose(unoriented, orientation)
    out_height, out_width = first.shape[:2]
    return DecodedImage(image, first, unoriented, out_width, out_height, frame_count, orientation, reference)


def reference_rgb(image: Image.Image, ours: RGB) -> RGB | None:
    """The H x W x 3 array python-threatexchange's PDQ hasher builds from ``image`` (see the module
    notes), or None where it is ``ours``."""
    mode = image.mode
    if mode.startswith("I;16"):
        array = np.asarray(image.convert("RGB"))
    elif mode in ("P", "CMYK"):
        array = np.asarray(image)
        array = _grey(array) if array.ndim == 2 else array[:, :, :3]
    else:
        return None
    reference = np.ascontiguousarray(array, dtype=np.uint8)
    return None if np.array_equal(reference, ours) else reference


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE_FOR_ORIENTATION else 1


def _oriented(image: Image.Image, orientation: int) -> RGB:
    array = to_rgb(image)
    return _transpose(array, orientation) if orientation in _TRANSPOSE_FOR_ORIENTATION else array


def _transpose(array: RGB, orientation: int) -> RGB:
    transposed = Image.fromarray(array).transpose(_TRANSPOSE_FOR_ORIENTATION[orientation])
    return np.asarray(transposed)


def to_rgb(image: Image.Image) -> RGB:
    """An H x W x 3 uint8, C-contiguous array of any Pillow mode (see the module notes)."""
    mode = image.mode
    if mode == "RGB":
        return np.ascontiguousarray(np.asarray(image), dtype=np.uint8)
    if mode.startswith("I;16"):
        wide = np.asarray(image).astype(np.uint32)
        return _grey((wide >> 8).astype(np.uint8))
    if mode == "I":
        ints = np.asarray(image, dtype=np.int64)
        if ints.size and ints.max() > 255:
            return _grey((np.clip(ints, 0, 65535) >> 8).astype(np.uint8))
        return _grey(np.clip(ints, 0, 255).astype(np.uint8))
    if mode == "F":
        floats = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        if floats.size and floats.max() <= 1.0:
            floats = floats * 255.0
        return _grey(np.clip(np.rint(floats), 0, 255).astype(np.uint8))
    if mode == "LAB":
        return _lab_to_rgb(image)
    return np.ascontiguousarray(np.asarray(image.convert("RGB")), dtype=np.uint8)


def _grey(luma: npt.NDArray[np.uint8]) -> RGB:
    return np.ascontiguousarray(np.repeat(luma[:, :, np.newaxis], 3, axis=2))


def _lab_to_rgb(image: Image.Image) -> RGB:
    from PIL import ImageCms

    transform = ImageCms.buildTransform(
        ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
    )
    converted = ImageCms.applyTransform(image, transform)
    assert converted is not None
    return np.ascontiguousarray(np.asarray(converted), dtype=np.uint8)


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True
