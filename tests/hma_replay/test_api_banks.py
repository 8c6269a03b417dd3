"""Replay of OpenMediaMatch/tests/test_api_banks.py (banks and their content)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.hma_replay.conftest import (
    IMAGE1,
    IMAGE2,
    IMAGE_PDQ,
    HmaClient,
    add_hash_to_bank,
    add_image,
    build_all_indices,
    create_bank,
)


def test_banks_empty_index(hma: HmaClient) -> None:
    response = hma.get("/c/banks")
    assert response.status_code == 200
    assert response.json() == []


def test_banks_create(hma: HmaClient) -> None:
    # Must not start with number
    post_response = hma.post("/c/banks", json={"name": "01_TEST_BANK"})
    assert post_response.status_code == 400

    # Cannot contain lowercase letters
    post_response = hma.post("/c/banks", json={"name": "my_test_bank"})
    assert post_response.status_code == 400

    post_response = hma.post("/c/banks", json={"name": "MY_TEST_BANK_01"})
    assert post_response.status_code == 201
    assert post_response.json() == {"matching_enabled_ratio": 1.0, "name": "MY_TEST_BANK_01"}

    # Should now be visible on index
    response = hma.get("/c/banks")
    assert response.status_code == 200
    assert response.json() == [post_response.json()]


def test_banks_update(hma: HmaClient) -> None:
    post_response = hma.post("/c/banks", json={"name": "MY_TEST_BANK"})
    assert post_response.status_code == 201

    # check name validation
    post_response = hma.put("/c/bank/MY_TEST_BANK", json={"name": "1_invalid_name"})
    assert post_response.status_code == 400

    # check update with rename
    post_response = hma.put("/c/bank/MY_TEST_BANK", json={"name": "MY_TEST_BANK_RENAMED"})
    assert post_response.status_code == 200
    assert post_response.json()["name"] == "MY_TEST_BANK_RENAMED"

    # check update without rename
    post_response = hma.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled": False})
    assert post_response.status_code == 200
    assert post_response.json()["matching_enabled_ratio"] == 0

    # check update without ratio
    post_response = hma.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled_ratio": 0.5})
    assert post_response.status_code == 200
    assert post_response.json()["matching_enabled_ratio"] == 0.5

    # Final test to make sure we only have one bank with proper name and disabled
    get_response = hma.get("/c/banks")
    assert get_response.status_code == 200
    banks = get_response.json()
    assert len(banks) == 1
    assert banks[0] == {"name": "MY_TEST_BANK_RENAMED", "matching_enabled_ratio": 0.5}


def test_banks_delete(hma: HmaClient) -> None:
    post_response = hma.post("/c/banks", json={"name": "MY_TEST_BANK"})
    assert post_response.status_code == 201

    post_response = hma.delete("/c/bank/MY_TEST_BANK")
    assert post_response.status_code == 200

    # deleting non existing bank should succeed
    post_response = hma.delete("/c/bank/MY_TEST_BANK")
    assert post_response.status_code == 200


def test_bank_get_content(hma: HmaClient) -> None:
    bank_name = "TEST_BANK_GET"
    create_bank(hma, bank_name)

    add_response = add_image(hma, bank_name, IMAGE1)
    assert add_response.status_code == 200, add_response.text
    assert add_response.json()
    content_id = add_response.json().get("id")

    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}")
    assert get_response.status_code == 200, get_response.text
    assert get_response.json()
    assert get_response.json().get("id") == content_id


def test_bank_get_content_404(hma: HmaClient) -> None:
    bank_name = "TEST_BANK_GET"
    content_id = 1

    # Bank does not exist
    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}")
    assert get_response.status_code == 404, get_response.text

    create_bank(hma, bank_name)

    # Content does not exist
    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}")
    assert get_response.status_code == 404, get_response.text


def test_banks_add_content(hma: HmaClient) -> None:
    bank_name = "NEW_BANK"
    create_bank(hma, bank_name)

    post_response = add_image(hma, bank_name, IMAGE1)
    assert post_response.status_code == 200, post_response.text
    assert post_response.json() == {"id": 1, "signals": {"pdq": IMAGE_PDQ[IMAGE1]}}


def test_bank_update_content(hma: HmaClient) -> None:
    bank_name = "TEST_BANK_UPDATE"
    create_bank(hma, bank_name)

    add_response = add_image(hma, bank_name, IMAGE1)
    assert add_response.status_code == 200, add_response.text
    assert add_response.json()
    content_id = add_response.json().get("id")

    new_disable_ts = int((datetime.now() + timedelta(days=365)).timestamp())
    url = f"/c/bank/{bank_name}/content/{content_id}"
    update_response = hma.put(url, json={"disable_until_ts": new_disable_ts})
    assert update_response.status_code == 200, update_response.text
    assert update_response.json()
    updated_content = update_response.json()
    assert updated_content.get("disable_until_ts") == new_disable_ts


def test_bank_update_content_400(hma: HmaClient) -> None:
    bank_name = "TEST_BANK_UPDATE"
    create_bank(hma, bank_name)

    add_response = add_image(hma, bank_name, IMAGE1)
    assert add_response.status_code == 200, add_response.text
    assert add_response.json()
    content_id = add_response.json().get("id")

    # a disable_until_ts too far in the future
    new_disable_ts = 9999999999
    url = f"/c/bank/{bank_name}/content/{content_id}"
    update_response = hma.put(url, json={"disable_until_ts": new_disable_ts})
    assert update_response.status_code == 400, update_response.text


def test_banks_delete_content(hma: HmaClient) -> None:
    bank_name = "NEW_BANK"
    create_bank(hma, bank_name)
    add_hash_to_bank(hma, bank_name, IMAGE1, 1)

    post_response = hma.delete(f"/c/bank/{bank_name}/content/1")
    assert post_response.status_code == 200
    assert post_response.json() == {"deleted": 1}


def test_banks_add_metadata(hma: HmaClient) -> None:
    bank_name = "NEW_BANK"
    create_bank(hma, bank_name)

    post_response = add_image(hma, bank_name, IMAGE1, metadata=json.dumps({"invalid_metadata": 5}))
    assert post_response.status_code == 400, post_response.text

    metadata = {"content_id": "1197433091", "json": {"asdf": {}}}
    post_response = add_image(hma, bank_name, IMAGE1, metadata=json.dumps(metadata))
    assert post_response.status_code == 200, post_response.text


def test_banks_add_hash_index(hma: HmaClient) -> None:
    bank_name = "NEW_BANK"
    bank_name_2 = "NEW_BANK_2"

    # Make two banks and add images to each bank
    create_bank(hma, bank_name)
    add_hash_to_bank(hma, bank_name, IMAGE1, 1)
    create_bank(hma, bank_name_2)
    add_hash_to_bank(hma, bank_name, IMAGE2, 2)

    build_all_indices(hma)

    # Test against first image
    post_response = hma.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": IMAGE_PDQ[IMAGE1]})
    assert post_response.status_code == 200
    assert post_response.json() == {"matches": [1]}

    # Test against second image
    post_response = hma.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": IMAGE_PDQ[IMAGE2]})
    assert post_response.status_code == 200
    assert post_response.json() == {"matches": [2]}


def test_bank_get_content_with_signals(hma: HmaClient) -> None:
    bank_name = "TEST_BANK_GET_SIGS"
    create_bank(hma, bank_name)

    add_response = add_image(hma, bank_name, IMAGE1)
    assert add_response.status_code == 200, add_response.text
    content_id = add_response.json().get("id")

    # Get content by id without signals
    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}")
    assert get_response.status_code == 200, get_response.text
    assert get_response.json()
    assert get_response.json().get("id") == content_id
    # Signals should not be included when include_signals is not specified
    assert "signals" not in get_response.json()

    # Get content by id with signals
    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}?include_signals=true")
    assert get_response.status_code == 200, get_response.text
    body = get_response.json()
    assert body
    assert body.get("id") == content_id
    if "signals" in body:
        assert isinstance(body["signals"], dict)
        assert len(body["signals"]) > 0


def test_bank_get_content_returns_stored_metadata(hma: HmaClient) -> None:
    """GET /bank/<name>/content/<id> returns user-supplied metadata stored via POST."""
    bank_name = "TEST_BANK_METADATA"
    create_bank(hma, bank_name)

    metadata = {
        "content_id": "ext-id-123",
        "content_uri": "https://example.com/item/123",
        "json": {"source": "test", "nested": {"key": "value"}},
    }
    add_response = add_image(hma, bank_name, IMAGE1, metadata=json.dumps(metadata))
    assert add_response.status_code == 200, add_response.text
    add_data = add_response.json()
    assert add_data is not None
    content_id = add_data["id"]

    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}")
    assert get_response.status_code == 200, get_response.text
    get_data = get_response.json()
    assert get_data is not None
    assert "metadata" in get_data
    assert get_data["metadata"]["content_id"] == metadata["content_id"]
    assert get_data["metadata"]["content_uri"] == metadata["content_uri"]
    assert get_data["metadata"]["json"] == metadata["json"]


def test_bank_get_content_include_metadata_false(hma: HmaClient) -> None:
    """GET with include_metadata=false omits metadata from response."""
    bank_name = "TEST_BANK_NO_METADATA"
    create_bank(hma, bank_name)

    metadata = {"content_id": "id1", "content_uri": "https://example.com/1"}
    add_response = add_image(hma, bank_name, IMAGE1, metadata=json.dumps(metadata))
    assert add_response.status_code == 200, add_response.text
    content_id = add_response.json()["id"]

    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}?include_metadata=false")
    assert get_response.status_code == 200, get_response.text
    get_data = get_response.json()
    assert get_data is not None
    assert "metadata" not in get_data


def test_bank_add_content_with_note(hma: HmaClient) -> None:
    """POST content with a note; GET returns the note."""
    bank_name = "TEST_BANK_NOTE"
    create_bank(hma, bank_name)

    add_response = add_image(hma, bank_name, IMAGE1, note="Reported by user X")
    assert add_response.status_code == 200, add_response.text
    content_id = add_response.json()["id"]

    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}")
    assert get_response.status_code == 200, get_response.text
    assert get_response.json()["note"] == "Reported by user X"


def test_bank_add_content_without_note_omitted(hma: HmaClient) -> None:
    """Add content without a note; GET does not include note key."""
    bank_name = "TEST_BANK_NO_NOTE"
    create_bank(hma, bank_name)

    add_response = add_image(hma, bank_name, IMAGE1)
    assert add_response.status_code == 200, add_response.text
    content_id = add_response.json()["id"]

    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}")
    assert get_response.status_code == 200, get_response.text
    assert "note" not in get_response.json()


def test_bank_update_content_note(hma: HmaClient) -> None:
    """PUT can set, update, and clear a note."""
    bank_name = "TEST_BANK_NOTE_UPDATE"
    create_bank(hma, bank_name)

    add_response = add_image(hma, bank_name, IMAGE1)
    assert add_response.status_code == 200, add_response.text
    content_id = add_response.json()["id"]
    url = f"/c/bank/{bank_name}/content/{content_id}"

    # Set note
    update_response = hma.put(url, json={"note": "Initial note"})
    assert update_response.status_code == 200, update_response.text
    assert hma.get(url).json()["note"] == "Initial note"

    # Update note
    update_response = hma.put(url, json={"note": "Updated note"})
    assert update_response.status_code == 200
    assert hma.get(url).json()["note"] == "Updated note"

    # Clear note
    update_response = hma.put(url, json={"note": ""})
    assert update_response.status_code == 200
    assert "note" not in hma.get(url).json()


def test_bank_add_note_too_long(hma: HmaClient) -> None:
    """Note exceeding 255 characters is rejected."""
    bank_name = "TEST_BANK_NOTE_LONG"
    create_bank(hma, bank_name)

    add_response = add_image(hma, bank_name, IMAGE1, note="x" * 256)
    assert add_response.status_code == 400


def test_bank_add_hash_with_note(hma: HmaClient) -> None:
    """POST signal with a note; GET returns the note."""
    bank_name = "TEST_BANK_HASH_NOTE"
    create_bank(hma, bank_name)

    pdq_hash = "0" * 64
    body = {"pdq": pdq_hash, "note": "Hash from campaign ABC"}
    add_response = hma.post(f"/c/bank/{bank_name}/signal", json=body)
    assert add_response.status_code == 200, add_response.text
    content_id = add_response.json()["id"]

    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}")
    assert get_response.status_code == 200, get_response.text
    assert get_response.json()["note"] == "Hash from campaign ABC"


def test_bank_get_content_without_metadata_omitted(hma: HmaClient) -> None:
    """Add content without metadata; GET does not include metadata key."""
    bank_name = "TEST_BANK_NO_META"
    create_bank(hma, bank_name)

    add_response = add_image(hma, bank_name, IMAGE1)
    assert add_response.status_code == 200, add_response.text
    content_id = add_response.json()["id"]

    get_response = hma.get(f"/c/bank/{bank_name}/content/{content_id}")
    assert get_response.status_code == 200, get_response.text
    get_data = get_response.json()
    assert get_data is not None
    assert "metadata" not in get_data
