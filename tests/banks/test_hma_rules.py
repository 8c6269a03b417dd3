"""HMA route rules beyond HMA's own tests (tests/hma_replay): hashing, index status, item states, errors."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image
from threatexchange.signal_type.pdq.signal import PdqSignal

from safeguard.auth import Role
from tests.banks.helpers import jpeg_bytes, synthetic_image, wait_for
from tests.helpers import problem_of

IMAGE = jpeg_bytes(synthetic_image(21))


def test_hash_field_names_the_content_type_and_types_filters(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    key = auth_headers(Role.integrator)
    r = client.post("/h/hash", files={"photo": ("a.jpg", IMAGE)}, headers=key)
    assert r.status_code == 200 and r.json() == {"pdq": PdqSignal.hash_from_bytes(IMAGE)}
    # HMA hashes what the field says: video types, of which video_md5 is the MD5 of the bytes
    r = client.post("/h/hash", files={"video": ("a.jpg", IMAGE)}, headers=key)
    assert r.status_code == 200 and r.json() == {"video_md5": hashlib.md5(IMAGE).hexdigest()}
    r = client.post("/h/hash", params={"types": "md5,pdq"}, files={"photo": ("a.jpg", IMAGE)}, headers=key)
    assert set(r.json()) == {"md5", "pdq"}
    for params, files in (
        ({"types": "nope"}, {"photo": ("a.jpg", IMAGE)}),
        ({"types": ","}, {"photo": ("a.jpg", IMAGE)}),
        ({}, {"file": ("a.jpg", IMAGE)}),
        ({}, [("photo", ("a.jpg", IMAGE)), ("video", ("b.jpg", IMAGE))]),
        ({}, [("photo", ("a.jpg", IMAGE)), ("photo", ("b.jpg", IMAGE))]),
    ):
        r = client.post("/h/hash", params=params, files=files, headers=key)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["message"] == problem_of(r)["detail"]


def test_a_pdq_under_quality_50_is_an_empty_string(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    flat = jpeg_bytes(Image.new("RGB", (64, 64), (120, 120, 120)))
    assert PdqSignal.hash_from_bytes(flat) == ""
    r = client.post("/h/hash", files={"photo": ("flat.jpg", flat)}, headers=auth_headers(Role.integrator))
    assert r.status_code == 200 and r.json() == {"pdq": ""}
    r = client.post("/m/lookup", files={"photo": ("flat.jpg", flat)}, headers=auth_headers(Role.integrator))
    assert r.status_code == 200 and r.json() == {"pdq": {}}


def test_index_status_built_to_is_unix_time_and_signal_type_filters(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin = auth_headers(Role.admin)
    client.post("/c/banks", json={"name": "STATUS"}, headers=admin)
    client.post("/c/bank/STATUS/signal", json={"pdq": "f" * 64}, headers=admin)
    status = wait_for(
        lambda: (
            client.get("/m/index/status", headers=admin).json()["pdq"]["size"]
            and (client.get("/m/index/status", params={"signal_type": "pdq"}, headers=admin).json())
        )
    )
    assert list(status) == ["pdq"] and status["pdq"]["present"] is True
    assert abs(status["pdq"]["built_to"] - time.time()) < 60
    r = client.get("/m/index/status", params={"signal_type": "nope"}, headers=admin)
    assert r.status_code == 400


def test_disable_until_ts_stops_matching_until_then(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin = auth_headers(Role.admin)
    client.post("/c/banks", json={"name": "HOLD"}, headers=admin)
    pdq = "a" * 64
    content_id = client.post("/c/bank/HOLD/signal", json={"pdq": pdq}, headers=admin).json()["id"]
    lookup = {"signal_type": "pdq", "signal": pdq}
    assert wait_for(lambda: client.get("/m/lookup", params=lookup, headers=admin).json())
    url = f"/c/bank/HOLD/content/{content_id}"
    later = int(time.time()) + 3600
    assert (
        client.put(url, json={"disable_until_ts": later}, headers=admin).json()["disable_until_ts"] == later
    )
    assert client.get("/m/lookup", params=lookup, headers=admin).json() == {}
    assert client.put(url, json={"disable_until_ts": 1}, headers=admin).json()["disable_until_ts"] == 1
    assert client.get("/m/lookup", params=lookup, headers=admin).json() != {}
    assert client.put(url, json={"disable_until_ts": 0}, headers=admin).json()["disable_until_ts"] == 0
    wait_for(lambda: client.get("/m/lookup", params=lookup, headers=admin).json() == {})
    for bad in (-1, "soon", True, 1e300):
        assert client.put(url, json={"disable_until_ts": bad}, headers=admin).status_code == 400
    infinite = b'{"disable_until_ts": Infinity}'
    headers = {**admin, "Content-Type": "application/json"}
    assert client.put(url, content=infinite, headers=headers).status_code == 400


def test_bypass_coinflip_reaches_a_bank_at_ratio_zero(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin = auth_headers(Role.admin)
    r = client.post("/c/banks", json={"name": "ROLLOUT", "enabled_ratio": 0.0}, headers=admin)
    assert r.json() == {"name": "ROLLOUT", "matching_enabled_ratio": 0.0}
    assert (
        client.post("/c/bank/ROLLOUT/content", files={"photo": ("a.jpg", IMAGE)}, headers=admin).status_code
        == 200
    )
    files = {"photo": ("a.jpg", IMAGE)}
    wait_for(
        lambda: client.post(
            "/m/lookup", params={"bypass_coinflip": "true"}, files=files, headers=admin
        ).json()["pdq"]
    )
    assert client.post("/m/lookup", files=files, headers=admin).json() == {"pdq": {}}


def test_deletes_count_items_and_missing_things(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin = auth_headers(Role.admin)
    client.post("/c/banks", json={"name": "GONE"}, headers=admin)
    r = client.post("/c/bank/GONE/content", files={"photo": ("a.jpg", IMAGE)}, headers=admin)
    content_id = r.json()["id"]
    assert client.delete(f"/c/bank/GONE/content/{content_id}", headers=admin).json() == {"deleted": 1}
    r = client.delete(f"/c/bank/GONE/content/{content_id}", headers=admin)
    assert r.status_code == 200 and r.json() == {"deleted": 0}
    assert client.delete(f"/c/bank/NO_SUCH/content/{content_id}", headers=admin).status_code == 404
    assert client.delete("/c/bank/NO_SUCH", headers=admin).status_code == 200


def test_metadata_and_notes_are_kept_or_refused(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin = auth_headers(Role.admin)
    client.post("/c/banks", json={"name": "META"}, headers=admin)
    for form in (
        {"metadata": "not json"},
        {"metadata": "[1]"},
        {"metadata": '{"content_id": 5}'},
        {"metadata": '{"json": "x"}'},
        {"note": "x" * 256},
    ):
        r = client.post("/c/bank/META/content", files={"photo": ("a.jpg", IMAGE)}, data=form, headers=admin)
        assert r.status_code == 400, form
    r = client.post("/c/bank/META/signal", json={"pdq": "b" * 64, "note": 5}, headers=admin)
    assert r.status_code == 400
    r = client.post("/c/bank/META/signal", json={"note": "only a note"}, headers=admin)
    assert r.status_code == 400 and "No signals" in r.json()["message"]


def test_hma_errors_are_400_with_message_and_v1_is_unchanged(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    key = auth_headers(Role.admin)
    r = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": "zz"}, headers=key)
    assert r.status_code == 400 and r.json()["message"] == problem_of(r)["detail"]
    r = client.post("/c/banks", json={"name": 7}, headers=key)
    assert r.status_code == 400 and r.json()["message"]
    r = client.post("/v1/match", json={"signals": [{"signal_type": "pdq", "hash": "zz"}]}, headers=key)
    assert r.status_code == 422 and "message" not in r.json()
    r = client.post("/v1/banks", json={"name": "lower case is fine on /v1"}, headers=key)
    assert r.status_code == 201


def test_a_list_built_by_hma_matches_a_cmyk_jpeg(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    """HMA hashes a CMYK JPEG's raw channels; that hash, banked as HMA computed it, matches the upload."""
    import io

    out = io.BytesIO()
    synthetic_image(22).convert("CMYK").save(out, format="JPEG")
    cmyk = out.getvalue()
    hma_hash = PdqSignal.hash_from_bytes(cmyk)
    admin = auth_headers(Role.admin)
    client.post("/c/banks", json={"name": "FROM_HMA"}, headers=admin)
    assert client.post("/c/bank/FROM_HMA/signal", json={"pdq": hma_hash}, headers=admin).status_code == 200
    ours = client.post("/h/hash", files={"photo": ("c.jpg", cmyk)}, headers=admin).json()["pdq"]
    assert ours != hma_hash
    files = {"photo": ("c.jpg", cmyk)}
    found = wait_for(lambda: client.post("/m/lookup", files=files, headers=admin).json()["pdq"])
    assert list(found) == ["FROM_HMA"]
