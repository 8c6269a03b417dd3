"""``POST /v1/hash`` and ``GET /v1/signal-types`` over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from safeguard.auth import Role
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
