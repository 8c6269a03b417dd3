"""``safeguard hash`` run as a user runs it: files and folders, formats, failures and exit codes."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from tests.cli.helpers import assert_one_line_error, run_cli
from tests.media.helpers import PAN, REFERENCE


def test_folder_to_jsonl_with_failures_listed(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(REFERENCE / "rgb.jpeg", folder / "a.jpg")
    shutil.copy(REFERENCE / "LA.png", folder / "sub" / "b.dat")  # a PNG with a misleading name
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 50)
    result = run_cli("hash", str(folder), "--workers", "2", home=tmp_path)
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["path"]).name for r in records] == ["a.jpg", "b.dat"]  # sorted, failures left out
    assert records[1]["media"]["format"] == "png"
    assert (
        records[0]["signals"][0]["hash"] == "fb4eed46cb8a6c78819ca06b756c541f7b07ef6d02c82fccd00f862166272cda"
    )
    assert "2 of 4 files could not be hashed" in result.stderr
    assert (
        "empty.jpg: the file is empty" in result.stderr
        and "broken.png: the image cannot be decoded" in result.stderr
    )


def test_csv_and_hma_formats(tmp_path: Path) -> None:
    image = REFERENCE / "letterboxed_sample-b.jpg"
    result = run_cli("hash", str(image), "--format", "csv", "--no-progress", home=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["signal_type"], r["variant"]) for r in rows] == [
        ("pdq", ""),
        ("pdq", "trimmed"),
        ("md5", ""),
        ("sha256", ""),
    ]
    result = run_cli("hash", str(image), "-f", "hma", "--bank", home=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22" in lines
    assert len([line for line in lines if line.startswith("pdq,")]) >= 12  # dihedral + trimmed + crops


def test_video_and_signal_type_filter(tmp_path: Path) -> None:
    result = run_cli(
        "hash", str(PAN), "-s", "vpdq", "-s", "video_md5", "--seconds-per-hash", "5", home=tmp_path
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    types = [s["signal_type"] for s in record["signals"]]
    assert types == ["vpdq", "video_md5"]
    assert len(json.loads(record["signals"][0]["hash"])) == 4


def test_unknown_signal_type_is_one_line_error(tmp_path: Path) -> None:
    result = run_cli("hash", str(REFERENCE / "rgb.jpeg"), "-s", "photodna", home=tmp_path)
    assert_one_line_error(result, "unknown signal type")


def test_timeout_is_reported_per_file(tmp_path: Path) -> None:
    result = run_cli("hash", str(PAN), "--video-timeout", "0.1", home=tmp_path)
    assert result.returncode == 1
    assert "hashing took longer than the limit of 0.1 s" in result.stderr
