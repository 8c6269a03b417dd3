"""Paths and small helpers shared by tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The shared data sits beside the checkout (../shared/data), here and in CI alike.
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
IMAGES = SHARED_DATA / "images"
VIDEOS = SHARED_DATA / "videos"
GROOMING = SHARED_DATA / "grooming"


def problem_of(response: object) -> dict[str, object]:
    """The problem+json body of an HTTP error response, checked for the RFC 9457 shape."""
    from httpx import Response

    assert isinstance(response, Response)
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert isinstance(body, dict)
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == response.status_code
    return body
