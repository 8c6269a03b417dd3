"""The deliberate differences from HMA (conftest ``DIFFERENCES``), asserted as Safeguard's behaviour."""

from __future__ import annotations

import io

from PIL import Image
from threatexchange.signal_type.pdq.pdq_utils import simple_distance
from threatexchange.signal_type.pdq.signal import PdqSignal

from tests.banks.helpers import jpeg_bytes, synthetic_image
from tests.hma_replay.conftest import HmaClient, add_image, build_all_indices, create_bank


def test_a_key_is_required_except_for_status(hma: HmaClient) -> None:
    bare = hma.client
    response = bare.get("/m/lookup", params={"signal_type": "pdq", "signal": "0" * 64})
    assert response.status_code == 401 and response.json()["message"]
    assert bare.get("/c/banks").status_code == 401
    assert bare.get("/status").status_code == 200
    assert bare.get("/status/live").status_code == 200


def test_banked_variants_match_more(hma: HmaClient) -> None:
    """A rotated copy of a banked image matches here; its PDQ is far from the original's, so not in HMA."""
    create_bank(hma, "VARIANTS")
    original = synthetic_image(5)
    assert add_image(hma, "VARIANTS", jpeg_bytes(original)).status_code == 200
    out = io.BytesIO()
    original.transpose(Image.Transpose.ROTATE_90).save(out, format="JPEG", quality=90)
    rotated = out.getvalue()
    reference = PdqSignal.hash_from_bytes(rotated)
    assert simple_distance(reference, PdqSignal.hash_from_bytes(jpeg_bytes(original))) > 31
    build_all_indices(hma)
    response = hma.post("/m/lookup", files={"photo": ("rotated.jpg", rotated)})
    assert response.status_code == 200
    assert list(response.json()["pdq"]) == ["VARIANTS"]
