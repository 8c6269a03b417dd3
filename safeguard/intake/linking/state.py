"""The linking state: suspects as a union-find over cluster ids; the inverted index identifier -> referrals.

Everything the linker decides with lives here: which cluster each referral is in, the postings of every
identifier key, keys found to be shared, below-threshold evidence between clusters (so evidence accumulates
across referrals: a second medium link merges what one could not), analysts' do-not-link constraints,
owners (for deconfliction) and the links that explain each cluster.

The state is complete in memory (the library linker and the bench), or filled on demand from the database
through a ``Loader`` (``safeguard.intake.store``): each import loads only the neighbourhood of what it
adds, links in memory, and writes the changes back. Adding a referral therefore costs a few index look-ups
whatever the size of the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from safeguard.intake.linking.evidence import Evidence
from safeguard.intake.linking.media_index import MediaIndex

COMPACT_AFTER = 16  # postings of an untimed key are folded to one per suspect past this length


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """One applied link: why two referrals are the same suspect (or an analyst's decision)."""

    referral_a: int
    referral_b: int
    evidence: tuple[Evidence, ...]
    actor: str = "linker"
    note: str | None = None


# (referral id, capture time or None): plain tuples, because millions of them are kept and the cyclic
# garbage collector does not track tuples of numbers.
Posting = tuple[int, float | None]


@dataclass(slots=True)
class ClusterInfo:
    """What a loader knows of an existing cluster."""

    owner: str | None = None
    pairs: dict[int, dict[str, Evidence]] = field(default_factory=dict)
    block_partners: set[int] = field(default_factory=set)


class Loader(Protocol):
    """Fills a state from a store on demand (``safeguard.intake.store.SqlLoader``)."""

    def postings(self, keys: Sequence[str]) -> dict[str, list[tuple[int, int, float | None]]]:
        """key -> (referral id, its cluster id, capture time) for keys not yet loaded."""
        ...

    def shared(self, keys: Sequence[str]) -> dict[str, str]: ...

    def clusters(self, cluster_ids: Sequence[int]) -> dict[int, ClusterInfo]: ...

    def cluster_of(self, referral_ids: Sequence[int]) -> dict[int, int]: ...

    def members(self, cluster_id: int) -> list[int]: ...

    def pdq_near(self, value: str, radius: int) -> list[tuple[int, int, str, int]]:
        """(referral id, cluster id, stored hash, distance) within radius; stored, linkable media only."""
        ...


class LinkState:
    def __init__(self, loader: Loader | None = None) -> None:
        self.loader = loader
        self.parent: dict[int, int] = {}
        self.cluster_of_ref: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}
        self.postings: dict[str, list[Posting]] = {}
        self.shared: dict[str, str] = {}
        self.pairs: dict[int, dict[int, dict[str, Evidence]]] = {}
        self.block_partners: dict[int, set[int]] = {}
        self.owners: dict[int, str] = {}
        self.links: dict[int, list[LinkRecord]] = {}
        self.loaded_clusters: set[int] = set()
        self.loaded_keys: set[str] = set()
        # What changed here (a store writes these back).
        self.new_shared: dict[str, str] = {}
        self.new_links: list[tuple[int, LinkRecord]] = []
        self.new_blocks: list[tuple[int, int]] = []
        self.new_pdqs: list[tuple[int, str]] = []
        self.removed_blocks: list[tuple[int, int]] = []  # (cluster, partner referral)
        self.merged: dict[int, int] = {}  # gone -> survivor, in order
        self.reassigned: dict[int, int] = {}  # referral -> cluster, moved by a split
        self.splits: list[tuple[int, int, str, str]] = []
        self.created: list[int] = []
        self.touched: set[int] = set()
        self.dirty_pairs: set[tuple[int, int]] = set()  # pairs whose pending evidence changed
        self._next_id = 1 if loader is None else -1
        self._pdq = MediaIndex()
        self._viral = MediaIndex()
        self._pdq_refs: list[int] = []
        self._pdq_hex: list[str] = []

    # --- clusters ------------------------------------------------------------------------------------

    def find(self, cluster: int) -> int:
        parent = self.parent
        root = cluster
        while parent.setdefault(root, root) != root:
            parent[root] = parent[parent[root]]
            root = parent[root]
        return root

    def cluster(self, referral_id: int) -> int:
        return self.find(self.cluster_of_ref[referral_id])

    def _new_id(self) -> int:
        # Ids count up in memory; with a loader they are provisional (negative) until the store gives
        # the suspect its id.
        cluster = self._next_id
        self._next_id += 1 if self._next_id > 0 else -1
        self.parent[cluster] = cluster
        self.loaded_clusters.add(cluster)
        self.created.append(cluster)
        self.touched.add(cluster)
        return cluster

    def new_cluster(self, referral_id: int) -> int:
        """A cluster for a referral on its own."""
        cluster = self._new_id()
        self.cluster_of_ref[referral_id] = cluster
        self.members[cluster] = [referral_id]
        return cluster

    def ensure(self, clusters: Iterable[int]) -> None:
        """Load what the store knows of these clusters (owner, pending evidence, constraints)."""
        if self.loader is None:
            return
        wanted = [c for c in {self.find(c) for c in clusters} if c not in self.loaded_clusters]
        if not wanted:
            return
        self.loaded_clusters.update(wanted)
        for cluster, info in self.loader.clusters(wanted).items():
            if info.owner:
                self.owners[cluster] = info.owner
            for other, evidence in info.pairs.items():
                other = self.find(other)
                if other == cluster:
                    continue
                found = self._pair(cluster, other)
                for key, item in evidence.items():
                    found.setdefault(key, item)
            if info.block_partners:
                self.block_partners.setdefault(cluster, set()).update(info.block_partners)

    def member_list(self, cluster: int) -> list[int]:
        root = self.find(cluster)
        if root not in self.members and self.loader is not None:
            self.members[root] = self.loader.members(root)
            for referral in self.members[root]:
                self.cluster_of_ref.setdefault(referral, root)
        return self.members.get(root, [])

    def owner(self, cluster: int) -> str | None:
        return self.owners.get(self.find(cluster))

    def set_owner(self, cluster: int, owner: str | None) -> None:
        root = self.find(cluster)
        if owner:
            self.owners[root] = owner
        else:
            self.owners.pop(root, None)

    def older(self, a: int, b: int) -> int:
        """The cluster that keeps its id on a merge: the assigned one, else the older one."""
        if (a in self.owners) != (b in self.owners):
            return a if a in self.owners else b
        if (a > 0) != (b > 0):
            return a if a > 0 else b
        return min(a, b) if a > 0 else max(a, b)

    def union(self, keep: int, gone: int) -> list[int]:
        """Merge ``gone`` into ``keep``; returns the clusters whose evidence with ``keep`` grew."""
        keep, gone = self.find(keep), self.find(gone)
        if keep == gone:
            return []
        self.ensure([keep, gone])
        self.parent[gone] = keep
        self.merged[gone] = keep
        self.touched.update((keep, gone))
        if gone in self.members or keep in self.members:
            self.members.setdefault(keep, []).extend(self.members.pop(gone, []))
        self.links.setdefault(keep, []).extend(self.links.pop(gone, []))
        if gone in self.owners and keep not in self.owners:
            self.owners[keep] = self.owners[gone]
        self.owners.pop(gone, None)
        partners = self.block_partners.pop(gone, None)
        if partners:
            self.block_partners.setdefault(keep, set()).update(partners)
        grown = []
        gone_pairs = self.pairs.pop(gone, {})
        self.pairs.get(keep, {}).pop(gone, None)
        for other, evidence in gone_pairs.items():
            self.pairs.get(other, {}).pop(gone, None)
            if other == keep:
                continue
            self.touched.add(other)
            merged = self._pair(keep, other)
            for key, item in evidence.items():
                merged.setdefault(key, item)
            self._dirty(keep, other)
            grown.append(other)
        return grown

    def _dirty(self, a: int, b: int) -> None:
        self.dirty_pairs.add((a, b) if a < b else (b, a))

    def _pair(self, a: int, b: int) -> dict[str, Evidence]:
        """The one evidence dict two clusters share (the same object under both of them)."""
        found = self.pairs.setdefault(a, {}).get(b)
        if found is None:
            found = self.pairs.setdefault(b, {}).get(a)
            if found is None:
                found = {}
            self.pairs[a][b] = found
            self.pairs[b][a] = found
        return found

    def add_pair_evidence(self, a: int, b: int, evidence: Iterable[Evidence]) -> dict[str, Evidence]:
        a, b = self.find(a), self.find(b)
        self.ensure([a, b])
        found = self._pair(a, b)
        for item in evidence:
            found.setdefault(item.key, item)
        self.touched.update((a, b))
        self._dirty(a, b)
        return found

    def pair_evidence(self, a: int, b: int) -> dict[str, Evidence]:
        return self.pairs.get(self.find(a), {}).get(self.find(b), {})

    def _resolve(self, referrals: Iterable[int]) -> None:
        if self.loader is not None:
            unknown = [r for r in referrals if r not in self.cluster_of_ref]
            if unknown:
                self.cluster_of_ref.update(self.loader.cluster_of(unknown))

    def cannot_link(self, a: int, b: int) -> bool:
        a, b = self.find(a), self.find(b)
        self.ensure([a, b])
        partners = self.block_partners.get(a)
        if not partners:
            return False
        self._resolve(partners)
        return any(self.cluster(p) == b for p in partners if p in self.cluster_of_ref)

    def add_block(self, referral_a: int, referral_b: int) -> None:
        a, b = self.cluster(referral_a), self.cluster(referral_b)
        self.block_partners.setdefault(a, set()).add(referral_b)
        self.block_partners.setdefault(b, set()).add(referral_a)
        self.new_blocks.append((referral_a, referral_b))
        self.touched.update((a, b))

    def remove_blocks(self, a: int, b: int) -> list[tuple[int, int]]:
        """Lift every do-not-link between two clusters (an analyst merging them)."""
        a, b = self.find(a), self.find(b)
        removed = []
        for here, there in ((a, b), (b, a)):
            partners = self.block_partners.get(here, set())
            self._resolve(partners)
            for partner in [p for p in partners if p in self.cluster_of_ref and self.cluster(p) == there]:
                partners.discard(partner)
                removed.append((here, partner))
        self.removed_blocks.extend(removed)
        return removed

    def split(self, cluster: int, moved: Sequence[int], *, actor: str, reason: str) -> int:
        """Move referrals out of a cluster into a new one, with a do-not-link between the two."""
        root = self.find(cluster)
        self.ensure([root])
        members = self.member_list(root)
        moving = set(moved)
        remaining = [m for m in members if m not in moving]
        new = self._new_id()
        self.touched.add(root)
        self.members[root] = remaining
        self.members[new] = [m for m in members if m in moving]
        for referral in self.members[new]:
            self.cluster_of_ref[referral] = new
            self.reassigned[referral] = new
        # Pending evidence with other suspects goes with the side whose referral it is about.
        for other, evidence in list(self.pairs.get(root, {}).items()):
            going = {k: e for k, e in evidence.items() if e.referral_a in moving or e.referral_b in moving}
            for key in going:
                del evidence[key]
            if not evidence:
                self.pairs[root].pop(other, None)
                self.pairs.get(other, {}).pop(root, None)
            self._dirty(root, other)
            if going:
                self._pair(new, other).update(going)
                self._dirty(new, other)
                self.touched.add(other)
        # Links inside each side stay; links across the split become pending evidence between the two
        # (never counted again: the do-not-link stops any merge), so the package still shows it.
        kept: list[LinkRecord] = []
        went: list[LinkRecord] = []
        for record in self.links.get(root, []):
            inside = (record.referral_a in moving, record.referral_b in moving)
            if all(inside):
                went.append(record)
            elif not any(inside):
                kept.append(record)
            else:
                self._pair(root, new).update({e.key: e for e in record.evidence})
                self._dirty(root, new)
        self.links[root], self.links[new] = kept, went
        if remaining and self.members[new]:
            self.add_block(remaining[0], self.members[new][0])
        self.splits.append((root, new, actor, reason))
        return new

    def record_link(self, cluster: int, record: LinkRecord) -> None:
        root = self.find(cluster)
        self.links.setdefault(root, []).append(record)
        self.new_links.append((root, record))

    # --- the inverted index --------------------------------------------------------------------------

    def preload(self, keys: Iterable[str]) -> None:
        """Fetch the postings and shared flags of keys from the store in one go (a batch's keys)."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self.loaded_keys]
        if not wanted:
            return
        self.loaded_keys.update(wanted)
        if self.loader is None:
            return
        self.shared.update(self.loader.shared(wanted))
        clusters: set[int] = set()
        for key, rows in self.loader.postings([k for k in wanted if k not in self.shared]).items():
            postings = self.postings.setdefault(key, [])
            for referral_id, cluster, at in rows:
                postings.append((referral_id, at))
                if referral_id not in self.cluster_of_ref:
                    self.cluster_of_ref[referral_id] = cluster
                clusters.add(cluster)
        self.ensure(clusters)

    def postings_of(self, key: str) -> list[Posting]:
        if key not in self.loaded_keys:
            self.preload([key])
        postings = self.postings.get(key, [])
        if len(postings) > COMPACT_AFTER and not key.startswith("ip:"):
            # One posting per suspect is all linking needs for an untimed key (a prolific account's
            # thousand referrals are one suspect); keeps each look-up short.
            latest = {self.cluster(p[0]): p for p in postings}
            if len(latest) < len(postings):
                postings = self.postings[key] = list(latest.values())
        return postings

    def add_posting(self, key: str, referral_id: int, at: float | None) -> None:
        self.loaded_keys.add(key)
        self.postings.setdefault(key, []).append((referral_id, at))

    def mark_shared(self, key: str, reason: str) -> None:
        if key not in self.shared:
            self.shared[key] = reason
            self.new_shared[key] = reason

    # --- PDQ -----------------------------------------------------------------------------------------

    def pdq_near(self, value: str, radius: int) -> tuple[bool, list[tuple[int, str, int]]]:
        """Whether the hash is near known viral media, else (referral id, stored hash, distance) of the
        media within ``radius`` bits, stored and added here.

        Copies of media already known to be viral go to a separate small index and are never listed
        one by one: a popular image re-reported ten thousand times costs one look-up, not ten thousand.
        """
        number = int(value, 16)
        if self._viral.any_near(number, radius):
            return True, []
        found: list[tuple[int, str, int]] = []
        if self.loader is not None:
            rows = self.loader.pdq_near(value, radius)
            stored_keys = [f"media:pdq:{stored}" for _, _, stored, _ in rows]
            wanted = [k for k in stored_keys if k not in self.loaded_keys]
            if wanted:
                self.loaded_keys.update(wanted)
                self.shared.update(self.loader.shared(wanted))
            if any(k in self.shared for k in stored_keys):
                return True, []
            for referral_id, cluster, stored, distance in rows:
                self.cluster_of_ref.setdefault(referral_id, cluster)
                found.append((referral_id, stored, distance))
        for position, distance in self._pdq.near(number, radius):
            found.append((self._pdq_refs[position], self._pdq_hex[position], distance))
        return False, found

    def add_pdq(self, value: str, referral_id: int, *, viral: bool, radius: int) -> None:
        number = int(value, 16)
        if viral:
            # One entry per neighbourhood is enough to recognise later copies.
            if not self._viral.any_near(number, radius):
                self._viral.add(number)
            return
        self._pdq.add(number)
        self._pdq_refs.append(referral_id)
        self._pdq_hex.append(value)
        self.new_pdqs.append((referral_id, value))
