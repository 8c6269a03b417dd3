"""Exact digests of the bytes: ``md5`` and ``sha256`` for every file, ``video_md5`` for videos.

``video_md5`` is python-threatexchange's name and encoding for the MD5 of a video file, so lists of video
MD5s move between the systems unchanged; ``md5``/``sha256`` cover images and any other file.
"""

from __future__ import annotations

from typing import ClassVar

from safeguard.media.content import Content
from safeguard.media.signal_type import ContentHasher, HexSignalType
from safeguard.media.types import ContentKind, HashOptions, Signal

_EVERY_KIND = frozenset(ContentKind)


class Md5Signal(HexSignalType, ContentHasher):
    name: ClassVar[str] = "md5"
    content_types: ClassVar[frozenset[ContentKind]] = _EVERY_KIND
    hex_digits: ClassVar[int] = 32
    description: ClassVar[str] = "MD5 of the file bytes (exact match)"

    @classmethod
    def hash_content(cls, content: Content, options: HashOptions) -> list[Signal]:
        return [Signal(cls.name, content.digests()["md5"])]


class Sha256Signal(HexSignalType, ContentHasher):
    name: ClassVar[str] = "sha256"
    content_types: ClassVar[frozenset[ContentKind]] = _EVERY_KIND
    hex_digits: ClassVar[int] = 64
    description: ClassVar[str] = "SHA-256 of the file bytes (exact match)"

    @classmethod
    def hash_content(cls, content: Content, options: HashOptions) -> list[Signal]:
        return [Signal(cls.name, content.digests()["sha256"])]


class VideoMd5Signal(HexSignalType, ContentHasher):
    name: ClassVar[str] = "video_md5"
    content_types: ClassVar[frozenset[ContentKind]] = frozenset({ContentKind.video})
    hex_digits: ClassVar[int] = 32
    description: ClassVar[str] = "MD5 of a video file's bytes (python-threatexchange's video_md5)"

    @classmethod
    def hash_content(cls, content: Content, options: HashOptions) -> list[Signal]:
        return [Signal(cls.name, content.digests()["md5"])]
