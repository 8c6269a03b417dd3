"""The signal type extension point: built-ins, validation, distance, and third-party entry points."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from safeguard.media import (
    ENTRY_POINT_GROUP,
    ContentKind,
    HashOptions,
    SignalTypeRegistry,
    default_registry,
    hash_content,
)
from safeguard.media.errors import BadSignalTypePlugin, InvalidHash, UnknownSignalType
from safeguard.media.registry import BUILTIN_TYPES, load_entry_points
from tests.media.helpers import FIRST_IMAGE


def test_builtin_names_match_python_threatexchange() -> None:
    from threatexchange.extensions.vpdq.vpdq import VPDQSignal
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal

    registry = default_registry()
    assert set(registry.names()) >= {"pdq", "vpdq", "video_md5", "md5", "sha256"}
    for theirs in (PdqSignal, VPDQSignal, VideoMD5Signal):
        assert theirs.get_name() in registry
    assert registry.get("PDQ").content_types == frozenset({ContentKind.photo})
    assert registry.get("md5").content_types == frozenset(ContentKind)


@pytest.mark.parametrize(
    ("name", "value", "canonical"),
    [
        ("pdq", " " + "AB" * 32 + " ", "ab" * 32),
        ("md5", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        ("video_md5", "d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e"),
        ("sha256", "0" * 64, "0" * 64),
    ],
)
def test_validate_hash_canonical(name: str, value: str, canonical: str) -> None:
    assert default_registry().validate_hash(name, value) == canonical


@pytest.mark.parametrize(
    ("name", "value"),
    [("pdq", "ab" * 31), ("pdq", "zz" * 32), ("md5", ""), ("sha256", "g" * 64), ("md5", "a" * 33)],
)
def test_validate_hash_names_the_problem(name: str, value: str) -> None:
    with pytest.raises(InvalidHash, match=f"not a {name} hash"):
        default_registry().validate_hash(name, value)


def test_unknown_signal_type() -> None:
    with pytest.raises(UnknownSignalType, match="known: pdq"):
        default_registry().get("photodna")
    with pytest.raises(UnknownSignalType):
        hash_content(FIRST_IMAGE, HashOptions(signal_types=frozenset({"nope"})))


def test_distances() -> None:
    pdq = default_registry().get("pdq")
    a = "0" * 64
    b = "f" + "0" * 63
    assert pdq.distance(a, b) == 4 and pdq.matches(a, b) and not pdq.matches(a, "f" * 64)
    assert pdq.default_threshold == 31 and not pdq.exact
    md5 = default_registry().get("md5")
    assert md5.exact and md5.distance("a" * 32, "A" * 32) == 0 and md5.distance("a" * 32, "b" * 32) == 1


def test_signal_types_option_restricts_output() -> None:
    result = hash_content(FIRST_IMAGE, HashOptions(signal_types=frozenset({"sha256"})))
    assert [s.signal_type for s in result.signals] == ["sha256"]


def test_third_party_entry_point_adds_a_type() -> None:
    point = EntryPoint(
        name="mean_luma", value="tests.media.fake_plugin:MeanLumaSignal", group=ENTRY_POINT_GROUP
    )
    registry = SignalTypeRegistry(BUILTIN_TYPES)
    load_entry_points(registry, [point])
    assert "mean_luma" in registry
    result = hash_content(FIRST_IMAGE, registry=registry)
    plugin = result.plain("mean_luma")
    assert plugin is not None and len(plugin.hash) == 2
    assert result.plain("pdq") is not None  # built-ins still run, sharing the decoded image
    assert registry.get("mean_luma").distance("10", "1f") == 15


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("other_name", "tests.media.fake_plugin:MeanLumaSignal", "must equal the entry point name"),
        ("pdq", "tests.media.fake_plugin:ClashingPdqSignal", "already registered"),
        ("missing", "tests.media.no_such_module:Thing", "failed to load"),
        ("not_a_type", "tests.media.fake_plugin:NotASignalType", "not a SignalType"),
    ],
)
def test_broken_plugins_fail_loudly(name: str, value: str, message: str) -> None:
    registry = SignalTypeRegistry(BUILTIN_TYPES)
    with pytest.raises(BadSignalTypePlugin, match=message):
        load_entry_points(registry, [EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)])
