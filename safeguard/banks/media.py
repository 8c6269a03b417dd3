"""The banks' adapter over ``safeguard.media``: which hashes to bank for a file, which to query with.

Hashing runs in the shared worker pool of ``safeguard.media`` (a time and a memory limit per item, so a
hostile upload cannot hang or crash an API worker). The content's kind comes from its bytes, not from the
caller: an image gets PDQ plus MD5 and SHA-256, a video vPDQ (one PDQ hash per second of video, with
each frame's quality and time) plus ``video_md5``, MD5 and SHA-256, any other file MD5 and SHA-256. A
caller that names the kind it sends (``media_type`` over HTTP, ``--video`` in the CLI) gets a 422 when
the bytes say otherwise, rather than hashes of something it did not mean.

- To **query**, the plain PDQ (or vPDQ) hash and the ``trimmed`` one (borders and letterboxing removed)
  when it differs, so framed re-uploads match.
- To **bank**, the query set plus the seven other dihedral hashes (rotated and mirrored re-uploads) and
  centre crops (cropped re-uploads; for video, every frame cropped), stored as ``variant`` signals of the
  one content item (``HashOptions.for_bank``; docs/media.md measures what each buys and costs).

PDQ hashes under the quality floor (default 50, as HMA) are neither banked nor queried: flat pictures
collide. A vPDQ hash none of whose frames reaches the floor is not banked either (it could never match).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from safeguard.banks.service import SignalIn
from safeguard.banks.signals import signal_types
from safeguard.errors import InvalidInput, UnsupportedMedia
from safeguard.media import ContentKind, HashOptions, HashResult, HashTask
from safeguard.media.pool import shared_pool

#: The ``media_type`` values the API takes, as the kinds ``safeguard.media`` finds in the bytes.
MEDIA_TYPES: dict[str, ContentKind] = {"image": ContentKind.photo, "video": ContentKind.video}

Disconnected = Callable[[], Awaitable[bool]]


def _of_kind(result: HashResult, expect: ContentKind | None, field: str) -> HashResult:
    """``result``, if its media is the kind the caller said it sends; else an :class:`InvalidInput`."""
    if expect is not None and result.media.kind is not expect:
        found = "an image" if result.media.kind is ContentKind.photo else f"a {result.media.kind}"
        wanted = "an image" if expect is ContentKind.photo else f"a {expect}"
        raise InvalidInput(f"the file is {found}, not {wanted}", field=field)
    return result


def hash_upload(
    data: bytes,
    options: HashOptions,
    *,
    expect: ContentKind | None = None,
    field: str = "media_type",
    caller: str = "",
) -> HashResult:
    """Every signal ``options`` ask for, hashed in the shared pool (typed errors for bad content).

    ``expect``: the kind the caller says it sends; other bytes are an :class:`InvalidInput` on ``field``.
    ``caller`` (the API key) gets its fair share of the pool; a full queue is :class:`HashQueueFull`.
    """
    if not data:
        raise UnsupportedMedia("the file is empty")
    return _of_kind(shared_pool().hash_one(HashTask(data, options), caller=caller), expect, field)


async def hash_upload_async(
    data: bytes,
    options: HashOptions,
    *,
    expect: ContentKind | None = None,
    field: str = "media_type",
    caller: str = "",
    disconnected: Disconnected | None = None,
) -> HashResult:
    """As :func:`hash_upload` without holding a thread; cancelled when ``disconnected()`` says so."""
    if not data:
        raise UnsupportedMedia("the file is empty")
    task = HashTask(data, options)
    result = await shared_pool().hash_async(task, caller=caller, disconnected=disconnected)
    return _of_kind(result, expect, field)


def bankable(result: HashResult) -> list[SignalIn]:
    """The matchable signals of ``result`` that banks hold, plain hashes first, without repeats."""
    signals: list[SignalIn] = []
    seen: set[tuple[str, str]] = set()
    held = signal_types()
    for signal in sorted(result.signals, key=lambda s: s.variant is not None):
        key = (signal.signal_type, signal.hash)
        if signal.signal_type not in held or not signal.matchable or key in seen:
            continue
        seen.add(key)
        signals.append(SignalIn(*key, "primary" if signal.variant is None else "variant"))
    return signals


def hashes_to_query(
    data: bytes, *, expect: ContentKind | None = None, field: str = "media_type", caller: str = ""
) -> list[SignalIn]:
    """Signals to look ``data`` up with (``expect``, ``field``, ``caller``: as in :func:`hash_upload`)."""
    return bankable(hash_upload(data, HashOptions.for_query(), expect=expect, field=field, caller=caller))


async def hashes_to_query_async(
    data: bytes,
    *,
    expect: ContentKind | None = None,
    field: str = "media_type",
    caller: str = "",
    disconnected: Disconnected | None = None,
) -> list[SignalIn]:
    """As :func:`hashes_to_query`, awaited (and cancelled when the client disconnects)."""
    result = await hash_upload_async(
        data, HashOptions.for_query(), expect=expect, field=field, caller=caller, disconnected=disconnected
    )
    return bankable(result)


def hashes_to_bank(
    data: bytes, *, expect: ContentKind | None = None, field: str = "media_type", caller: str = ""
) -> list[SignalIn]:
    """Signals to store for ``data`` as one content item (arguments: see :func:`hash_upload`)."""
    return bankable(hash_upload(data, HashOptions.for_bank(), expect=expect, field=field, caller=caller))
