"""The banks and matching API: one match shape, uploads, imports, allowlists, lists, changes."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps

from safeguard import audit
from safeguard.auth import Actor, Role
from safeguard.banks import media as bank_media
from safeguard.media import HashOptions, HashResult
from safeguard.store import db as store_db
from safeguard.store.db import Database
from tests.banks.helpers import edited, flip_bits, jpeg_bytes, random_pdq, synthetic_image, wait_for
from tests.helpers import IMAGES, problem_of

MATCH_KEYS = {
    "bank",
    "bank_id",
    "is_allowlist",
    "content_id",
    "signal_type",
    "distance",
    "labels",
    "external_ids",
    "suppressed_by_allowlist",
    "query_match_percent",  # vpdq only (null for other signal types)
    "compared_match_percent",
}


def _match(client: TestClient, headers: dict[str, str], value: str, **extra: Any) -> dict[str, Any]:
    r = client.post(
        "/v1/match", json={"signals": [{"signal_type": "pdq", "hash": value}], **extra}, headers=headers
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_bank_crud_content_and_match(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    r = client.post("/v1/banks", json={"name": "ncmec", "description": "NCMEC"}, headers=admin)
    assert r.status_code == 201, r.text
    bank_id = r.json()["id"]
    assert client.post("/v1/banks", json={"name": "ncmec"}, headers=admin).status_code == 409
    assert client.post("/v1/banks", json={"name": "x"}, headers=integrator).status_code == 403

    rng = random.Random(1)
    value = random_pdq(rng)
    body = {
        "signals": [{"signal_type": "pdq", "hash": value}],
        "labels": ["A1"],
        "external_ids": {"ncmec": "123"},
        "source": "NCMEC",
        "notes": "case 7",
    }
    r = client.post(f"/v1/banks/{bank_id}/content", json=body, headers=admin)
    assert r.status_code == 201, r.text
    content = r.json()
    assert content["created"] is True and content["labels"] == ["A1"]
    again = client.post(f"/v1/banks/{bank_id}/content", json=body, headers=admin).json()
    assert (again["id"], again["created"]) == (content["id"], False)

    near = flip_bits(value, 20, rng)
    result = wait_for(lambda: (m := _match(client, integrator, near))["matched"] and m)
    match = result["results"][0]["matches"][0]
    assert set(match) == MATCH_KEYS
    assert (match["bank"], match["content_id"], match["distance"]) == ("ncmec", content["id"], 20)
    assert match["external_ids"] == {"ncmec": "123"} and match["suppressed_by_allowlist"] is False

    # Bad hashes and unknown bank filters are clear 422s naming the field.
    r = client.post(
        "/v1/match", json={"signals": [{"signal_type": "pdq", "hash": "xyz"}]}, headers=integrator
    )
    assert r.status_code == 422 and problem_of(r)["field"] == "hash"
    r = client.post(
        "/v1/match",
        json={"signals": [{"signal_type": "pdq", "hash": value}], "banks": ["nope"]},
        headers=integrator,
    )
    assert r.status_code == 422 and "nope" in str(problem_of(r)["detail"])

    # Disable (false positive) stops matching; enable brings it back.
    r = client.post(
        f"/v1/banks/{bank_id}/content/{content['id']}/disable", json={"reason": "collision"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["disabled_reason"] == "collision"
    assert not _match(client, integrator, value)["matched"]
    client.post(f"/v1/banks/{bank_id}/content/{content['id']}/enable", headers=admin)
    wait_for(lambda: _match(client, integrator, value)["matched"])

    r = client.patch(f"/v1/banks/{bank_id}", json={"enabled": False}, headers=admin)
    assert r.status_code == 200
    wait_for(lambda: not _match(client, integrator, value)["matched"])
    assert client.get(f"/v1/banks/{bank_id}", headers=integrator).json()["content_count"] == 1
    assert client.delete(f"/v1/banks/{bank_id}", headers=admin).status_code == 204
    assert client.get(f"/v1/banks/{bank_id}", headers=integrator).status_code == 404

    changes = client.get("/v1/banks/changes?since=0", headers=integrator).json()
    assert [c["op"] for c in changes["changes"]] == ["bank", "add", "disable", "enable", "bank", "bank"]
    assert changes["next_since"] == changes["checkpoint"] == changes["changes"][-1]["seq"]


def test_scan_upload_allowlist_and_filter(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    csam = client.post("/v1/banks", json={"name": "csam"}, headers=admin).json()["id"]
    other = client.post("/v1/banks", json={"name": "other"}, headers=admin).json()["id"]
    allow = client.post("/v1/banks", json={"name": "benign", "is_allowlist": True}, headers=admin).json()[
        "id"
    ]
    image, decoy = synthetic_image(1), synthetic_image(2)
    r = client.post(
        f"/v1/banks/{csam}/content/upload",
        files={"file": ("a.jpg", jpeg_bytes(image))},
        data={"labels": "A1,B2"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    kinds = [s["kind"] for s in r.json()["signals"] if s["signal_type"] == "pdq"]
    assert kinds[0] == "primary" and "variant" in kinds  # dihedral variants banked
    client.post(
        f"/v1/banks/{other}/content/upload", files={"file": ("d.jpg", jpeg_bytes(decoy))}, headers=admin
    )

    def scan(data: bytes, params: str = "") -> dict[str, Any]:
        r = client.post(f"/v1/scan{params}", files={"file": ("q.jpg", data)}, headers=integrator)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    result = wait_for(lambda: (s := scan(edited(image)))["matched"] and s)
    pdq = next(x for x in result["results"] if x["signal_type"] == "pdq")
    assert pdq["matches"][0]["bank"] == "csam" and pdq["matches"][0]["labels"] == ["A1", "B2"]
    assert {h["signal_type"] for h in result["hashes"]} == {"pdq", "md5", "sha256"}
    assert not scan(edited(image), "?banks=other")["matched"]
    assert not scan(jpeg_bytes(synthetic_image(3)))["matched"]

    # The same image in the allowlist bank suppresses the match.
    client.post(
        f"/v1/banks/{allow}/content/upload", files={"file": ("a.jpg", jpeg_bytes(image))}, headers=admin
    )
    suppressed = wait_for(lambda: (s := scan(edited(image)))["matched"] is False and s)
    pdq = next(x for x in suppressed["results"] if x["signal_type"] == "pdq")
    assert {(m["bank"], m["suppressed_by_allowlist"]) for m in pdq["matches"]} == {
        ("csam", True),
        ("benign", False),
    }
    r = client.post("/v1/scan", files={"file": ("x.jpg", b"\xff\xd8\xff\xe0broken")}, headers=integrator)
    assert r.status_code < 500


def test_import_api_is_all_or_nothing(client: TestClient, admin_headers: dict[str, str]) -> None:
    bank = client.post("/v1/banks", json={"name": "iwf"}, headers=admin_headers).json()["id"]
    rng = random.Random(2)
    good = "".join(f"pdq,{random_pdq(rng)},A2\n" for _ in range(20))
    r = client.post(
        f"/v1/banks/{bank}/import", files={"file": ("x.csv", good + "pdq,123\n")}, headers=admin_headers
    )
    assert r.status_code == 400
    problem = problem_of(r)
    assert problem["type"] == "/problems/import-rejected" and problem["line"] == 21
    assert client.get(f"/v1/banks/{bank}", headers=admin_headers).json()["content_count"] == 0
    r = client.post(f"/v1/banks/{bank}/import", files={"file": ("x.csv", good)}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["added"] == 20
    r = client.post(f"/v1/banks/{bank}/import", files={"file": ("x.csv", good)}, headers=admin_headers)
    assert r.json()["added"] == 0 and r.json()["duplicates"] == 20
    r = client.get(f"/v1/banks/{bank}/export?format=csv", headers=admin_headers)
    assert r.status_code == 200 and r.text == good


def test_url_and_keyword_routes(client: TestClient, auth_headers: Callable[[Role], dict[str, str]]) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    lst = client.post("/v1/url-lists", json={"name": "iwf-urls", "source": "IWF"}, headers=admin).json()["id"]
    r = client.post(
        f"/v1/url-lists/{lst}/import",
        files={"file": ("u.txt", "bad.example/x/1.jpg\nevil.example\n")},
        headers=admin,
    )
    assert r.json() == {"added": 2}
    r = client.post(
        "/v1/match-url", json={"url": "https://WWW.Bad.Example:443/x/1.jpg?utm_source=a"}, headers=integrator
    )
    assert r.json()["matched"] and r.json()["normalized"] == "bad.example/x/1.jpg"
    assert r.json()["matches"][0]["list"] == "iwf-urls"
    r = client.post("/v1/match-url", json={"url": "ftp://x"}, headers=integrator)
    assert r.status_code == 422

    kl = client.post(
        "/v1/keyword-lists",
        json={
            "name": "deter",
            "message": "Viewing sexual images of children is illegal.",
            "help_links": [{"title": "Stop It Now", "url": "https://www.stopitnow.org.uk/"}],
        },
        headers=admin,
    ).json()["id"]
    client.post(f"/v1/keyword-lists/{kl}/terms", json={"terms": ["forbidden phrase"]}, headers=admin)
    r = client.post("/v1/check-query", json={"query": "f0rb1dden   phraaase"}, headers=integrator).json()
    assert r["matched"] and r["message"].startswith("Viewing")
    assert r["help_links"] == [{"title": "Stop It Now", "url": "https://www.stopitnow.org.uk/"}]
    r = client.post("/v1/check-query", json={"query": "cute cats"}, headers=integrator).json()
    assert r == {"matched": False, "message": None, "help_links": [], "hits": []}


def test_scan_matches_cropped_and_framed_reuploads_of_a_banked_photo(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    """Plain PDQ loses crops and borders (docs/media.md); banked crops and query-side trimming win them."""
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    bank = client.post("/v1/banks", json={"name": "known"}, headers=admin).json()["id"]
    photo = Image.open(sorted(IMAGES.glob("*.jpg"))[3]).convert("RGB")
    r = client.post(
        f"/v1/banks/{bank}/content/upload", files={"file": ("p.jpg", jpeg_bytes(photo))}, headers=admin
    )
    assert r.status_code == 201, r.text
    variants = sum(s["signal_type"] == "pdq" and s["kind"] == "variant" for s in r.json()["signals"])
    assert variants >= 10  # 7 dihedral + 4 centre crops (less any that coincide)

    w, h = photo.size
    cropped = photo.crop((w // 20, h // 20, w - w // 20, h - h // 20))  # 5% off each side
    framed = ImageOps.expand(photo, border=(w // 10, h // 10), fill="white")  # a 10% white border
    mirrored = ImageOps.mirror(photo)

    def scan(image: Image.Image) -> dict[str, Any]:
        r = client.post("/v1/scan", files={"file": ("q.jpg", jpeg_bytes(image, 80))}, headers=integrator)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    for edit in (cropped, framed, mirrored):
        assert wait_for(lambda edit=edit: scan(edit)["matched"])  # type: ignore[misc]
    # A flat picture's PDQ hash is below the quality floor: it is neither banked nor looked up.
    flat = Image.new("RGB", (300, 300), (120, 130, 140))
    r = client.post(f"/v1/banks/{bank}/content/upload", files={"file": ("f.png", _png(flat))}, headers=admin)
    assert r.status_code == 201 and {s["signal_type"] for s in r.json()["signals"]} == {"md5", "sha256"}
    assert {h["signal_type"] for h in scan(flat)["hashes"]} == {"md5", "sha256"}


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_deleting_or_disabling_a_bank_stops_matching_at_once_in_the_answering_worker(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    values = [random_pdq(random.Random(21)), random_pdq(random.Random(22))]
    banks = []
    for name, value in zip(("gone", "paused"), values, strict=True):
        bank = client.post("/v1/banks", json={"name": name}, headers=admin).json()["id"]
        body = {"signals": [{"signal_type": "pdq", "hash": value}]}
        assert client.post(f"/v1/banks/{bank}/content", json=body, headers=admin).status_code == 201
        banks.append(bank)
    for value in values:
        assert wait_for(lambda value=value: _match(client, integrator, value)["matched"])  # type: ignore[misc]
    # Stop the poll thread from catching up by itself: only the answering route can make it at once.
    app: Any = client.app
    matcher = app.state.bank_matcher
    matcher.poll_interval = 3600
    polled = matcher.last_refresh
    wait_for(lambda: matcher.last_refresh != polled)  # it has started its long sleep
    assert client.delete(f"/v1/banks/{banks[0]}", headers=admin).status_code == 204
    assert _match(client, integrator, values[0])["matched"] is False
    r = client.patch(f"/v1/banks/{banks[1]}", json={"enabled": False}, headers=admin)
    assert r.status_code == 200
    assert _match(client, integrator, values[1])["matched"] is False
    r = client.patch(f"/v1/banks/{banks[1]}", json={"enabled": True}, headers=admin)
    assert _match(client, integrator, values[1])["matched"] is True
    # The HMA routes too.
    r = client.put("/c/bank/paused", json={"enabled": False}, headers=admin)
    assert r.status_code == 200 and _match(client, integrator, values[1])["matched"] is False
    client.put("/c/bank/paused", json={"enabled": True}, headers=admin)
    assert client.delete("/c/bank/paused", headers=admin).status_code == 200
    assert _match(client, integrator, values[1])["matched"] is False


def test_upload_hashes_before_its_write_transaction(
    client: TestClient,
    auth_headers: Callable[[Role], dict[str, str]],
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While a bank upload hashes (a video: minutes), other writers are not kept waiting (#24)."""
    admin = auth_headers(Role.admin)
    bank = client.post("/v1/banks", json={"name": "slow"}, headers=admin).json()["id"]
    real = bank_media.hash_upload
    during: list[str] = []

    def hash_while_writing(data: bytes, options: HashOptions, **kwargs: Any) -> HashResult:
        with db.session() as session:  # blocked by the upload's own transaction before the fix
            audit.record(session, Actor.system("tests"), "test.during_hash", "bank", "0")
        during.append("written")
        return real(data, options, **kwargs)

    monkeypatch.setattr(store_db, "SQLITE_BUSY_TIMEOUT_MS", 2000)  # fail fast instead of waiting 30 s
    monkeypatch.setattr(bank_media, "hash_upload", hash_while_writing)
    for path in (f"/v1/banks/{bank}/content/upload", "/c/bank/slow/content"):
        field = "file" if path.startswith("/v1") else "photo"
        image = synthetic_image(len(during) + 3)
        r = client.post(path, files={field: ("a.jpg", jpeg_bytes(image))}, headers=admin)
        assert r.status_code in (200, 201), r.text
    assert during == ["written", "written"]
    missing = client.post("/v1/banks/999999/content/upload", files={"file": ("a.jpg", b"x")}, headers=admin)
    assert missing.status_code == 404 and during == ["written", "written"]  # no hashing for a bad bank
