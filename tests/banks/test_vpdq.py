"""vPDQ in banks, end to end: banking videos (upload, hashes, import files), the matcher following the
change log, the match shape with its percentages, allowlists, HMA routes and bad input."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from safeguard.auth import Role
from tests.banks.helpers import flip_bits, random_pdq, vpdq_frames, vpdq_string, wait_for
from tests.banks.test_api import MATCH_KEYS
from tests.helpers import VIDEOS, problem_of

UNRELATED = ("dev_pan.mp4", "dev_kenburns.mp4", "dev_testsrc.mp4")


def _create_bank(client: TestClient, admin: dict[str, str], name: str, **extra: Any) -> int:
    r = client.post("/v1/banks", json={"name": name, **extra}, headers=admin)
    assert r.status_code == 201, r.text
    bank_id: int = r.json()["id"]
    return bank_id


def _match_vpdq(client: TestClient, headers: dict[str, str], value: str) -> dict[str, Any]:
    r = client.post("/v1/match", json={"signals": [{"signal_type": "vpdq", "hash": value}]}, headers=headers)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()["results"][0]
    return result


def _scan(client: TestClient, headers: dict[str, str], name: str, **form: str) -> dict[str, Any]:
    data = (VIDEOS / name).read_bytes()
    r = client.post("/v1/scan", files={"file": (name, data)}, data=form, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_degraded_copy_of_a_banked_video_matches_and_unrelated_videos_do_not(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    bank_id = _create_bank(client, admin, "videos")
    original = (VIDEOS / "dev_cuts.mp4").read_bytes()
    r = client.post(
        f"/v1/banks/{bank_id}/content/upload",
        files={"file": ("dev_cuts.mp4", original)},
        data={"labels": "A1"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    content = r.json()
    vpdq = [s for s in content["signals"] if s["signal_type"] == "vpdq"]
    # The plain hash and, as variants, the trimmed one and the centre crops (docs/media.md).
    assert next(s["kind"] for s in vpdq) == "primary" and len(vpdq) >= 2
    assert {"video_md5", "md5", "sha256"} <= {s["signal_type"] for s in content["signals"]}
    banked = vpdq[0]["hash"]
    wait_for(lambda: _match_vpdq(client, integrator, banked)["matched"])

    # With the platform's upload id, the match is filed into a review case.
    scan = _scan(client, integrator, "dev_cuts_variant.mp4", content_id="upload-1")
    assert scan["matched"] is True and scan["case_id"] is not None
    by_type = {r["signal_type"]: r for r in scan["results"]}
    assert by_type["video_md5"]["matches"] == []  # re-encoded: the digest differs
    vpdq_results = [r for r in scan["results"] if r["signal_type"] == "vpdq" and r["matches"]]
    match = vpdq_results[0]["matches"][0]
    assert set(match) == MATCH_KEYS
    assert (match["bank"], match["content_id"], match["signal_type"]) == ("videos", content["id"], "vpdq")
    assert match["labels"] == ["A1"] and match["suppressed_by_allowlist"] is False
    assert match["query_match_percent"] >= 80.0 and 0.0 < match["compared_match_percent"] <= 100.0
    assert 0 <= match["distance"] <= 31
    assert any(h["signal_type"] == "vpdq" for h in scan["hashes"])

    for name in UNRELATED:
        scan = _scan(client, integrator, name)
        assert scan["matched"] is False, name
        assert all(r["matches"] == [] for r in scan["results"]), name


def test_vpdq_by_hash_follows_the_change_log_and_scores_as_threatexchange(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    rng = random.Random(7)
    frames = vpdq_frames(rng, 20)
    bank_id = _create_bank(client, admin, "videos")
    body = {
        "signals": [{"signal_type": "vpdq", "hash": vpdq_string(frames)}],
        "labels": ["A2"],
        "external_ids": {"ncmec": "v1"},
    }
    r = client.post(f"/v1/banks/{bank_id}/content", json=body, headers=admin)
    assert r.status_code == 201, r.text
    content_id = r.json()["id"]
    # The same hash written differently (upper case, other timestamp notation) is the same signal.
    respelled = json.dumps([f"{h.upper()},{q},{t:.1f}" for h, q, t in frames])
    again = {"signals": [{"signal_type": "vpdq", "hash": respelled}]}
    r = client.post(f"/v1/banks/{bank_id}/content", json=again, headers=admin)
    assert (r.json()["id"], r.json()["created"]) == (content_id, False)

    # A trimmed, re-encoded copy: six seconds of it, every frame 12 bits off.
    clip = [(flip_bits(h, 12, rng), q, t) for h, q, t in frames[4:10]]
    result = wait_for(lambda: (m := _match_vpdq(client, integrator, vpdq_string(clip)))["matched"] and m)
    match = result["matches"][0]
    assert (match["content_id"], match["distance"], match["labels"]) == (content_id, 12, ["A2"])
    assert (match["query_match_percent"], match["compared_match_percent"]) == (100.0, 30.0)
    assert match["external_ids"] == {"ncmec": "v1"}

    # 80% of the query's frames must match (threatexchange's default); low-quality frames do not count.
    noise = [(random_pdq(rng), 100, 50.0 + i) for i in range(3)]
    assert not _match_vpdq(client, integrator, vpdq_string(frames[:7] + noise))["matches"]
    assert _match_vpdq(client, integrator, vpdq_string(frames[:8] + noise[:2]))["matched"]
    blurred = [(h, 10, t) for h, _, t in noise]
    only_good = _match_vpdq(client, integrator, vpdq_string(frames[:7] + blurred))["matches"]
    assert only_good[0]["query_match_percent"] == 100.0

    # Frames match within the bank's pdq_threshold.
    far = [(flip_bits(h, 20, rng), q, t) for h, q, t in frames]
    assert _match_vpdq(client, integrator, vpdq_string(far))["matches"][0]["distance"] == 20
    assert client.patch(f"/v1/banks/{bank_id}", json={"pdq_threshold": 16}, headers=admin).status_code == 200
    wait_for(lambda: not _match_vpdq(client, integrator, vpdq_string(far))["matches"])
    assert _match_vpdq(client, integrator, vpdq_string(clip))["matched"]

    # Disable, enable, remove: every worker's index follows the change log.
    query = vpdq_string(clip)
    path = f"/v1/banks/{bank_id}/content/{content_id}"

    def indexed() -> int:
        size: int = client.get("/m/index/status", headers=integrator).json()["vpdq"]["size"]
        return size

    assert client.post(f"{path}/disable", json={"reason": "false positive"}, headers=admin).status_code == 200
    wait_for(lambda: indexed() == 0)
    assert not _match_vpdq(client, integrator, query)["matches"]
    assert client.post(f"{path}/enable", headers=admin).status_code == 200
    wait_for(lambda: _match_vpdq(client, integrator, query)["matched"])
    assert indexed() == 1
    assert client.delete(path, headers=admin).status_code == 204
    wait_for(lambda: indexed() == 0)
    assert not _match_vpdq(client, integrator, query)["matches"]


def test_allowlist_banks_suppress_vpdq_matches(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    rng = random.Random(11)
    frames = vpdq_frames(rng, 10)
    listed = _create_bank(client, admin, "videos")
    allow = _create_bank(client, admin, "benign", is_allowlist=True)
    body = {"signals": [{"signal_type": "vpdq", "hash": vpdq_string(frames)}]}
    assert client.post(f"/v1/banks/{listed}/content", json=body, headers=admin).status_code == 201
    wait_for(lambda: _match_vpdq(client, integrator, vpdq_string(frames))["matched"])
    benign = {"signals": [{"signal_type": "vpdq", "hash": vpdq_string(frames[:9])}]}
    assert client.post(f"/v1/banks/{allow}/content", json=benign, headers=admin).status_code == 201
    result = wait_for(
        lambda: (m := _match_vpdq(client, integrator, vpdq_string(frames))) and not m["matched"] and m
    )
    by_bank = {m["bank"]: m for m in result["matches"]}
    assert by_bank["videos"]["suppressed_by_allowlist"] is True
    assert by_bank["benign"]["is_allowlist"] is True
    assert by_bank["benign"]["query_match_percent"] == 90.0
    assert by_bank["benign"]["compared_match_percent"] == 100.0
    r = client.get(
        "/m/lookup", params={"signal_type": "vpdq", "signal": vpdq_string(frames)}, headers=integrator
    )
    assert r.json() == {}


def test_bad_vpdq_input_is_a_clear_422(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    rng = random.Random(5)
    good = random_pdq(rng)
    bad = {
        "not json": ("[not json", "JSON list"),
        "an object": ('{"a": 1}', "non-empty JSON list"),
        "empty": ("[]", "non-empty JSON list"),
        "two parts": (json.dumps([f"{good},100"]), "not 'pdq,quality,timestamp'"),
        "bad hex": (json.dumps([f"{good[:-1]}z,100,0.0"]), "not 'pdq,quality,timestamp'"),
        "short hash": (json.dumps([f"{good[:60]},100,0.0"]), "out of range"),
        "quality 101": (json.dumps([f"{good},101,0.0"]), "out of range"),
        "negative time": (json.dumps([f"{good},100,-1.0"]), "out of range"),
        "infinite time": (json.dumps([f"{good},100,inf"]), "finite"),
        "a number frame": (json.dumps([5]), "frame 0"),
    }
    for case, (value, words) in bad.items():
        r = client.post(
            "/v1/match", json={"signals": [{"signal_type": "vpdq", "hash": value}]}, headers=integrator
        )
        assert r.status_code == 422, case
        problem = problem_of(r)
        assert problem["field"] == "hash" and words in str(problem["detail"]), (case, problem)
    r = client.post("/v1/match", json={"signals": [{"signal_type": "vpdq", "hash": 5}]}, headers=integrator)
    assert r.status_code == 422 and problem_of(r)
    r = client.get("/m/raw_lookup", params={"signal_type": "vpdq", "signal": "[1"}, headers=integrator)
    assert r.status_code == 400 and "JSON list" in str(problem_of(r)["detail"])  # HMA's 400

    bank_id = _create_bank(client, admin, "videos")
    dim = {"signals": [{"signal_type": "vpdq", "hash": vpdq_string(vpdq_frames(rng, 5, quality=20))}]}
    r = client.post(f"/v1/banks/{bank_id}/content", json=dim, headers=admin)
    assert r.status_code == 422 and "could never match" in str(problem_of(r)["detail"])
    too_many = vpdq_string([(good, 100, float(i)) for i in range(20_001)])
    r = client.post(
        f"/v1/banks/{bank_id}/content",
        json={"signals": [{"signal_type": "vpdq", "hash": too_many}]},
        headers=admin,
    )
    assert r.status_code == 422 and "at most" in str(problem_of(r)["detail"])
    # A video's hash without any frame good enough to match simply matches nothing.
    assert _match_vpdq(client, integrator, dim["signals"][0]["hash"])["matches"] == []


def test_hma_routes_hash_bank_and_look_up_video(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    original = (VIDEOS / "dev_cuts.mp4").read_bytes()
    r = client.post("/h/hash", files={"video": ("v.mp4", original)}, headers=integrator)
    assert r.status_code == 200, r.text
    hashes = r.json()
    assert set(hashes) == {"vpdq", "video_md5"}  # HMA's video signal types
    assert all(len(frame.split(",")) == 3 for frame in json.loads(hashes["vpdq"]))

    assert client.post("/c/banks", json={"name": "HMA_VIDEOS"}, headers=admin).status_code == 201
    r = client.post("/c/bank/HMA_VIDEOS/content", files={"video": ("v.mp4", original)}, headers=admin)
    assert r.status_code == 200, r.text
    content_id = r.json()["id"]
    assert r.json()["signals"]["vpdq"] == hashes["vpdq"]

    params = {"signal_type": "vpdq", "signal": hashes["vpdq"]}
    found = wait_for(lambda: client.get("/m/lookup", params=params, headers=integrator).json())
    assert found == {"HMA_VIDEOS": [{"bank_content_id": content_id, "distance": "100%[100%]"}]}
    r = client.get("/m/raw_lookup", params={**params, "include_distance": "true"}, headers=integrator)
    assert r.json() == {
        "matches": [
            {
                "bank_content_id": content_id,
                "distance": "100%[100%]",
                "query_match_percent": 100.0,
                "compared_match_percent": 100.0,
            }
        ]
    }
    variant = (VIDEOS / "dev_cuts_variant.mp4").read_bytes()
    r = client.post("/m/lookup", files={"video": ("v.mp4", variant)}, headers=integrator)
    assert r.status_code == 200, r.text
    assert list(r.json()["vpdq"]) == ["HMA_VIDEOS"] and r.json()["video_md5"] == {}
    unrelated = (VIDEOS / UNRELATED[0]).read_bytes()
    r = client.post("/m/lookup", files={"video": ("v.mp4", unrelated)}, headers=integrator)
    assert all(by_bank == {} for by_bank in r.json().values())

    # Hashes added directly, HMA's way.
    frames = vpdq_string(vpdq_frames(random.Random(2), 8))
    r = client.post("/c/bank/HMA_VIDEOS/signal", json={"vpdq": frames}, headers=admin)
    assert r.status_code == 200 and r.json()["signals"] == {"vpdq": frames}
    r = client.post("/c/bank/HMA_VIDEOS/signal", json={"vpdq": "[]"}, headers=admin)
    assert r.status_code == 400 and problem_of(r)
