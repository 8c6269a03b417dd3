"""Replay of OpenMediaMatch/tests/test_e2e_workflow.py."""

from __future__ import annotations

from threatexchange.signal_type.pdq.signal import PdqSignal

from tests.hma_replay.conftest import HmaClient, build_all_indices, create_bank


def test_add_hashes_and_find_match(hma: HmaClient) -> None:
    bank_name = "TEST_BANK"
    create_bank(hma, bank_name)

    # PDQ hashes
    hashes = PdqSignal.get_examples()
    for pdq in hashes:
        resp = hma.post(f"/c/bank/{bank_name}/signal", json={"pdq": pdq})
        assert resp.status_code == 200

    build_all_indices(hma)

    # Sanity check that the index is built
    resp = hma.get("/m/index/status?signal_type=pdq")
    assert resp.status_code == 200
    all_build_info = resp.json()
    assert "pdq" in all_build_info
    build_info = all_build_info["pdq"]
    assert build_info["present"] is True
    assert build_info["size"] == len(hashes)

    # Now match
    resp = hma.get(f"/m/lookup?signal_type=pdq&signal={hashes[-1]}")
    assert resp.status_code == 200
    assert resp.json() == {"TEST_BANK": [{"bank_content_id": 16, "distance": "0"}]}

    # Test lookup with no match
    resp = hma.get("/m/lookup?signal_type=pdq&signal={}".format("5" * 64))
    assert resp.status_code == 200
    assert resp.json() == {}
