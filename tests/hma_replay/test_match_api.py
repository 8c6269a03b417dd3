"""Replay of OpenMediaMatch/tests/test_match_api.py (lookups against sample data and several banks)."""

from __future__ import annotations

from typing import Any

import pytest
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from tests.hma_replay.conftest import HmaClient, build_all_indices, create_bank

# HMA's sample exchange fetches python-threatexchange's example signals of each type into bank SAMPLE.
SAMPLE_TYPES: dict[str, Any] = {PdqSignal.get_name(): PdqSignal, VideoMD5Signal.get_name(): VideoMD5Signal}


@pytest.fixture
def client_with_sample_data(hma: HmaClient) -> HmaClient:
    create_bank(hma, "SAMPLE")
    for name, signal_type in SAMPLE_TYPES.items():
        for example in signal_type.get_examples():
            assert hma.post("/c/bank/SAMPLE/signal", json={name: example}).status_code == 200
    build_all_indices(hma)
    assert hma.client.get("/status").status_code == 200
    return hma


def test_raw_lookups(client_with_sample_data: HmaClient) -> None:
    client = client_with_sample_data
    status = client.get("/m/index/status").json()
    assert set(SAMPLE_TYPES) <= set(status)  # HMA: exactly these; Safeguard holds more types
    for sig_name, signal_type in SAMPLE_TYPES.items():
        assert status[sig_name]["present"]

        # For each type, just lookup one signal
        sig_str = signal_type.get_examples()[0]
        query_str: dict[str, Any] = {"signal": sig_str, "signal_type": sig_name}

        resp = client.get("/m/raw_lookup", params=query_str)
        assert resp.status_code == 200
        match_count = len(resp.json()["matches"])
        assert match_count >= 1

        # With distance
        query_str["include_distance"] = True
        resp = client.get("/m/raw_lookup", params=query_str)
        assert resp.status_code == 200
        with_dist_matches = resp.json()["matches"]
        assert len(with_dist_matches) == match_count

        for match in with_dist_matches:
            assert "bank_content_id" in match
            assert "distance" in match


def test_lookups(client_with_sample_data: HmaClient) -> None:
    client = client_with_sample_data
    for sig_name, signal_type in SAMPLE_TYPES.items():
        sig_str = signal_type.get_examples()[0]
        query_str = {"signal": sig_str, "signal_type": sig_name}

        resp = client.get("/m/lookup", params=query_str)
        assert resp.status_code == 200
        resp_json = resp.json()
        assert len(resp_json) == 1
        assert "SAMPLE" in resp_json
        with_dist_matches = resp_json["SAMPLE"]
        assert len(with_dist_matches) > 0

        for match in with_dist_matches:
            assert "bank_content_id" in match
            assert "distance" in match


@pytest.fixture
def client_with_multi_bank_data(hma: HmaClient) -> HmaClient:
    """Several banks holding the same PDQ example, for testing bank filtering."""
    pdq_signal = PdqSignal.get_examples()[0]
    for bank in ("BANK_A", "BANK_B", "BANK_C"):
        create_bank(hma, bank)
        assert hma.post(f"/c/bank/{bank}/signal", json={"pdq": pdq_signal}).status_code == 200
    build_all_indices(hma)
    assert hma.client.get("/status").status_code == 200
    return hma


def test_raw_lookup_with_bank_filter(client_with_multi_bank_data: HmaClient) -> None:
    client = client_with_multi_bank_data
    query_str = {"signal": PdqSignal.get_examples()[0], "signal_type": PdqSignal.get_name()}

    # Test without bank filter - should return all banks
    resp = client.get("/m/raw_lookup", params=query_str)
    assert resp.status_code == 200
    assert len(resp.json()["matches"]) == 3  # One from each bank

    # Test filtering by single bank
    query_str["banks"] = "BANK_A"
    resp = client.get("/m/raw_lookup", params=query_str)
    assert resp.status_code == 200
    assert len(resp.json()["matches"]) == 1

    # Test filtering by multiple banks
    query_str["banks"] = "BANK_A,BANK_B"
    resp = client.get("/m/raw_lookup", params=query_str)
    assert resp.status_code == 200
    assert len(resp.json()["matches"]) == 2

    # Test filtering by non-existent bank
    query_str["banks"] = "NON_EXISTENT_BANK"
    resp = client.get("/m/raw_lookup", params=query_str)
    assert resp.status_code == 200
    assert len(resp.json()["matches"]) == 0


def test_raw_lookup_with_distance_and_bank_filter(client_with_multi_bank_data: HmaClient) -> None:
    client = client_with_multi_bank_data
    query_str = {
        "signal": PdqSignal.get_examples()[0],
        "signal_type": PdqSignal.get_name(),
        "include_distance": True,
        "banks": "BANK_A,BANK_B",
    }
    resp = client.get("/m/raw_lookup", params=query_str)
    assert resp.status_code == 200
    matches = resp.json()["matches"]
    assert len(matches) == 2

    for match in matches:
        assert "bank_content_id" in match
        assert "distance" in match


def test_lookup_with_bank_filter(client_with_multi_bank_data: HmaClient) -> None:
    client = client_with_multi_bank_data
    query_str = {"signal": PdqSignal.get_examples()[0], "signal_type": PdqSignal.get_name()}

    # Test without bank filter - should return all banks
    resp = client.get("/m/lookup", params=query_str)
    assert resp.status_code == 200
    resp_json = resp.json()
    assert len(resp_json) == 3
    assert "BANK_A" in resp_json
    assert "BANK_B" in resp_json
    assert "BANK_C" in resp_json

    # Test filtering by single bank
    query_str["banks"] = "BANK_A"
    resp = client.get("/m/lookup", params=query_str)
    assert resp.status_code == 200
    resp_json = resp.json()
    assert len(resp_json) == 1
    assert "BANK_A" in resp_json
    assert len(resp_json["BANK_A"]) > 0

    # Test filtering by multiple banks
    query_str["banks"] = "BANK_A,BANK_C"
    resp = client.get("/m/lookup", params=query_str)
    assert resp.status_code == 200
    resp_json = resp.json()
    assert len(resp_json) == 2
    assert "BANK_A" in resp_json
    assert "BANK_C" in resp_json
    assert "BANK_B" not in resp_json

    # Test filtering by non-existent bank
    query_str["banks"] = "NON_EXISTENT_BANK"
    resp = client.get("/m/lookup", params=query_str)
    assert resp.status_code == 200
    assert len(resp.json()) == 0
