"""A third-party signal type, registered only through its entry point, works end to end.

``sg_test_sum`` lives in ``tests/plugins/sg_test_signal`` (its own package, installed next to Safeguard by
``.ci/run``): nothing in Safeguard names it. It is hashed (``/v1/hash``, ``/h/hash``), banked (by hash and
by upload), imported (CSV, JSON Lines, HMA signal maps), matched within its own threshold over HTTP
(``/v1/match``, ``/v1/scan``, ``/m/lookup``, ``/m/raw_lookup``) and exported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sg_test_signal  # CI installs it (.ci/run); missing, the module fails to collect: no skip
from fastapi.testclient import TestClient

from safeguard.auth import Role
from safeguard.media import default_registry
from tests.banks.helpers import wait_for
from tests.helpers import problem_of

NAME = "sg_test_sum"


@pytest.fixture(autouse=True)
def _installed() -> None:
    # CI installs the plug-in; a missing one is a failure, not a skip.
    assert NAME in default_registry(), "pip install --no-deps -e tests/plugins/sg_test_signal"


def _file(seed: int) -> bytes:
    """A plain (non-media) file the plug-in hashes."""
    return sg_test_signal.MAGIC + f"synthetic test file {seed}\n".encode() * 8


def _shifted(value: str, by: int) -> str:
    return f"{int(value, 16) + by:08x}"


def _match(client: TestClient, headers: dict[str, str], value: str) -> dict[str, Any]:
    r = client.post("/v1/match", json={"signals": [{"signal_type": NAME, "hash": value}]}, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _import(client: TestClient, admin: dict[str, str], bank: int, fmt: str, text: str) -> dict[str, Any]:
    r = client.post(
        f"/v1/banks/{bank}/import", files={"file": (f"x.{fmt}", text)}, data={"format": fmt}, headers=admin
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_hashed_and_described(client: TestClient, auth_headers: Callable[[Role], dict[str, str]]) -> None:
    integrator = auth_headers(Role.integrator)
    listed = {t["name"]: t for t in client.get("/v1/signal-types", headers=integrator).json()}
    assert listed[NAME]["exact"] is False and listed[NAME]["default_threshold"] == 16
    data = _file(1)
    r = client.post("/v1/hash", files={"file": ("notes.txt", data)}, headers=integrator)
    assert r.status_code == 200, r.text
    hashes = {s["signal_type"]: s["hash"] for s in r.json()["signals"]}
    assert hashes[NAME] == sg_test_signal.sum_hash(data)
    assert set(hashes) == {"md5", "sha256", NAME}


def test_banked_imported_matched_and_exported(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    bank = client.post("/v1/banks", json={"name": "plug"}, headers=admin).json()["id"]
    uploaded = _file(2)
    r = client.post(f"/v1/banks/{bank}/content/upload", files={"file": ("a.txt", uploaded)}, headers=admin)
    assert r.status_code == 201, r.text
    upload_id = r.json()["id"]
    assert {s["signal_type"]: s["hash"] for s in r.json()["signals"]}[NAME] == sg_test_signal.sum_hash(
        uploaded
    )
    # Hashes far apart (more than the threshold of 16), so each query below has one answer.
    csv_hash, jsonl_hash, hma_hash, direct_hash = "00100000", "00200000", "00300000", "00400000"
    header = "signal_type,hash,label\n"
    assert _import(client, admin, bank, "csv", f"{header}{NAME},{csv_hash},C1\n")["added"] == 1
    line = {"signal_type": NAME, "hash": jsonl_hash.upper(), "labels": ["J1"]}
    assert _import(client, admin, bank, "jsonl", json.dumps(line) + "\n")["added"] == 1
    assert _import(client, admin, bank, "hma", json.dumps({NAME: hma_hash}) + "\n")["added"] == 1
    r = client.post(
        f"/v1/banks/{bank}/content",
        json={"signals": [{"signal_type": NAME, "hash": direct_hash}]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/banks/{bank}/import", files={"file": ("x.csv", f"{NAME},xyz\n")}, headers=admin)
    assert r.status_code == 400 and "sg_test_sum" in problem_of(r)["detail"]

    # /v1/match: within the type's own threshold (16), by its own distance; the label came from the CSV.
    near = wait_for(lambda: (m := _match(client, integrator, _shifted(csv_hash, 9)))["matched"] and m)
    hit = near["results"][0]["matches"][0]
    assert (hit["signal_type"], hit["distance"], hit["labels"]) == (NAME, 9, ["C1"])
    assert wait_for(lambda: _match(client, integrator, _shifted(direct_hash, -16))["matched"])
    assert wait_for(lambda: _match(client, integrator, jsonl_hash)["matched"])
    assert _match(client, integrator, _shifted(csv_hash, 17))["matched"] is False
    r = client.post("/v1/match", json={"signals": [{"signal_type": NAME, "hash": "xyz"}]}, headers=integrator)
    assert r.status_code == 422 and problem_of(r)["field"] == "hash"

    # /v1/scan: a file whose bytes differ (so md5 and sha256 do not match) but whose byte sum is 3 away.
    edited = uploaded[:-1] + bytes([uploaded[-1] + 3])
    r = client.post("/v1/scan", files={"file": ("b.txt", edited)}, headers=integrator)
    assert r.status_code == 200, r.text
    by_type = {res["signal_type"]: res for res in r.json()["results"]}
    assert not by_type["md5"]["matches"] and not by_type["sha256"]["matches"]
    assert [(m["content_id"], m["distance"]) for m in by_type[NAME]["matches"]] == [(upload_id, 3)]
    assert r.json()["matched"] is True

    _hma_routes(client, admin, integrator, hma_hash, edited)

    for fmt in ("csv", "jsonl", "hma"):
        r = client.get(f"/v1/banks/{bank}/export", params={"format": fmt}, headers=admin)
        assert r.status_code == 200
        for value in (csv_hash, jsonl_hash, hma_hash, direct_hash, sg_test_signal.sum_hash(uploaded)):
            assert value in r.text, (fmt, value)
    exported = client.get(f"/v1/banks/{bank}/export", params={"format": "csv"}, headers=admin).text
    assert f"{NAME},{csv_hash},C1" in exported.splitlines()


def _hma_routes(
    client: TestClient, admin: dict[str, str], integrator: dict[str, str], banked: str, edited: bytes
) -> None:
    # HMA's form field names the content type; a plug-in's own files come as ``file``, not as a photo.
    r = client.post("/h/hash", files={"photo": ("b.txt", edited)}, headers=integrator)
    assert r.status_code == 400
    r = client.post("/h/hash", files={"file": ("b.txt", edited)}, headers=integrator)
    assert r.status_code == 200 and r.json()[NAME] == sg_test_signal.sum_hash(edited)
    query = {"signal_type": NAME, "signal": _shifted(banked, 5)}
    found_by_bank = client.get("/m/lookup", params=query, headers=integrator).json()
    assert list(found_by_bank) == ["plug"] and found_by_bank["plug"][0]["distance"] == "5"
    r = client.get("/m/raw_lookup", params={**query, "include_distance": "true"}, headers=integrator)
    assert [m["distance"] for m in r.json()["matches"]] == ["5"]
    r = client.post("/m/lookup", files={"file": ("b.txt", edited)}, headers=integrator)
    assert r.status_code == 200 and list(r.json()[NAME]) == ["plug"]
    assert client.post("/c/banks", json={"name": "HMA_PLUG"}, headers=admin).status_code == 201
    r = client.post("/c/bank/HMA_PLUG/signal", json={NAME: "0050000A"}, headers=admin)
    assert r.status_code == 200 and r.json()["signals"] == {NAME: "0050000a"}
    found = wait_for(
        lambda: client.get(
            "/m/lookup", params={"signal_type": NAME, "signal": "00500000"}, headers=integrator
        ).json()
    )
    assert list(found) == ["HMA_PLUG"]
    status = client.get("/m/index/status", headers=integrator).json()
    assert status[NAME]["size"] >= 6
