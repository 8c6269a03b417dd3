"""An immutable set of distinct PDQ hashes with exact range search (multi-index hashing).

The 256 bits are cut into ``m`` chunks of about ``log2(n) + 1`` bits (11 chunks of 24/23 bits at 10M
hashes, 12 of 22/21 at 1M). Each chunk has a bucket table: chunk 0 over the sorted codes themselves
(so it needs no id array), every other chunk over a uint32 id array grouped by bucket. A query with
threshold ``T`` probes, in chunk i, every bucket within radius ``r_i`` of the query's chunk value, with
``sum(r_i + 1) > T`` (the generalised pigeonhole principle: a stored hash within ``T`` must lie within
``r_i`` of the query in some chunk), and verifies each candidate on all 256 bits. The radii are chosen
per threshold by a small cost model (probes and candidates cost about one random memory read each).
When that costs more than a linear scan (few hashes, or a very large threshold) the segment scans.

Memory per hash at 10M: 32 bytes of code, 4 bytes per chunk but the first of id arrays, and the
two-level bucket tables (about 1.1 byte per bucket): about 84 bytes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from safeguard.index import _kernels as k

U64Array = npt.NDArray[np.uint64]
I64Array = npt.NDArray[np.int64]

MAX_RADIUS = 3  # largest per-chunk probe radius; larger thresholds are answered by scanning
MIN_INDEXED = 8192  # below this many hashes a scan is as fast as probing and needs no tables
# Cost-model weights, in "random memory reads": measured on this 2-core machine, a random read of a
# table much larger than the cache costs ~20 ns, and a linear scan ~2.5 ns per stored hash.
SCAN_COST_PER_HASH = 0.12

SEGMENT_ARRAYS = ("codes", "layout", "chunk_masks", "in_block", "block_bases", "wide", "ids", "probe_masks")


def chunk_bits_for(n: int) -> list[int]:
    """Chunk widths for ``n`` hashes: about log2(n) + 1 bits each, 10 to 16 chunks, widest first."""
    target_bits = math.log2(max(n, 2)) + 1.0
    m = int(min(16, max(10, round(256 / target_bits))))
    base, extra = divmod(256, m)
    return [base + 1] * extra + [base] * (m - extra)


def _probe_masks(bits: int) -> tuple[list[int], list[int]]:
    """XOR masks over ``bits`` bits ordered by popcount, and how many have popcount <= r, r = 0..MAX."""
    masks = [0]
    counts = [1]
    for r in range(1, MAX_RADIUS + 1):
        for combo in itertools.combinations(range(bits), r):
            mask = 0
            for bit in combo:
                mask |= 1 << bit
            masks.append(mask)
        counts.append(len(masks))
    return masks, counts


def plan_radii(bits: list[int], n: int, threshold: int) -> tuple[list[int], float] | None:
    """Per-chunk radii with sum(r + 1) > threshold at the least estimated cost, and that cost.

    Raising chunk i from radius r - 1 to r adds C(bits_i, r) probes and one unit of pigeonhole credit;
    the marginal cost grows with r, so taking the cheapest raise each step is optimal. None when even
    radius MAX_RADIUS everywhere is not enough.
    """
    radii = [-1] * len(bits)
    cost = 0.0

    def raise_cost(i: int) -> float:
        r = radii[i] + 1
        if r > MAX_RADIUS:
            return math.inf
        occupancy = n / 2.0 ** bits[i]
        nonempty = 1.0 - math.exp(-occupancy)
        per_candidate = 0.25 if i == 0 else 1.0  # chunk 0 candidates are contiguous codes
        return math.comb(bits[i], r) * (1.0 + nonempty + per_candidate * occupancy)

    for _ in range(threshold + 1):
        best = min(range(len(bits)), key=raise_cost)
        step = raise_cost(best)
        if math.isinf(step):
            return None
        radii[best] += 1
        cost += step
    return radii, cost


@dataclass(frozen=True)
class Segment:
    """Distinct 256-bit codes, sorted, with their multi-index tables (absent below MIN_INDEXED)."""

    codes: U64Array  # (n, 4) uint64, big-endian words, sorted, distinct
    layout: I64Array  # (m, 6 + MAX_RADIUS + 1); see _kernels.mih_search
    chunk_masks: U64Array  # (m, 4): the bits of each chunk
    in_block: npt.NDArray[np.uint8]
    block_bases: npt.NDArray[np.uint32]
    wide: npt.NDArray[np.uint32]
    ids: npt.NDArray[np.uint32]
    probe_masks: I64Array

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @property
    def indexed(self) -> bool:
        return int(self.layout.shape[0]) > 0

    @classmethod
    def build(cls, codes: U64Array) -> Segment:
        """Tables for ``codes``, which must already be sorted and distinct (see ``sort_unique``)."""
        codes = np.ascontiguousarray(codes, dtype=np.uint64)
        n = len(codes)
        if n < MIN_INDEXED:
            return cls._unindexed(codes)
        bits = chunk_bits_for(n)
        m = len(bits)
        layout = np.zeros((m, 6 + MAX_RADIUS + 1), dtype=np.int64)
        chunk_masks = np.zeros((m, 4), dtype=np.uint64)
        in_blocks, block_bases_list, wides, id_arrays, masks_all = [], [], [], [], []
        in_base = bb_base = wide_base = mask_base = 0
        start = 0
        for i, b in enumerate(bits):
            values = k.chunk_values(codes, start, b)
            offsets = k.bucket_offsets(values, 1 << b)
            if i > 0:
                chunk_ids = np.empty(n, dtype=np.uint32)
                k.group_by_bucket(values, offsets, chunk_ids)
                id_arrays.append(chunk_ids)
            del values
            in_block = np.empty((1 << b) + 1, dtype=np.uint8)
            block_bases = np.empty(((1 << b) >> k.BLOCK_SHIFT) + 1, dtype=np.uint32)
            wide = k.compress_offsets(offsets, in_block, block_bases)
            del offsets
            if wide_base:
                block_bases[block_bases >= k.WIDE_FLAG] += np.uint32(wide_base)
            masks, counts = _probe_masks(b)
            layout[i, :6] = (start, b, in_base, bb_base, -1 if i == 0 else (i - 1) * n, mask_base)
            layout[i, 6:] = counts
            for bit in range(start, start + b):
                chunk_masks[i, bit // 64] |= np.uint64(1 << (63 - bit % 64))
            in_blocks.append(in_block)
            block_bases_list.append(block_bases)
            wides.append(wide)
            masks_all.extend(masks)
            in_base += len(in_block)
            bb_base += len(block_bases)
            wide_base += len(wide)
            mask_base += len(masks)
            start += b
        if bb_base + wide_base >= k.WIDE_FLAG:
            raise ValueError("too many hashes for one segment")
        return cls(
            codes=codes,
            layout=layout,
            chunk_masks=chunk_masks,
            in_block=np.concatenate(in_blocks),
            block_bases=np.concatenate(block_bases_list),
            wide=np.concatenate(wides),
            ids=np.concatenate(id_arrays),
            probe_masks=np.asarray(masks_all, dtype=np.int64),
        )

    @classmethod
    def _unindexed(cls, codes: U64Array) -> Segment:
        return cls(
            codes=codes,
            layout=np.zeros((0, 6 + MAX_RADIUS + 1), dtype=np.int64),
            chunk_masks=np.zeros((0, 4), dtype=np.uint64),
            in_block=np.zeros(0, dtype=np.uint8),
            block_bases=np.zeros(0, dtype=np.uint32),
            wide=np.zeros(0, dtype=np.uint32),
            ids=np.zeros(0, dtype=np.uint32),
            probe_masks=np.zeros(0, dtype=np.int64),
        )

    @classmethod
    def empty(cls) -> Segment:
        return cls._unindexed(np.zeros((0, 4), dtype=np.uint64))

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {name: getattr(self, name) for name in SEGMENT_ARRAYS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> Segment:
        return cls(**{name: arrays[name] for name in SEGMENT_ARRAYS})

    @cached_property
    def _plans(self) -> dict[int, I64Array | None]:
        return {}

    def radii_for(self, threshold: int) -> I64Array | None:
        """The radii to probe with for ``threshold`` (planned once, then cached), or None to scan."""
        plans = self._plans
        if threshold not in plans:
            plan = None
            if self.indexed:
                n = len(self)
                found = plan_radii([int(b) for b in self.layout[:, 1]], n, threshold)
                if found is not None and found[1] <= n * SCAN_COST_PER_HASH:
                    plan = np.asarray(found[0], dtype=np.int64)
            plans[threshold] = plan
        return plans[threshold]

    @cached_property
    def _radii_table(self) -> I64Array:
        """Rows of ``radii_for`` for the batch kernel (-2 in column 0: scan), filled as thresholds occur."""
        return np.full((257, int(self.layout.shape[0])), -2, dtype=np.int64)

    def _radii_rows(self, thresholds: I64Array) -> I64Array:
        table = self._radii_table
        if table.shape[1] == 0:
            return table
        for threshold in np.unique(np.minimum(thresholds, 256)).tolist():
            if threshold >= 0 and table[threshold, 0] == -2:
                radii = self.radii_for(threshold)
                if radii is not None:
                    table[threshold] = radii
        return table

    def search_many(self, queries: U64Array, thresholds: I64Array) -> tuple[I64Array, I64Array, I64Array]:
        """CSR (offsets, positions, distances) for many queries ((k, 4) uint64) in one kernel call."""
        offsets, positions, distances = k.search_many(
            self.codes,
            self.layout,
            self.chunk_masks,
            self.in_block,
            self.block_bases,
            self.wide,
            self.ids,
            self.probe_masks,
            self._radii_rows(thresholds),
            np.ascontiguousarray(queries, dtype=np.uint64),
            np.ascontiguousarray(thresholds, dtype=np.int64),
        )
        return offsets, positions, distances

    def search(self, query: U64Array, threshold: int, capacity: int = 64) -> tuple[I64Array, I64Array]:
        """Positions (sorted codes) within ``threshold`` of ``query`` ((4,) uint64) and their distances."""
        if len(self) == 0 or threshold < 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        radii = self.radii_for(min(threshold, 256))
        while True:
            out_pos = np.empty(capacity, dtype=np.int64)
            out_dist = np.empty(capacity, dtype=np.int64)
            if radii is None:
                found = k.brute_search(self.codes, len(self), query, threshold, out_pos, out_dist)
            else:
                found = k.mih_search(
                    self.codes,
                    self.layout,
                    self.chunk_masks,
                    self.in_block,
                    self.block_bases,
                    self.wide,
                    self.ids,
                    self.probe_masks,
                    radii,
                    query,
                    threshold,
                    out_pos,
                    out_dist,
                )
            if found >= 0:
                return out_pos[:found], out_dist[:found]
            capacity = -found

    def find(self, query: U64Array) -> int:
        """Position of exactly ``query``, or -1."""
        positions, _ = self.search(query, 0, capacity=2)
        return int(positions[0]) if len(positions) else -1


def sort_unique(codes: U64Array) -> tuple[I64Array, I64Array]:
    """Sort order of ``codes`` ((n, 4) uint64) and, in that order, the index of each row's distinct code.

    Returns ``(order, group)``: ``codes[order]`` is sorted; ``group[j]`` is the rank of the distinct code
    of ``codes[order[j]]`` (equal rows share a group). Sorts on the first word, then breaks ties on the
    rest only among the tied rows (random-looking hashes rarely tie on 64 bits).
    """
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(codes[:, 0], kind="stable").astype(np.int64)
    first = codes[order, 0]
    ties = first[1:] == first[:-1]
    if ties.any():
        in_tie = np.zeros(n, dtype=bool)
        in_tie[1:] |= ties
        in_tie[:-1] |= ties
        tied = np.flatnonzero(in_tie)
        rows = order[tied]
        sub = np.lexsort((codes[rows, 3], codes[rows, 2], codes[rows, 1], codes[rows, 0]))
        order[tied] = rows[sub]
    same = k.equal_to_next(codes[order])
    group = np.zeros(n, dtype=np.int64)
    np.cumsum(~same, out=group[1:])
    return order, group
