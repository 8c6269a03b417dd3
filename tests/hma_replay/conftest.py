"""HMA's own API tests, replayed over HTTP against Safeguard's HMA-compatible routes.

Each test here is one test of HMA/OpenMediaMatch (``hasher-matcher-actioner/src/OpenMediaMatch/tests`` in
facebook/ThreatExchange), written anew: every Flask test-client call becomes the same HTTP request to
Safeguard (FastAPI's TestClient, with an API key), and every assertion is kept. HMA's fixtures become
requests too: its ``image_server`` is two checkerboard JPEGs, whose reference PDQ hashes come from
python-threatexchange; its sample exchange (``StaticSampleSignalExchangeAPI``) is a bank called SAMPLE
holding python-threatexchange's example signals; ``build_all_indices`` is waiting until the matcher has
caught up with the change log.

Where Safeguard differs from HMA the test says so (``DIFFERENCES`` lists every one, with its reason):
- on purpose: a key is required (the replay sends one; a wrong role is a 403, as HMA's missing role);
  ``url=`` fetches are refused, so tests that add media by URL upload the same file instead, and HMA's
  URL-validation tests assert the refusal; banked variants match more;
- not implemented: HMA's exchange configuration API (``/c/exchanges``) and its OpenAPI document path.
A test that cannot pass for one of those is ``xfail(strict=True)``, so it fails the suite if it starts
passing; the others pass unchanged.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from threatexchange.signal_type.pdq.signal import PdqSignal

from safeguard.api.app import create_app
from safeguard.auth import Role
from safeguard.banks import changes
from safeguard.banks.matcher import BankMatcher
from safeguard.config import Settings
from safeguard.store.db import Database

DIFFERENCES = {
    "key": "Safeguard needs an API key on every route but /status and /status/live (HMA: none)",
    "url": "url= is refused: fetching URLs from the matcher is a server-side request forgery risk",
    "variants": "Safeguard banks rotated, mirrored, cropped and border-trimmed variants, so more matches",
    "exchanges": "not implemented: HMA's exchange configuration API (/c/exchanges...); Safeguard imports",
    "openapi": "the OpenAPI document is /openapi.json, titled Safeguard (HMA: /openapi/openapi.json)",
}


class HmaClient:
    """HMA's Flask test client, as HTTP requests with a Safeguard key (admin: HMA's tests run all roles)."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        return self.request("DELETE", url, **kwargs)

    @property
    def matcher(self) -> BankMatcher:
        matcher: BankMatcher = self.client.app.state.bank_matcher  # type: ignore[attr-defined]
        return matcher


def build_all_indices(hma: HmaClient, timeout: float = 10.0) -> None:
    """HMA's ``build_all_indices``: here, wait until the matcher has applied every change so far."""
    db: Database = hma.client.app.state.db  # type: ignore[attr-defined]
    with db.read_session() as session:
        target = changes.current_checkpoint(session)
    deadline = time.monotonic() + timeout
    while not (hma.matcher.ready.is_set() and hma.matcher.checkpoint >= target):
        if time.monotonic() > deadline:
            raise AssertionError(f"the matcher did not reach checkpoint {target} in {timeout} s")
        time.sleep(0.02)


@pytest.fixture
def app_client(db: Database, tmp_path: Any) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path / "home", database_url=db.url, media_dir=tmp_path / "media")
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def hma(app_client: TestClient, make_key: Callable[[Role], str]) -> HmaClient:
    client = HmaClient(app_client, make_key(Role.admin))
    build_all_indices(client)  # HMA's test app starts with its (empty) index ready
    return client


def checkerboard_jpeg(cell: int) -> bytes:
    """HMA's test images: 128 px black and white checkerboards, saved as JPEG."""
    image = Image.new("RGB", (128, 128))
    pixels = image.load()
    assert pixels is not None
    for x in range(128):
        for y in range(128):
            pixels[x, y] = (255, 255, 255) if (x // cell + y // cell) % 2 else (0, 0, 0)
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


IMAGE1 = checkerboard_jpeg(8)
IMAGE2 = checkerboard_jpeg(16)
# HMA's IMAGE_URL_TO_PDQ: the reference (python-threatexchange) PDQ of each served image.
IMAGE_PDQ = {IMAGE1: PdqSignal.hash_from_bytes(IMAGE1), IMAGE2: PdqSignal.hash_from_bytes(IMAGE2)}


def create_bank(hma: HmaClient, bank_name: str) -> None:
    response = hma.post("/c/banks", json={"name": bank_name})
    assert response.status_code == 201
    assert response.json() == {"matching_enabled_ratio": 1.0, "name": bank_name}


def add_image(hma: HmaClient, bank_name: str, image: bytes, **form: str) -> Response:
    """HMA's ``POST /c/bank/<name>/content?url=...&content_type=photo``, as an upload of the same file
    (``url=`` is refused); metadata and note travel as form fields, as HMA accepts them with uploads."""
    return hma.post(f"/c/bank/{bank_name}/content", files={"photo": ("image.jpg", image)}, data=form)


def add_hash_to_bank(hma: HmaClient, bank_name: str, image: bytes, content_id: int = 1) -> None:
    response = add_image(hma, bank_name, image)
    assert response.status_code == 200
    assert response.json() == {"id": content_id, "signals": {"pdq": IMAGE_PDQ[image]}}
