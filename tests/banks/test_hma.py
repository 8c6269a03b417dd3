"""HMA's documented requests, replayed against Safeguard's HMA-compatible routes (with our API keys)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from safeguard.api.app import create_app
from safeguard.auth import Role
from safeguard.config import Settings
from safeguard.store.db import Database
from tests.banks.helpers import edited, jpeg_bytes, synthetic_image, wait_for
from tests.helpers import problem_of


def test_hma_client_flow(client: TestClient, auth_headers: Callable[[Role], dict[str, str]]) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    image = jpeg_bytes(synthetic_image(11))

    # curl -X POST -H "Content-Type: application/json" -d '{"name": "TEST_BANK"}' /c/banks
    r = client.post("/c/banks", json={"name": "TEST_BANK"}, headers=admin)
    assert r.status_code == 201 and r.json() == {"name": "TEST_BANK", "matching_enabled_ratio": 1.0}
    r = client.post("/c/banks", json={"name": "OTHER_BANK", "enabled": False}, headers=admin)
    assert r.json()["matching_enabled_ratio"] == 0.0
    assert client.post("/c/banks", json={"name": "TEST_BANK"}, headers=admin).status_code == 409
    names = [b["name"] for b in client.get("/c/banks", headers=admin).json()]
    assert names == ["TEST_BANK", "OTHER_BANK"]
    assert client.get("/c/bank/TEST_BANK", headers=admin).json()["name"] == "TEST_BANK"
    assert client.get("/c/bank/NOPE", headers=admin).status_code == 404

    # curl -X POST -F "photo=@image.jpg" /h/hash
    r = client.post("/h/hash", files={"photo": ("image.jpg", image)}, headers=integrator)
    assert r.status_code == 200
    pdq = r.json()["pdq"]
    assert len(pdq) == 64
    r = client.get("/h/hash", params={"url": "http://127.0.0.1/x.jpg"}, headers=integrator)
    assert r.status_code == 400 and "upload" in str(problem_of(r)["detail"])
    assert r.json()["message"] == problem_of(r)["detail"]  # HMA's error field, beside ours

    # curl -X POST -F "photo=@image.jpg" /c/bank/TEST_BANK/content
    r = client.post("/c/bank/TEST_BANK/content", files={"photo": ("image.jpg", image)}, headers=admin)
    assert r.status_code == 200, r.text
    content_id = r.json()["id"]
    assert r.json()["signals"]["pdq"] == pdq
    # curl -X POST -H "Content-Type: application/json" -d '{"pdq": "..."}' /c/bank/OTHER_BANK/signal
    r = client.post("/c/bank/OTHER_BANK/signal", json={"pdq": pdq}, headers=admin)
    assert r.status_code == 200 and r.json()["signals"] == {"pdq": pdq}
    r = client.post("/c/bank/OTHER_BANK/signal", json={"pdq": "nothex"}, headers=admin)
    assert r.status_code == 400 and "message" in r.json()

    # curl "/m/lookup?signal_type=pdq&signal=<pdq>" -> matches of matching (enabled) banks, by bank
    lookup = {"signal_type": "pdq", "signal": pdq}
    assert wait_for(lambda: client.get("/m/lookup", params=lookup, headers=integrator).json()) == {
        "TEST_BANK": [{"bank_content_id": content_id, "distance": "0"}]
    }
    r = client.get("/m/raw_lookup", params=lookup, headers=integrator)
    assert r.json() == {"matches": [content_id]}
    r = client.get("/m/raw_lookup", params={**lookup, "include_distance": "true"}, headers=integrator)
    assert r.json() == {"matches": [{"bank_content_id": content_id, "distance": "0"}]}
    # curl -X POST -F "photo=@edited.jpg" /m/lookup -> {signal_type: {bank: [matches]}}
    r = client.post("/m/lookup", files={"photo": ("e.jpg", edited(synthetic_image(11)))}, headers=integrator)
    assert r.status_code == 200 and list(r.json()["pdq"]) == ["TEST_BANK"]
    assert client.get("/m/index/status", headers=integrator).json()["pdq"]["size"] >= 2

    # PUT /c/bank/OTHER_BANK {"enabled_ratio": 1.0}; then both banks answer.
    r = client.put("/c/bank/OTHER_BANK", json={"enabled_ratio": 1.0}, headers=admin)
    assert r.json() == {"name": "OTHER_BANK", "matching_enabled_ratio": 1.0}
    wait_for(lambda: len(client.get("/m/lookup", params=lookup, headers=integrator).json()) == 2)
    r = client.put("/c/bank/OTHER_BANK", json={"name": "RENAMED"}, headers=admin)
    assert r.json()["name"] == "RENAMED"

    # DELETE /c/bank/TEST_BANK/content/<id>, DELETE /c/bank/RENAMED
    r = client.delete(f"/c/bank/TEST_BANK/content/{content_id}", headers=admin)
    assert r.json() == {"deleted": 1}
    r = client.delete(f"/c/bank/TEST_BANK/content/{content_id}", headers=admin)
    assert r.json() == {"deleted": 0}
    assert client.delete("/c/bank/RENAMED", headers=admin).json() == {"message": "Done"}
    wait_for(lambda: client.get("/m/lookup", params=lookup, headers=integrator).json() == {})

    r = client.get("/status")  # no key: load balancers call it
    assert r.status_code == 200 and r.text == "I-AM-ALIVE"
    assert client.get("/site-map").status_code == 401
    assert client.get("/c/banks", headers=integrator).status_code == 403


def test_two_app_instances_share_new_content(
    db: Database, tmp_path: Path, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    """Two workers (two app instances, each with its own matcher) on one database: content added through
    one becomes matchable in the other, via the change log."""
    settings = Settings(home=tmp_path, database_url=db.url)
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    with TestClient(create_app(settings, db)) as one, TestClient(create_app(settings, db)) as two:
        one.post("/c/banks", json={"name": "SHARED"}, headers=admin)
        pdq = "f" * 16 + "0" * 48
        lookup = {"signal_type": "pdq", "signal": pdq}
        assert two.get("/m/lookup", params=lookup, headers=integrator).json() == {}
        one.post("/c/bank/SHARED/signal", json={"pdq": pdq}, headers=admin)
        for app in (two, one):
            found = wait_for(lambda app=app: app.get("/m/lookup", params=lookup, headers=integrator).json())
            assert list(found) == ["SHARED"]
