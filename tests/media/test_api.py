"""``POST /v1/hash`` and ``GET /v1/signal-types`` over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from safeguard.auth import Role
from safeguard.media import HashPool, HashTask
from safeguard.media import pool as pool_module
from safeguard.media.errors import HashCancelled
from tests.helpers import problem_of
from tests.media.helpers import FIRST_IMAGE, PAN, REFERENCE


def test_hash_an_image(client: TestClient, auth_headers: Callable[[Role], dict[str, str]]) -> None:
    files = {"file": ("upload.jpg", (REFERENCE / "rgb.jpeg").read_bytes(), "image/jpeg")}
    r = client.post("/v1/hash", files=files, headers=auth_headers(Role.integrator))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["filename"] == "upload.jpg"
    assert body["media"]["kind"] == "photo" and body["media"]["format"] == "jpeg"
    pdq = [s for s in body["signals"] if s["signal_type"] == "pdq"]
    assert pdq[0] == {
        "signal_type": "pdq",
        "hash": "fb4eed46cb8a6c78819ca06b756c541f7b07ef6d02c82fccd00f862166272cda",
        "quality": 100,
        "variant": None,
        "matchable": True,
    }
    assert {s["signal_type"] for s in body["signals"]} == {"pdq", "md5", "sha256"}


def test_bank_purpose_adds_variants(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    files = {"file": ("x.jpg", FIRST_IMAGE.read_bytes(), "image/jpeg")}
    r = client.post("/v1/hash", files=files, data={"purpose": "bank"}, headers=auth_headers(Role.admin))
    assert r.status_code == 200
    variants = {s["variant"] for s in r.json()["signals"]}
    assert {"rot90", "flipx", "crop90"} <= variants


def test_hash_a_video(client: TestClient, auth_headers: Callable[[Role], dict[str, str]]) -> None:
    files = {"file": ("clip.bin", PAN.read_bytes(), "application/octet-stream")}  # the name says nothing
    r = client.post("/v1/hash", files=files, headers=auth_headers(Role.integrator))
    assert r.status_code == 200
    body = r.json()
    assert body["media"]["kind"] == "video" and body["media"]["frames"] == 20
    assert {s["signal_type"] for s in body["signals"]} >= {"vpdq", "video_md5", "md5", "sha256"}


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 400, "empty-file"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 400, "corrupt-media"),
    ],
)
def test_bad_content_is_a_problem(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]], content: bytes, status: int, code: str
) -> None:
    r = client.post(
        "/v1/hash", files={"file": ("f.png", content, "image/png")}, headers=auth_headers(Role.integrator)
    )
    assert r.status_code == status
    assert problem_of(r)["type"] == f"/problems/{code}"


def test_any_file_gets_digests(client: TestClient, auth_headers: Callable[[Role], dict[str, str]]) -> None:
    r = client.post(
        "/v1/hash",
        files={"file": ("a.jpg", b"not really a jpeg", "image/jpeg")},
        headers=auth_headers(Role.integrator),
    )
    assert r.status_code == 200
    assert r.json()["media"]["kind"] == "file"
    assert [s["signal_type"] for s in r.json()["signals"]] == ["md5", "sha256"]


def test_signal_types(client: TestClient, auth_headers: Callable[[Role], dict[str, str]]) -> None:
    r = client.get("/v1/signal-types", headers=auth_headers(Role.integrator))
    assert r.status_code == 200
    by_name = {t["name"]: t for t in r.json()}
    assert set(by_name) >= {"pdq", "vpdq", "video_md5", "md5", "sha256"}
    assert by_name["pdq"] == {
        "name": "pdq",
        "content_types": ["photo"],
        "exact": False,
        "default_threshold": 31.0,
        "hex_digits": 64,
        "description": by_name["pdq"]["description"],
    }
    assert by_name["md5"]["content_types"] == ["file", "photo", "video"] and by_name["md5"]["exact"]


@pytest.mark.parametrize("role", [Role.moderator, Role.analyst])
def test_other_roles_are_refused(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]], role: Role
) -> None:
    assert client.get("/v1/signal-types", headers=auth_headers(role)).status_code == 403


def test_a_full_hashing_queue_is_a_429_with_retry_after(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with HashPool(1, max_queued=1) as full:
        full._assign = lambda: None  # type: ignore[method-assign]  # nothing leaves the queue
        full.submit(HashTask(FIRST_IMAGE), caller="someone else")
        monkeypatch.setattr(pool_module, "_shared", full)
        integrator = auth_headers(Role.integrator)
        for path in ("/v1/hash", "/v1/scan"):
            r = client.post(path, files={"file": ("a.jpg", FIRST_IMAGE.read_bytes())}, headers=integrator)
            assert r.status_code == 429, r.text
            assert int(r.headers["retry-after"]) >= 1
            assert problem_of(r)["type"] == "/problems/hash-queue-full"
        del full._assign


def test_a_client_that_goes_away_has_its_item_cancelled() -> None:
    async def gone() -> bool:
        return True

    with HashPool(1) as one:
        with pytest.raises(HashCancelled):
            asyncio.run(one.hash_async(HashTask(PAN.read_bytes()), disconnected=gone, poll_s=0.01))
        deadline = time.monotonic() + 10
        while one._live and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not one._live and one.queued() == 0  # taken out, whether it was queued or running
        assert one.hash_one(HashTask(FIRST_IMAGE)).plain("pdq") is not None
