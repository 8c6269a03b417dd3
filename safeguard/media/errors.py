"""Typed errors of media hashing. Every failure on hostile or broken content is one of these.

Each names what was wrong with the content so that the API (problem+json) and the CLI (one line) can show
it as is. They cross process boundaries (hashing runs in worker processes), so :func:`to_wire` and
:func:`from_wire` turn them into plain tuples and back.
"""

from __future__ import annotations

from safeguard.errors import (
    InvalidInput,
    MalformedInput,
    PayloadTooLarge,
    SafeguardError,
    ServiceUnavailable,
    TooManyRequests,
    UnsupportedMedia,
)


class EmptyFile(MalformedInput):
    code = "empty-file"
    title = "Empty file"


class CorruptMedia(MalformedInput):
    """The content says it is an image or video but cannot be decoded (truncated, damaged, hostile)."""

    code = "corrupt-media"
    title = "Corrupt media"


class DecoderCrashed(MalformedInput):
    """The worker process hashing the content died (a decoder crash or the memory limit)."""

    code = "decoder-crashed"
    title = "Decoder crashed"


class UnreadableFile(InvalidInput):
    """The file cannot be read at all (missing, a directory, no permission)."""

    code = "unreadable-file"
    title = "Unreadable file"


class NotMedia(UnsupportedMedia):
    """A signal type that needs pixels was asked for content that is not an image or video we decode."""

    code = "not-media"
    title = "Not an image or video"


class ImageTooLarge(PayloadTooLarge):
    """More pixels than the configured limit: a decompression bomb or simply too large to hash."""

    code = "image-too-large"
    title = "Image too large"


class TooManyFrames(PayloadTooLarge):
    code = "too-many-frames"
    title = "Too many frames"


class VideoTooLarge(PayloadTooLarge):
    """The video is longer, larger in bytes, or larger per frame than the configured limits."""

    code = "video-too-large"
    title = "Video too large"


class FileTooLarge(PayloadTooLarge):
    code = "file-too-large"
    title = "File too large"


class MemoryLimitExceeded(PayloadTooLarge):
    code = "memory-limit"
    title = "Memory limit exceeded"


class HashTimeout(InvalidInput):
    """Hashing the content took longer than the per-item time limit; the worker was killed."""

    code = "hash-timeout"
    title = "Hashing timed out"


class HashQueueFull(TooManyRequests):
    """The hashing queue (or this caller's share of it) is full: retry after ``retry_after`` seconds."""

    code = "hash-queue-full"
    title = "Hashing queue full"


class HashCancelled(SafeguardError):
    """The caller went away (the client disconnected), so its item was taken out of the pool."""

    status = 499
    code = "hash-cancelled"
    title = "Hashing cancelled"


class UnknownSignalType(InvalidInput):
    code = "unknown-signal-type"
    title = "Unknown signal type"


class InvalidHash(InvalidInput):
    """A hash string is not valid for its signal type (wrong length, not lowercase-able hex, bad JSON)."""

    code = "invalid-hash"
    title = "Invalid hash"


class VideoToolMissing(ServiceUnavailable):
    """``ffmpeg``/``ffprobe`` (Debian package ``ffmpeg``) are needed to hash video and are not installed."""

    code = "video-tool-missing"
    title = "Video tools missing"


class BadSignalTypePlugin(SafeguardError):
    """A third-party signal type registered under ``safeguard.signal_types`` is broken or clashes."""

    status = 500
    code = "bad-signal-type-plugin"
    title = "Bad signal type plugin"


MEDIA_ERRORS: tuple[type[SafeguardError], ...] = (
    EmptyFile,
    CorruptMedia,
    DecoderCrashed,
    UnreadableFile,
    NotMedia,
    ImageTooLarge,
    TooManyFrames,
    VideoTooLarge,
    FileTooLarge,
    MemoryLimitExceeded,
    HashTimeout,
    UnknownSignalType,
    InvalidHash,
    VideoToolMissing,
    BadSignalTypePlugin,
)
_BY_NAME = {cls.__name__: cls for cls in MEDIA_ERRORS}

WireError = tuple[str, str, str | None]


def to_wire(error: SafeguardError) -> WireError:
    """A picklable form of ``error``; errors from outside this module travel as CorruptMedia."""
    name = type(error).__name__ if type(error).__name__ in _BY_NAME else "CorruptMedia"
    return name, error.detail, error.field


def from_wire(wire: WireError) -> SafeguardError:
    name, detail, field = wire
    return _BY_NAME.get(name, CorruptMedia)(detail, field=field)
