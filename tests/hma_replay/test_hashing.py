"""Replay of OpenMediaMatch/tests/test_hashing.py.

HMA's tests call its URL validator (``is_valid_url``) and fetch mocked URLs. Safeguard fetches no URL at
all (``DIFFERENCES["url"]``), so each check becomes a request with ``url=``: the URLs HMA refuses are
refused here too (400 with a ``message``), and the checks that need a fetch to happen are strict xfails.
"""

from __future__ import annotations

import pytest

from tests.hma_replay.conftest import DIFFERENCES, IMAGE1, HmaClient, create_bank

VALID_URLS = [
    "https://example.com",
    "https://example.com/path",
    "https://example.com:8080/path",
    "http://example.com",
    "https://sub.example.com",
    "https://example.com/path?query=value",
    "https://example.com/path#fragment",
]


def is_refused(hma: HmaClient, url: str | None) -> bool:
    response = hma.get("/h/hash", params={} if url is None else {"url": url})
    return response.status_code == 400 and bool(response.json()["message"])


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["url"])
def test_valid_urls(hma: HmaClient) -> None:
    for url in VALID_URLS:
        assert not is_refused(hma, url), f"URL should be valid: {url}"


def test_invalid_schemes(hma: HmaClient) -> None:
    invalid_urls = [
        "ftp://example.com",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ws://example.com",
        "wss://example.com",
    ]
    for url in invalid_urls:
        assert is_refused(hma, url), f"URL should be invalid: {url}"


def test_missing_scheme_or_netloc(hma: HmaClient) -> None:
    invalid_urls = ["example.com", "//example.com", "http://", "https://", "", None]
    for url in invalid_urls:
        assert is_refused(hma, url), f"URL should be invalid: {url}"


def test_malformed_urls(hma: HmaClient) -> None:
    invalid_urls = [
        "not a url",
        "http://",
        "https://",
        "http:///example.com",
        "http://example.com:",
        "http://example.com:abc",
    ]
    for url in invalid_urls:
        assert is_refused(hma, url), f"URL should be invalid: {url}"


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["url"])
def test_allowed_hostnames(hma: HmaClient) -> None:
    # HMA's ALLOWED_HOSTNAMES; Safeguard has no such setting (it fetches nothing)
    for hostname in ("example.com", "cdn.example.com", "media.example.com"):
        url = f"https://{hostname}/path"
        assert not is_refused(hma, url), f"URL should be valid: {url}"
    for url in (
        "https://evil.com",
        "https://malicious-site.com",
        "https://example.com.evil.com",  # Subdomain attack
        "https://evil.com/example.com",  # Path attack
    ):
        assert is_refused(hma, url), f"URL should be invalid: {url}"


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["url"])
def test_empty_allowed_hostnames(hma: HmaClient) -> None:
    for url in ("https://example.com", "https://evil.com", "https://any-domain.com"):
        assert not is_refused(hma, url), f"URL should be valid when ALLOWED_HOSTNAMES is empty: {url}"


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["url"])
def test_content_length_validation(hma: HmaClient) -> None:
    # HMA mocks a fetch whose content-length is over its limit
    response = hma.get("/h/hash?url=https://example.com/image.jpg")
    assert response.status_code == 413
    assert "Content too large" in response.text


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["url"])
def test_content_length_validation_default(hma: HmaClient) -> None:
    response = hma.get("/h/hash?url=https://example.com/image.jpg")
    assert response.status_code == 413
    assert "Content too large" in response.text


@pytest.mark.xfail(strict=True, reason=DIFFERENCES["url"] + "; and Safeguard never answers 500 on purpose")
def test_content_length_validation_misconfiguration(hma: HmaClient) -> None:
    response = hma.get("/h/hash?url=https://example.com/image.jpg")
    assert response.status_code == 500
    assert "Service misconfigured, see logs for details" in response.text


def test_url_is_refused_everywhere_with_a_message(hma: HmaClient) -> None:
    """The deliberate difference itself: every route that takes ``url=`` refuses it with HMA's 400."""
    create_bank(hma, "URL_BANK")
    url = "https://example.com/image.jpg"
    for response in (
        hma.get("/h/hash", params={"url": url}),
        hma.get("/m/lookup", params={"url": url}),
        hma.post("/c/bank/URL_BANK/content", params={"url": url}, files={"photo": ("a.jpg", IMAGE1)}),
    ):
        assert response.status_code == 400
        assert "upload" in response.json()["message"]
