"""Our plain PDQ hashes equal the reference implementation's.

Two checks: (1) the expected hashes that python-threatexchange carries for ThreatExchange's own test
images (``PdqSignal.get_examples()`` in the installed package, and the expectations of its hasher test
suite), on those images (tests/media/reference, BSD, unchanged); (2) equality with python-threatexchange's
``pdq_from_bytes`` and with ``pdqhash.compute`` on Pillow's pixels for every image of the shared set.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes
from threatexchange.signal_type.pdq.signal import PdqSignal

from safeguard.media import signals_to_query
from tests.media.helpers import REFERENCE, distance, reference_pdq, shared_images

# Expected (hash, quality) from python-threatexchange's hasher tests (tests/hashing/test_pdq_hasher.py).
THREATEXCHANGE_EXPECTED = {
    "rgb.jpeg": ("fb4eed46cb8a6c78819ca06b756c541f7b07ef6d02c82fccd00f862166272cda", 100),
    "LA.png": ("accb6d39648035f8125c8ce6ba65007de7b54c67a2d93ef7b8f33b0611306715", 100),
}
I16_THREATEXCHANGE = ("de2ef0e99ecdfc1d248a0eb055f023d1d61e79c3920cbb55d561c02accab1763", 36)


@pytest.mark.parametrize("name", sorted(THREATEXCHANGE_EXPECTED))
def test_hasher_suite_expectations(name: str) -> None:
    plain = signals_to_query(REFERENCE / name).plain("pdq")
    assert plain is not None
    assert (plain.hash, plain.quality) == THREATEXCHANGE_EXPECTED[name]


@pytest.mark.parametrize(
    "name", ["shrink-a-lot.jpg", "square-128x128.jpg", "square-256x256.jpg", "square-512x512.jpg", "wee.jpg"]
)
def test_signal_examples_from_installed_package(name: str) -> None:
    """Each of these images' hash is one of the example hashes PdqSignal ships (bridge-mods, misc)."""
    plain = signals_to_query(REFERENCE / name).plain("pdq")
    assert plain is not None
    assert plain.hash in PdqSignal.get_examples()


def test_letterbox_trimmed_equals_the_original_example() -> None:
    """ThreatExchange's letterboxed bridge: trimming recovers exactly the original's example hash."""
    result = signals_to_query(REFERENCE / "letterboxed_sample-b.jpg")
    original_bridge = PdqSignal.get_examples()[0]  # pdq/data/bridge-mods/aaa-orig.jpg
    plain = result.plain("pdq")
    assert plain is not None and distance(plain.hash, original_bridge) > 31
    trimmed = [s for s in result.signals if s.variant == "trimmed"]
    assert [s.hash for s in trimmed] == [original_bridge]
    assert result.media.trim_box == (200, 200, 1800, 1204)


def test_sixteen_bit_images_are_scaled_not_clipped() -> None:
    """python-threatexchange clips I;16 to 255 (99.6% white, quality 36, never matched by HMA); we scale."""
    data = (REFERENCE / "I16.png").read_bytes()
    assert pdq_from_bytes(data) == I16_THREATEXCHANGE  # the reference behaviour, for the record
    plain = signals_to_query(data).plain("pdq")
    assert plain is not None
    grey = (np.asarray(Image.open(REFERENCE / "I16.png")).astype(np.uint32) >> 8).astype(np.uint8)
    assert plain.hash == reference_pdq(np.repeat(grey[:, :, None], 3, axis=2))
    assert plain.quality is not None and plain.quality >= 50 > I16_THREATEXCHANGE[1]


def test_every_shared_image_equals_threatexchange_and_pdqhash() -> None:
    files = shared_images()
    assert len(files) >= 300
    for path in files:
        data = path.read_bytes()
        plain = signals_to_query(data).plain("pdq")
        assert plain is not None
        expected_hash, expected_quality = pdq_from_bytes(data)
        assert (plain.hash, plain.quality) == (expected_hash, expected_quality), path.name
        assert plain.hash == reference_pdq(np.asarray(Image.open(path).convert("RGB")))


def _encoded(image: Image.Image, image_format: str) -> bytes:
    import io

    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


def _conformance_cases() -> dict[str, bytes]:
    from tests.banks.helpers import synthetic_image

    picture = synthetic_image(3)
    wide = np.asarray(picture.convert("L")).astype(np.uint16) * 257
    return {
        "palette png": _encoded(picture.convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "PNG"),
        "gif": _encoded(picture, "GIF"),
        "cmyk jpeg": _encoded(picture.convert("CMYK"), "JPEG"),
        "16-bit grey png": _encoded(Image.fromarray(wide), "PNG"),
        "I16.png": (REFERENCE / "I16.png").read_bytes(),
    }


@pytest.mark.parametrize("case", sorted(_conformance_cases()))
def test_reference_variant_is_threatexchanges_hash_where_ours_differs(case: str) -> None:
    """Palette images, CMYK JPEGs and 16-bit greyscale: python-threatexchange hashes other pixels (palette
    indices, raw C/M/Y, clipped values). Our plain hash stays the picture's; the ``reference`` variant is
    exactly python-threatexchange's (hash and quality), so lists built by HMA still match."""
    data = _conformance_cases()[case]
    result = signals_to_query(data)
    plain = result.plain("pdq")
    expected = pdq_from_bytes(data)
    assert plain is not None and plain.hash != expected[0]
    reference = [s for s in result.signals if s.variant == "reference"]
    assert [(s.hash, s.quality) for s in reference] == [expected]
    assert reference[0].matchable == (expected[1] >= 50)


def test_no_reference_variant_where_the_pixels_agree() -> None:
    from tests.banks.helpers import synthetic_image

    for mode in ("RGB", "RGBA", "L", "LA"):
        data = _encoded(synthetic_image(4).convert(mode), "PNG")
        assert not [s for s in signals_to_query(data).signals if s.variant == "reference"], mode
