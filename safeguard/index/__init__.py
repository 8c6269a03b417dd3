"""Matching engines: exact PDQ range search and exact MD5/SHA-256 lookup. (Video matching lives in
``safeguard.banks.vpdq_index``, on top of :class:`PdqIndex`: the one vPDQ matcher the product uses.)

A pure library (no database, no HTTP). Every index maps hashes to payloads of your choice (bank content
ids, ideally: non-negative ints are stored without Python objects) and shares one interface
(:class:`SignalIndex`): ``build(entries)``, ``add``/``add_many``, ``remove``/``remove_many``, ``query``,
``len()``, ``save(path, checkpoint=...)``, ``open(path)``.

    from safeguard.index import PdqIndex

    index = PdqIndex.build([(pdq_hex, content_id), ...])
    index.query(pdq_hex)                      # [Match(payload=content_id, distance=3), ...]
    index.query(pdq_hex, threshold=16)        # any threshold 0..256 per query; exact, 100% recall
    index.query_many(hexes, threshold=31)     # batched (one kernel call per worker thread)

Concurrency: writes (one writer at a time, serialised internally) publish a new immutable state with one
reference assignment; queries read the current state without locking. A write is matchable or
unmatchable by the next query, in every thread of the process.

How a service keeps one index per signal type in every worker process, fresh within a second:

1. A builder job (or the first worker, under a lock) writes a base file from the bank tables with
   ``index.save(path, checkpoint=last_change_id)``. The write is atomic (temp file, fsync, rename), so
   readers see the old file or the new one.
2. Each worker opens it with ``PdqIndex.open(path)``: the file is memory-mapped, so opening a 10M-hash
   index takes milliseconds and all workers share one copy of it in the page cache.
3. Each worker applies the changes after ``index.checkpoint`` (``add_many`` / ``remove_many``), then
   polls the change log (e.g. every 500 ms) and applies new changes the same way: they are matchable at
   once. Re-adding a pair or removing an absent one is a no-op, so replaying an overlap is safe.
4. When a newer base file appears, open it, apply the changes after its checkpoint, and swap the
   worker's reference to the new index object.

Additions go to a small delta that is scanned; past ``merge_threshold`` rows a background thread folds
it into a new main segment (readers are not blocked; the merge needs about as much memory again as the
main segment while it runs).
"""

from safeguard.index.base import Match, SignalIndex
from safeguard.index.digest import DigestIndex, Md5Index, Sha256Index
from safeguard.index.errors import IndexFileError, InvalidHash, InvalidThreshold
from safeguard.index.hashes import hamming_distance, pdq_hex, pdq_words, words_from_bytes
from safeguard.index.pdq import DEFAULT_THRESHOLD, PdqIndex

__all__ = [
    "DEFAULT_THRESHOLD",
    "DigestIndex",
    "IndexFileError",
    "InvalidHash",
    "InvalidThreshold",
    "Match",
    "Md5Index",
    "PdqIndex",
    "Sha256Index",
    "SignalIndex",
    "hamming_distance",
    "pdq_hex",
    "pdq_words",
    "words_from_bytes",
]
