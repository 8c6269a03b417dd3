"""Compiled inner loops of the PDQ index (numba).

Why compiled code: the best exact faiss option measured on this machine (``IndexBinaryMultiHash`` with 11
tables of 23 bits, ``nflip=2``) answered 1,650 single lookups/s at 1M random hashes (989 bytes/hash);
the same multi-index search in vectorised numpy answered 3,450/s (about 290 us a query, three quarters
of it fixed per-call overhead) and falls far short of 4,000/s at 10M. These kernels answered 13,800/s at
1M in the same quiet conditions (8x that faiss option), and 1,100/s against faiss's 260/s (4.2x) in the
contended full run of ``bench/index.py`` recorded in ``docs/performance.md``.

Conventions shared with :mod:`safeguard.index.segment`:

- a hash is four ``uint64`` words, big-endian, so bit 0 is the most significant bit of the first hex
  digit and sorting the words lexicographically sorts the hex strings;
- chunk ``i`` covers bits ``[chunk_start[i], chunk_start[i] + chunk_bits[i])``, read as an unsigned
  integer whose most significant bit is the first bit of the chunk;
- the codes of a segment are sorted, so chunk 0 (bits 0..b-1) is sorted too and its bucket ``v`` is the
  position range ``offsets[v] .. offsets[v + 1]``; every other chunk ``i`` has an id array sorted by its
  bucket, and bucket ``v`` of chunk ``i`` is ``ids[offsets[..v..]]``.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba.core import cgutils as _cgutils
from numba.extending import intrinsic

cgutils: Any = _cgutils  # numba's code generation helpers are untyped

_U64 = np.uint64
# How many loads ahead the search prefetches: enough to keep ~a dozen DRAM reads in flight.
PREFETCH_DISTANCE = 24
# Bucket tables are two-level (see compress_offsets): blocks of 32 buckets share one uint32 base.
BLOCK_SHIFT = 5
BLOCK = 1 << BLOCK_SHIFT
WIDE_FLAG = 1 << 31


def _ctpop_impl(typingctx: Any, x: Any) -> Any:
    """The CPU's popcount instruction (llvm.ctpop.i64) on one 64-bit word."""
    sig = nb.types.uint64(nb.types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        fnty = ir.FunctionType(ir.IntType(64), [ir.IntType(64)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.ctpop.i64")
        return builder.call(fn, [args[0]])

    return sig, codegen


def _prefetch_impl(typingctx: Any, array: Any, index: Any) -> Any:
    """Hint the CPU to start loading ``array[index]`` (llvm.prefetch). The search issues all its random
    loads of one phase as prefetches before using them, so they overlap: measured here, a random read
    of a 16 MB table costs about 20 ns used directly and about 8 ns after a prefetch pass."""
    sig = nb.types.void(array, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type = signature.args[0]
        ary = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, array_type, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(
            fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        )
        return context.get_dummy_value()

    return sig, codegen


_ctpop: Any = intrinsic(_ctpop_impl)
_prefetch: Any = intrinsic(_prefetch_impl)


@nb.njit(nogil=True, cache=True, inline="always")
def _distance(c: Any, i: int, q0: Any, q1: Any, q2: Any, q3: Any) -> int:
    return int(_ctpop(c[i, 0] ^ q0) + _ctpop(c[i, 1] ^ q1) + _ctpop(c[i, 2] ^ q2) + _ctpop(c[i, 3] ^ q3))


@nb.njit(nogil=True, cache=True, inline="always")
def _chunk_value(w0: Any, w1: Any, w2: Any, w3: Any, start: int, bits: int) -> int:
    word_index = start >> 6
    offset = start & 63
    if word_index == 0:
        a, b = w0, w1
    elif word_index == 1:
        a, b = w1, w2
    elif word_index == 2:
        a, b = w2, w3
    else:
        a, b = w3, _U64(0)
    if offset + bits <= 64:
        value = (a >> _U64(64 - offset - bits)) & ((_U64(1) << _U64(bits)) - _U64(1))
    else:
        low_bits = offset + bits - 64
        high = a & ((_U64(1) << _U64(64 - offset)) - _U64(1))
        value = (high << _U64(low_bits)) | (b >> _U64(64 - low_bits))
    return int(value)


@nb.njit(nogil=True, cache=True)
def chunk_values(codes: Any, start: int, bits: int) -> Any:
    """Chunk ``(start, bits)`` of every code, as int64."""
    n = codes.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = _chunk_value(codes[i, 0], codes[i, 1], codes[i, 2], codes[i, 3], start, bits)
    return out


@nb.njit(nogil=True, cache=True)
def bucket_offsets(values: Any, buckets: int) -> Any:
    """CSR offsets (length ``buckets + 1``) of ``values`` counted into ``buckets``."""
    offsets = np.zeros(buckets + 1, dtype=np.int64)
    for v in values:
        offsets[v + 1] += 1
    for b in range(buckets):
        offsets[b + 1] += offsets[b]
    return offsets


@nb.njit(nogil=True, cache=True)
def group_by_bucket(values: Any, offsets: Any, ids_out: Any) -> None:
    """Counting sort: the positions of ``values`` grouped by bucket, ascending within a bucket."""
    cursor = offsets[:-1].copy()
    for i in range(values.shape[0]):
        v = values[i]
        ids_out[cursor[v]] = i
        cursor[v] += 1


@nb.njit(nogil=True, cache=True)
def compress_offsets(offsets: Any, in_block_out: Any, block_bases_out: Any) -> Any:
    """Two-level form of CSR ``offsets``: ``offset(v) = block_bases[v >> 5] + in_block[v]`` with
    ``in_block`` one byte per bucket. A block whose 32 buckets hold more than 255 entries (a heavy
    bucket of near-duplicates) is "wide": its block base is ``WIDE_FLAG + k`` and its 32 offsets are
    ``wide[k:k + 32]``. Returns the wide offsets (uint32)."""
    n_slots = offsets.shape[0]
    n_blocks = block_bases_out.shape[0]
    wide = np.empty(0, dtype=np.uint32)
    n_wide = 0
    for blk in range(n_blocks):
        first = blk * BLOCK
        last = min(first + BLOCK, n_slots)
        base = offsets[first]
        if offsets[last - 1] - base <= 255:
            block_bases_out[blk] = base
            for v in range(first, last):
                in_block_out[v] = offsets[v] - base
        else:
            if n_wide + BLOCK > wide.shape[0]:
                grown = np.empty(max(2 * wide.shape[0], 64 * BLOCK), dtype=np.uint32)
                grown[:n_wide] = wide[:n_wide]
                wide = grown
            block_bases_out[blk] = WIDE_FLAG + n_wide
            for v in range(first, last):
                in_block_out[v] = 0
                wide[n_wide + v - first] = offsets[v]
            n_wide += BLOCK
    return wide[:n_wide].copy()


@nb.njit(nogil=True, cache=True, inline="always")
def _offset(in_block: Any, block_bases: Any, wide: Any, in_base: int, block_base: int, v: int) -> int:
    bb = np.int64(block_bases[block_base + (v >> BLOCK_SHIFT)])
    if bb >= WIDE_FLAG:
        return int(wide[bb - WIDE_FLAG + (v & (BLOCK - 1))])
    return int(bb + np.int64(in_block[in_base + v]))


@nb.njit(nogil=True, cache=True)
def equal_to_next(codes: Any) -> Any:
    """For sorted codes: True where row i equals row i + 1."""
    n = codes.shape[0]
    out = np.zeros(max(n - 1, 0), dtype=np.bool_)
    for i in range(n - 1):
        out[i] = (
            codes[i, 0] == codes[i + 1, 0]
            and codes[i, 1] == codes[i + 1, 1]
            and codes[i, 2] == codes[i + 1, 2]
            and codes[i, 3] == codes[i + 1, 3]
        )
    return out


@nb.njit(nogil=True, cache=True)
def brute_search(codes: Any, count: int, q: Any, threshold: int, out_pos: Any, out_dist: Any) -> int:
    """Every row of ``codes[:count]`` within ``threshold`` of ``q``. Returns the number found, or minus
    the number needed when the output buffers are too small (nothing useful is written then)."""
    q0, q1, q2, q3 = q[0], q[1], q[2], q[3]
    found = 0
    cap = out_pos.shape[0]
    for i in range(count):
        d = _distance(codes, i, q0, q1, q2, q3)
        if d <= threshold:
            if found < cap:
                out_pos[found] = i
                out_dist[found] = d
            found += 1
    return found if found <= cap else -found


# Over 60 lines: one compiled loop nest (probe, dedupe, verify), the hot path of matching; left whole until
# bench/index.py shows that splitting it into njit helpers costs nothing.
@nb.njit(nogil=True, cache=True)
def mih_search(
    codes: Any,
    layout: Any,
    chunk_masks: Any,
    in_block: Any,
    block_bases: Any,
    wide: Any,
    ids: Any,
    probe_masks: Any,
    radii: Any,
    q: Any,
    threshold: int,
    out_pos: Any,
    out_dist: Any,
) -> int:
    """Multi-index range search: every code within ``threshold`` of ``q``, each reported once.

    ``layout[i]`` = (start bit, bits, in_block base, block_bases base, ids base (-1 for chunk 0, whose
    buckets are position ranges of the sorted codes), probe mask base, then for r = 0..RMAX the number
    of probe masks with popcount <= r). ``radii[i]`` is the search radius of chunk i (-1: not probed).

    Exactness: the caller picks radii with sum(radii[i] + 1) > threshold. If a code were further than
    radii[i] from the query in every probed chunk, its distance would be at least sum(radii[i] + 1) >
    threshold; so every code within the threshold lies in a bucket within radii[i] of the query's value
    of some chunk i, and every such bucket is probed. Each hit is verified on all 256 bits and reported
    by the first chunk whose radius covers it, so nothing repeats.

    Returns the number found, or minus the number needed if ``out_pos``/``out_dist`` are too small.
    """
    q0, q1, q2, q3 = q[0], q[1], q[2], q[3]
    m = layout.shape[0]
    ahead = PREFETCH_DISTANCE
    # Phase 1: the table slot of every probe of every chunk.
    total_probes = 0
    for i in range(m):
        if radii[i] >= 0:
            total_probes += layout[i, 6 + radii[i]]
    slots = np.empty(total_probes, dtype=np.int64)
    probe_chunk = np.empty(total_probes, dtype=np.int64)
    n = 0
    for i in range(m):
        r = radii[i]
        if r < 0:
            continue
        v = _chunk_value(q0, q1, q2, q3, layout[i, 0], layout[i, 1])
        mask_base = layout[i, 5]
        for p in range(layout[i, 6 + r]):
            slots[n] = v ^ probe_masks[mask_base + p]
            probe_chunk[n] = i
            n += 1
    # Phase 2: bucket bounds of the non-empty buckets.
    lows = np.empty(total_probes, dtype=np.int64)
    highs = np.empty(total_probes, dtype=np.int64)
    chunks = np.empty(total_probes, dtype=np.int64)
    n_buckets = 0
    n_candidates = 0
    for p in range(min(ahead, total_probes)):
        i = probe_chunk[p]
        _prefetch(in_block, layout[i, 2] + slots[p])
        _prefetch(block_bases, layout[i, 3] + (slots[p] >> BLOCK_SHIFT))
    for p in range(total_probes):
        if p + ahead < total_probes:
            i = probe_chunk[p + ahead]
            _prefetch(in_block, layout[i, 2] + slots[p + ahead])
            _prefetch(block_bases, layout[i, 3] + (slots[p + ahead] >> BLOCK_SHIFT))
        i = probe_chunk[p]
        lo = _offset(in_block, block_bases, wide, layout[i, 2], layout[i, 3], slots[p])
        hi = _offset(in_block, block_bases, wide, layout[i, 2], layout[i, 3], slots[p] + 1)
        if hi > lo:
            lows[n_buckets] = lo
            highs[n_buckets] = hi
            chunks[n_buckets] = i
            n_buckets += 1
            n_candidates += hi - lo
    # Phase 3: candidate positions (chunk 0 buckets are position ranges; the others list ids).
    candidates = np.empty(n_candidates, dtype=np.int64)
    candidate_chunk = np.empty(n_candidates, dtype=np.int64)
    for b in range(min(ahead, n_buckets)):
        if layout[chunks[b], 4] >= 0:
            _prefetch(ids, layout[chunks[b], 4] + lows[b])
    c = 0
    for b in range(n_buckets):
        if b + ahead < n_buckets and layout[chunks[b + ahead], 4] >= 0:
            _prefetch(ids, layout[chunks[b + ahead], 4] + lows[b + ahead])
        i = chunks[b]
        id_base = layout[i, 4]
        for k in range(lows[b], highs[b]):
            candidates[c] = k if id_base < 0 else np.int64(ids[id_base + k])
            candidate_chunk[c] = i
            c += 1
    # Phase 4: verification; a code is reported by the first chunk whose radius covers it.
    found = 0
    cap = out_pos.shape[0]
    flat_codes = codes.reshape(codes.shape[0] * 4)
    for ci in range(min(ahead, n_candidates)):
        _prefetch(flat_codes, candidates[ci] * 4)
    for ci in range(n_candidates):
        if ci + ahead < n_candidates:
            _prefetch(flat_codes, candidates[ci + ahead] * 4)
        pos = candidates[ci]
        d = _distance(codes, pos, q0, q1, q2, q3)
        if d > threshold:
            continue
        seen = False
        for j in range(candidate_chunk[ci]):
            rj = radii[j]
            if rj < 0:
                continue
            dj: int = (
                _ctpop((codes[pos, 0] ^ q0) & chunk_masks[j, 0])
                + _ctpop((codes[pos, 1] ^ q1) & chunk_masks[j, 1])
                + _ctpop((codes[pos, 2] ^ q2) & chunk_masks[j, 2])
                + _ctpop((codes[pos, 3] ^ q3) & chunk_masks[j, 3])
            )
            if dj <= rj:
                seen = True
                break
        if seen:
            continue
        if found < cap:
            out_pos[found] = pos
            out_dist[found] = d
        found += 1
    return found if found <= cap else -found


# Over 60 lines for the same reason as mih_search: one compiled loop over the queries.
@nb.njit(nogil=True, cache=True)
def search_many(
    codes: Any,
    layout: Any,
    chunk_masks: Any,
    in_block: Any,
    block_bases: Any,
    wide: Any,
    ids: Any,
    probe_masks: Any,
    radii_table: Any,
    queries: Any,
    thresholds: Any,
) -> Any:
    """Many queries in one call (no per-query dispatch). ``radii_table[t]`` holds the radii for
    threshold t, or -2 in column 0 where a scan is cheaper. Returns CSR (offsets, positions, distances)."""
    k = queries.shape[0]
    offsets = np.zeros(k + 1, dtype=np.int64)
    positions = np.empty(max(64, 4 * k), dtype=np.int64)
    distances = np.empty(max(64, 4 * k), dtype=np.int64)
    out_pos = np.empty(256, dtype=np.int64)
    out_dist = np.empty(256, dtype=np.int64)
    total = 0
    for qi in range(k):
        threshold = thresholds[qi]
        found = 0
        if threshold >= 0 and codes.shape[0] > 0:
            row = min(threshold, radii_table.shape[0] - 1)
            while True:
                if radii_table.shape[1] == 0 or radii_table[row, 0] == -2:
                    found = brute_search(codes, codes.shape[0], queries[qi], threshold, out_pos, out_dist)
                else:
                    found = mih_search(
                        codes,
                        layout,
                        chunk_masks,
                        in_block,
                        block_bases,
                        wide,
                        ids,
                        probe_masks,
                        radii_table[row],
                        queries[qi],
                        threshold,
                        out_pos,
                        out_dist,
                    )
                if found >= 0:
                    break
                out_pos = np.empty(-found, dtype=np.int64)
                out_dist = np.empty(-found, dtype=np.int64)
        if total + found > positions.shape[0]:
            size = max(2 * positions.shape[0], total + found)
            grown_pos = np.empty(size, dtype=np.int64)
            grown_dist = np.empty(size, dtype=np.int64)
            grown_pos[:total] = positions[:total]
            grown_dist[:total] = distances[:total]
            positions = grown_pos
            distances = grown_dist
        positions[total : total + found] = out_pos[:found]
        distances[total : total + found] = out_dist[:found]
        total += found
        offsets[qi + 1] = total
    return offsets, positions[:total], distances[:total]
