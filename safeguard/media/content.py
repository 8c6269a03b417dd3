"""One item being hashed: its bytes or path, what it sniffs as, and work shared between signal types.

Hashers receive a :class:`Content`; the decoded image is cached so several photo signal types decode once,
and bytes given without a path are written to a private temporary file only when a hasher needs a path
(ffmpeg does). Use it as a context manager so that file is removed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from safeguard.media import images
from safeguard.media.errors import EmptyFile, FileTooLarge, NotMedia, UnreadableFile
from safeguard.media.sniff import SNIFF_BYTES, Sniffed, sniff
from safeguard.media.types import ContentKind, MediaInfo, MediaLimits, ProgressCallback

_READ_CHUNK = 1 << 20


class Content:
    def __init__(
        self,
        *,
        path: Path | None = None,
        data: bytes | None = None,
        limits: MediaLimits | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        if (path is None) == (data is None):
            raise ValueError("give exactly one of path and data")
        self.limits = limits or MediaLimits()
        self.progress = progress
        self._path = path
        self._data = data
        self._temp: Path | None = None
        self._image: images.DecodedImage | None = None
        self._digests: dict[str, str] | None = None
        self.notes: dict[str, Any] = {}  # MediaInfo fields hashers learn (width, frames, trim_box...)
        if data is not None:
            self.size = len(data)
            head = data[:SNIFF_BYTES]
        else:
            assert path is not None
            try:
                self.size = path.stat().st_size
                with path.open("rb") as handle:
                    head = handle.read(SNIFF_BYTES)
            except OSError as exc:
                raise UnreadableFile(f"cannot read the file: {exc.strerror or exc}") from None
        if self.size == 0:
            raise EmptyFile("the file is empty (0 bytes)")
        if self.size > self.limits.max_file_bytes:
            raise FileTooLarge(
                f"the file has {self.size:,} bytes; the limit is {self.limits.max_file_bytes:,}"
            )
        self.sniffed: Sniffed = sniff(head)

    @property
    def kind(self) -> ContentKind:
        return self.sniffed.kind

    @property
    def format(self) -> str | None:
        return self.sniffed.format

    def data(self) -> bytes:
        """All the bytes (read once, within the file size limit checked at construction)."""
        if self._data is None:
            assert self._path is not None
            self._data = self._path.read_bytes()
        return self._data

    def path(self) -> Path:
        """A path to the content; bytes are written to a private temporary file the first time."""
        if self._path is not None:
            return self._path
        if self._temp is None:
            handle, name = tempfile.mkstemp(prefix="safeguard-media-")
            with os.fdopen(handle, "wb") as out:
                out.write(self.data())
            self._temp = Path(name)
        return self._temp

    def digests(self) -> dict[str, str]:
        """MD5 and SHA-256 of the bytes, computed in one pass (streamed from a file)."""
        if self._digests is None:
            md5 = hashlib.md5(usedforsecurity=False)
            sha256 = hashlib.sha256()
            if self._data is not None:
                md5.update(self._data)
                sha256.update(self._data)
            else:
                assert self._path is not None
                with self._path.open("rb") as handle:
                    while chunk := handle.read(_READ_CHUNK):
                        md5.update(chunk)
                        sha256.update(chunk)
            self._digests = {"md5": md5.hexdigest(), "sha256": sha256.hexdigest()}
        return self._digests

    def image(self) -> images.DecodedImage:
        """The decoded image (first frame, oriented), decoded once; NotMedia for non-images."""
        if self._image is None:
            if self.kind is not ContentKind.photo or self.format is None:
                raise NotMedia("the content is not an image")
            self._image = images.decode(self.data(), self.format, self.limits)
            self.notes.setdefault("width", self._image.width)
            self.notes.setdefault("height", self._image.height)
            if self._image.frame_count > 1:
                self.notes.setdefault("frames", self._image.frame_count)
        return self._image

    def info(self) -> MediaInfo:
        return MediaInfo(
            kind=self.kind,
            format=self.format,
            mime_type=self.sniffed.mime_type,
            size_bytes=self.size,
            width=self.notes.get("width"),
            height=self.notes.get("height"),
            frames=self.notes.get("frames"),
            duration_s=self.notes.get("duration_s"),
            trim_box=self.notes.get("trim_box"),
        )

    def close(self) -> None:
        if self._image is not None:
            self._image.image.close()
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None

    def __enter__(self) -> Content:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
