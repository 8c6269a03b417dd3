"""Replay of OpenMediaMatch/tests/test_api.py (status, lookups, compare, exchanges)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from safeguard.auth import Role
from tests.hma_replay.conftest import DIFFERENCES, IMAGE1, IMAGE_PDQ, HmaClient, build_all_indices


def test_status_response(hma: HmaClient) -> None:
    bare = hma.client  # /status needs no key, as a load balancer calls it
    response = bare.get("/status")
    assert response.status_code == 200
    assert response.content == b"I-AM-ALIVE"

    # HMA fakes an index cache that never loaded; here the matcher stops refreshing and forgets it loaded.
    matcher = hma.matcher
    matcher.stop()
    matcher.ready.clear()
    matcher.stale_after_s = 0
    response = bare.get("/status")
    assert response.status_code == 503
    assert response.content == b"INDEX-NOT-LOADED"

    # We also are okay if the index is old but configured not to care
    matcher.ready.set()
    matcher.last_refresh = 1.0
    response = bare.get("/status")
    assert response.status_code == 200
    assert response.content == b"I-AM-ALIVE"

    # But if we do care, status should be no good
    matcher.stale_after_s = 65
    response = bare.get("/status")
    assert response.status_code == 503
    assert response.content == b"INDEX-STALE"

    matcher.last_refresh = time.monotonic()
    response = bare.get("/status")
    assert response.status_code == 200
    assert response.content == b"I-AM-ALIVE"


def test_status_live_always_alive(hma: HmaClient) -> None:
    bare = hma.client
    response = bare.get("/status/live")
    assert response.status_code == 200
    assert response.content == b"I-AM-ALIVE"

    matcher = hma.matcher
    matcher.stop()
    matcher.ready.clear()
    matcher.stale_after_s = 65
    # Index not loaded - /status/live still alive
    assert matcher.is_stale
    response = bare.get("/status/live")
    assert response.status_code == 200
    assert response.content == b"I-AM-ALIVE"

    # Index stale - /status/live still alive
    matcher.ready.set()
    matcher.last_refresh = 1.0
    assert matcher.is_stale
    response = bare.get("/status/live")
    assert response.status_code == 200
    assert response.content == b"I-AM-ALIVE"


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["openapi"])
def test_openapi_documentation_available(hma: HmaClient) -> None:
    response = hma.get("/openapi/openapi.json")
    assert response.status_code == 200
    payload = response.json()
    assert payload.get("info", {}).get("title") == "Open Media Match API"


def test_openapi_documentation_difference(hma: HmaClient) -> None:
    """What holds instead: the document is at /openapi.json and lists HMA's routes."""
    response = hma.client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/m/lookup", "/c/banks", "/h/hash", "/status"} <= set(paths)


def test_lookup_success(hma: HmaClient) -> None:
    build_all_indices(hma)
    # test GET: by URL, refused (DIFFERENCES["url"]); by hash, as HMA's lookup of the same image
    get_resp = hma.get("/m/lookup", params={"url": "http://127.0.0.1:1/image1.jpg"})
    assert get_resp.status_code == 400 and "upload" in get_resp.json()["message"]
    get_resp = hma.get("/m/lookup", params={"signal_type": "pdq", "signal": IMAGE_PDQ[IMAGE1]})
    assert get_resp.status_code == 200

    # test POST with the file
    resp = hma.post("/m/lookup", files={"photo": ("image1.jpg", IMAGE1, "image/jpeg")})
    assert resp.status_code == 200

    # It's not really a video, but MD5 is simple that we can fake it
    resp = hma.post("/m/lookup", files={"video": ("image1.jpg", IMAGE1, "image/jpeg")})
    assert resp.status_code == 200


