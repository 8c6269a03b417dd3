"""Media hashing over HTTP: ``POST /v1/hash`` (upload a file, get its signals) and ``GET /v1/signal-types``.

Uploads are hashed in the shared worker pool of ``safeguard.media`` (time and memory limits per item, a
bounded queue with a share per API key: 429 with ``Retry-After`` when full; cancelled when the client
disconnects); the body size limit of the app (``SAFEGUARD_MAX_BODY_BYTES``) applies first.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, Field

from safeguard.api.deps import require_roles
from safeguard.auth import Actor, Role
from safeguard.media import HashOptions, HashTask, default_registry
from safeguard.media.pool import shared_pool
from safeguard.media.signal_type import HexSignalType

router = APIRouter(tags=["media"])
integrators = require_roles(Role.integrator)


class SignalOut(BaseModel):
    signal_type: str = Field(examples=["pdq"])
    hash: str = Field(description="Lowercase hex (vpdq: JSON list of 'pdq,quality,timestamp')")
    quality: int | None = Field(description="PDQ quality 0-100; null for digests and vpdq")
    variant: str | None = Field(description="null for the plain hash, else e.g. trimmed, rot90, crop90")
    matchable: bool = Field(description="False when the quality is below the floor: reported, not matched")


class MediaOut(BaseModel):
    kind: Literal["photo", "video", "file"]
    format: str | None
    mime_type: str
    size_bytes: int
    width: int | None
    height: int | None
    frames: int | None
    duration_s: float | None
    trim_box: list[int] | None


class HashOut(BaseModel):
    filename: str | None
    media: MediaOut
    signals: list[SignalOut]


class SignalTypeOut(BaseModel):
    name: str
    content_types: list[str]
    exact: bool = Field(description="True: only equal hashes match")
    default_threshold: float = Field(description="Largest distance that is a match")
    hex_digits: int | None = Field(description="Length of the hex hash, when fixed")
    description: str


@router.post("/v1/hash", response_model=HashOut)
async def hash_upload(
    request: Request,
    actor: Annotated[Actor, Depends(integrators)],
    file: Annotated[UploadFile, File(description="The content to hash (image, video or any file)")],
    purpose: Annotated[
        Literal["query", "bank"], Form(description="query: hashes to look up; bank: adds dihedral and crops")
    ] = "query",
    all_frames: Annotated[bool, Form(description="Hash every frame of an animated image")] = False,
) -> HashOut:
    """Every signal of the uploaded content, with PDQ quality and variants."""
    data = await file.read()
    preset = HashOptions.for_bank if purpose == "bank" else HashOptions.for_query
    task = HashTask(data, preset(all_frames=all_frames), file.filename)
    # Awaited, not waited for in a thread; a client that disconnects has its item cancelled.
    caller = f"{actor.kind}:{actor.id}"
    result = await shared_pool().hash_async(task, caller=caller, disconnected=request.is_disconnected)
    body: dict[str, Any] = result.to_dict()
    return HashOut(filename=file.filename, **body)


@router.get("/v1/signal-types", response_model=list[SignalTypeOut])
def signal_types(_actor: Annotated[Actor, Depends(integrators)]) -> list[SignalTypeOut]:
    """The registered signal types (built-ins and installed plugins)."""
    return [
        SignalTypeOut(
            name=t.name,
            content_types=sorted(k.value for k in t.content_types),
            exact=t.exact,
            default_threshold=t.default_threshold,
            hex_digits=t.hex_digits if issubclass(t, HexSignalType) else None,
            description=t.description,
        )
        for t in default_registry()
    ]
