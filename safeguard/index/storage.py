"""One-file storage of named arrays: written atomically, opened by memory map.

Layout: an 8-byte magic, the header length (uint64, little-endian), a JSON header (kind, format version,
metadata, and each array's dtype, shape and offset), then the raw arrays, each aligned to 64 bytes. The
header records the file size, so a truncated file is refused rather than read as garbage.

Writing goes to a temporary file in the same directory, which is flushed and fsynced, then renamed over
the target, and the directory is fsynced: a crash at any moment leaves either the old file or the new
one, never a mix. Opening maps the file read-only: nothing is read until a query touches it, every
process that opens the same file shares the page cache, and a 10M-hash index opens in milliseconds.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from safeguard.index.errors import IndexFileError

MAGIC = b"SGINDEX\x01"
ALIGN = 64
FORMAT_VERSION = 1


def _aligned(offset: int) -> int:
    return (offset + ALIGN - 1) // ALIGN * ALIGN


def write_arrays(
    path: str | os.PathLike[str], kind: str, meta: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]
) -> None:
    """Write ``arrays`` and ``meta`` (JSON-serialisable) to ``path`` atomically."""
    target = Path(path)
    contiguous = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    for name, a in contiguous.items():
        if a.dtype.hasobject:
            raise TypeError(f"array {name!r} holds Python objects")
    entries: dict[str, dict[str, Any]] = {}
    header: dict[str, Any] = {"kind": kind, "version": FORMAT_VERSION, "meta": dict(meta), "arrays": entries}
    # The offsets depend on the header's length, which depends on the offsets: iterate to a fixed point.
    data_start = ALIGN
    while True:
        offset = data_start
        for name, a in contiguous.items():
            entries[name] = {"dtype": a.dtype.str, "shape": list(a.shape), "offset": offset}
            offset = _aligned(offset + a.nbytes)
        header["size"] = offset
        header_bytes = json.dumps(header, sort_keys=True).encode()
        needed = _aligned(16 + len(header_bytes))
        if needed <= data_start:
            break
        data_start = needed
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC)
            f.write(struct.pack("<Q", len(header_bytes)))
            f.write(header_bytes)
            position = 16 + len(header_bytes)
            for name, a in contiguous.items():
                start = entries[name]["offset"]
                f.write(b"\0" * (start - position))
                _write_array(f, a)
                position = start + a.nbytes
            f.write(b"\0" * (header["size"] - position))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _write_array(f: Any, a: npt.NDArray[Any]) -> None:
    if a.nbytes:
        f.write(a.reshape(-1).view(np.uint8).data)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_arrays(
    path: str | os.PathLike[str], kind: str, *, mmap_file: bool = True
) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """The metadata and arrays of a file written by :func:`write_arrays` for ``kind``.

    With ``mmap_file`` the arrays are read-only views of a shared memory map; without it they are read
    into private memory (slower to open, no page cache sharing, slightly faster random access).
    """
    source = Path(path)
    try:
        with open(source, "rb") as f:
            magic = f.read(8)
            if magic != MAGIC:
                raise IndexFileError(f"{source} is not a Safeguard index file")
            (header_length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(header_length))
            size = os.fstat(f.fileno()).st_size
            if header.get("kind") != kind:
                raise IndexFileError(f"{source} holds a {header.get('kind')} index, not {kind}")
            if header.get("version") != FORMAT_VERSION:
                raise IndexFileError(f"{source} has index format version {header.get('version')}")
            if header.get("size") != size:
                raise IndexFileError(
                    f"{source} is truncated or damaged ({size} of {header.get('size')} bytes)"
                )
            arrays: dict[str, npt.NDArray[Any]] = {}
            if mmap_file and size:
                buffer: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            else:
                f.seek(0)
                buffer = np.fromfile(f, dtype=np.uint8)
            for name, entry in header["arrays"].items():
                dtype = np.dtype(entry["dtype"])
                shape = tuple(entry["shape"])
                count = int(np.prod(shape)) if shape else 1
                if count == 0:
                    arrays[name] = np.zeros(shape, dtype=dtype)
                    continue
                if entry["offset"] + count * dtype.itemsize > size:
                    raise IndexFileError(f"{source}: array {name!r} runs past the end of the file")
                a = np.frombuffer(buffer, dtype=dtype, count=count, offset=entry["offset"]).reshape(shape)
                arrays[name] = a
    except FileNotFoundError:
        raise IndexFileError(f"no index file at {source}") from None
    except (ValueError, KeyError, struct.error, json.JSONDecodeError, TypeError) as exc:
        raise IndexFileError(f"{source} is not a readable index file: {exc}") from None
    return header["meta"], arrays