def test_lookup_without_role(app_client: TestClient, make_key: Callable[[Role], str]) -> None:
    # HMA turns its hasher role off; here the key's role is not one that may look up.
    hma = HmaClient(app_client, make_key(Role.moderator))

    get_resp = hma.get("/m/lookup", params={"url": "http://127.0.0.1:1/image1.jpg"})
    assert get_resp.status_code == 403

    minimal_jpeg = b"\xff\xd8\xff\xe0\x00\x10\x4a\x46\x49\x46\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
    resp = hma.post("/m/lookup", files={"file": ("x.jpg", minimal_jpeg, "image/jpeg")})
    assert resp.status_code == 403


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["exchanges"])
def test_exchange_api_set_auth(hma: HmaClient) -> None:
    sample_name, tx_name = "sample", "fb_threatexchange"
    resp = hma.get("/c/exchanges/apis")
    assert resp.status_code == 200
    assert set(resp.json()) == {sample_name, tx_name}

    resp = hma.get(f"/c/exchanges/api/{sample_name}")
    assert resp.status_code == 200
    assert resp.json() == {"supports_authentification": False, "has_set_authentification": False}

    resp = hma.get(f"/c/exchanges/api/{tx_name}")
    assert resp.status_code == 200
    assert resp.json() == {"supports_authentification": True, "has_set_authentification": False}

    creds = {"api_token": "12345789|000000000000"}
    resp = hma.post(f"/c/exchanges/api/{tx_name}", json={"credential_json": creds})
    assert resp.status_code == 200
    assert resp.json() == {"supports_authentification": True, "has_set_authentification": True}

    resp = hma.get(f"/c/exchanges/api/{tx_name}")
    assert resp.status_code == 200
    assert resp.json() == {"supports_authentification": True, "has_set_authentification": True}

    # Unset
    resp = hma.post(f"/c/exchanges/api/{tx_name}", json={"credential_json": {}})
    assert resp.status_code == 200
    assert resp.json() == {"supports_authentification": True, "has_set_authentification": False}


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["exchanges"])
def test_exchange_api_schema(hma: HmaClient) -> None:
    """Schema endpoint returns config and optional credential field descriptors."""
    resp = hma.get("/c/exchanges/api/sample/schema")
    assert resp.status_code == 200
    data = resp.json()
    assert data is not None and isinstance(data, dict)
    assert "config_schema" in data
    assert "fields" in data["config_schema"]
    assert data["credentials_schema"] is None

    resp = hma.get("/c/exchanges/api/fb_threatexchange/schema")
    assert resp.status_code == 200
    data = resp.json()
    assert data is not None and isinstance(data, dict)
    assert "config_schema" in data
    config_fields = {f["name"]: f for f in data["config_schema"]["fields"]}
    assert "privacy_group" in config_fields
    assert config_fields["privacy_group"]["type"] == "number"
    assert config_fields["privacy_group"]["required"] is True
    cred_schema = data["credentials_schema"]
    assert cred_schema is not None
    cred_fields = {f["name"]: f for f in cred_schema["fields"]}
    assert "api_token" in cred_fields
    assert cred_fields["api_token"]["type"] == "string"


def test_compare_hashes(hma: HmaClient) -> None:
    specimen1 = "facd8bcb2a49bcebdec1985298d5fe84bcd006c187c598c720c3c087b3fdb318"
    specimen2 = "facd8bcb2a49bcebdec1985228d5ae84bcd006c187c598c720c2b087b3fdb318"
    # Happy path
    resp = hma.post("/m/compare", json={"pdq": [specimen1, specimen2]})
    assert resp.json() == {"pdq": [True, {"distance": 9}]}

    bad_inputs: list[object] = [
        # Not a dict
        ["banana"],
        # Dict, but values are not lists
        {"pdq": "banana"},
        # List of comparison hashes is empty
        {"pdq": []},
        # Hashes are invalid
        {"pdq": ["banana", "banana"]},
        # Too many hashes (must be exactly 2)
        {"pdq": [specimen1, specimen2, specimen1]},
    ]
    for bad_input in bad_inputs:
        resp = hma.post("/m/compare", json=bad_input)
        assert resp.status_code == 400, bad_input
        assert resp.json()["message"]


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["exchanges"])
def test_exchange_delete(hma: HmaClient) -> None:
    # deleting an exchange that doesn't exist returns 200
    assert hma.delete("/c/exchange/TEST_EXCHANGE").status_code == 200
    post_response = hma.post("/c/exchanges", json={"api": "sample", "bank": "FOO_EXCHANGE", "api_json": {}})
    assert post_response.status_code == 201
    delete_response = hma.delete("/c/exchange/FOO_EXCHANGE")
    assert delete_response.status_code == 200
    assert delete_response.json()["message"] == "Exchange deleted"


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["exchanges"])
def test_exchange_get_fetch_status(hma: HmaClient) -> None:
    # Unknown exchange returns 404 (here: no such route, 404 as well)
    assert hma.get("/c/exchange/NONEXISTENT_EXCHANGE/status").status_code == 404
    post_resp = hma.post("/c/exchanges", json={"api": "sample", "bank": "BAR_EXCHANGE", "api_json": {}})
    assert post_resp.status_code == 201
    resp = hma.get("/c/exchange/BAR_EXCHANGE/status")
    assert resp.status_code == 200
    data = resp.json()
    assert data is not None
    for key in (
        "checkpoint_ts",
        "running_fetch_start_ts",
        "last_fetch_complete_ts",
        "last_fetch_succeeded",
        "up_to_date",
        "fetched_items",
    ):
        assert key in data
