"""A caller that names the kind of media it sends (``media_type``, HMA's photo/video field, ``--video``) is
held to it: bytes of another kind are a 422 naming the field, never hashes of something else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from safeguard.auth import Role
from safeguard.store.db import Database
from tests.banks.helpers import jpeg_bytes, synthetic_image
from tests.cli.helpers import assert_one_line_error, run_cli
from tests.helpers import VIDEOS, problem_of

VIDEO = VIDEOS / "dev_cuts.mp4"


def test_scan_and_upload_honour_media_type(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    image = jpeg_bytes(synthetic_image(7))
    r = client.post(
        "/v1/scan", files={"file": ("a.jpg", image)}, data={"media_type": "video"}, headers=integrator
    )
    assert r.status_code == 422
    problem = problem_of(r)
    assert "not a video" in str(problem["detail"]) and "an image" in str(problem["detail"])
    r = client.post(
        "/v1/scan", files={"file": ("a.jpg", image)}, data={"media_type": "image"}, headers=integrator
    )
    assert r.status_code == 200, r.text
    assert {h["signal_type"] for h in r.json()["hashes"]} == {"pdq", "md5", "sha256"}

    bank = client.post("/v1/banks", json={"name": "typed"}, headers=admin).json()["id"]
    video = VIDEO.read_bytes()
    r = client.post(
        f"/v1/banks/{bank}/content/upload",
        files={"file": ("v.mp4", video)},
        data={"media_type": "image"},
        headers=admin,
    )
    assert r.status_code == 422 and "not an image" in str(problem_of(r)["detail"])
    r = client.post(
        f"/v1/banks/{bank}/content/upload",
        files={"file": ("v.mp4", video)},
        data={"media_type": "video"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert "vpdq" in {s["signal_type"] for s in r.json()["signals"]}


def test_cli_video_flag_rejects_an_image(db: Database, tmp_path: Path) -> None:
    home, url = tmp_path / "home", db.url
    assert run_cli("banks", "create", "typed", home=home, database_url=url).returncode == 0
    picture = tmp_path / "a.jpg"
    picture.write_bytes(jpeg_bytes(synthetic_image(8)))
    result = run_cli("banks", "add-file", "typed", str(picture), "--video", home=home, database_url=url)
    assert_one_line_error(result, "not a video")
    result = run_cli("banks", "scan", str(picture), "--video", home=home, database_url=url)
    assert_one_line_error(result, "not a video")
    result = run_cli("banks", "add-file", "typed", str(picture), home=home, database_url=url)
    assert result.returncode == 0, result.stderr
