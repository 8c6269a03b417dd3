"""``/v1/match`` never blocks the event loop: while a slow query (a vpdq search, the index still loading,
the database read on a hit) is in flight, ``/health`` answers.

Each test holds the slow part on an event that only the ``/health`` answer releases: on a blocked event
loop ``/health`` cannot answer, the hold times out, and the test fails on the order of events, not on a
time threshold.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safeguard.auth import Role
from safeguard.banks import matching
from safeguard.banks.matcher import BankMatcher
from tests.banks.helpers import random_pdq, vpdq_string, wait_for

HOLD_S = 20.0


class Gate:
    """``hold`` blocks the slow part until ``release`` (or HOLD_S); records whether the release came first."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        self.released_in_time: bool | None = None

    def hold(self) -> None:
        self.entered.set()
        self.released_in_time = self.released.wait(HOLD_S)


def _in_background(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    return thread, out


def _health_while_held(client: TestClient, gate: Gate, slow: Callable[[], Any]) -> Any:
    thread, out = _in_background(slow)
    assert gate.entered.wait(HOLD_S), "the slow request never reached the held part"
    r = client.get("/health")
    assert r.status_code == 200
    gate.released.set()  # /health answered while the match was still held: the loop was free
    thread.join(HOLD_S + 5)
    assert gate.released_in_time is True, "the match held the event loop: /health waited for it"
    return out[0]


@pytest.fixture
def matcher(client: TestClient) -> Iterator[BankMatcher]:
    app: Any = client.app
    found: BankMatcher = app.state.bank_matcher
    yield found


def test_a_slow_vpdq_query_does_not_block_health(
    client: TestClient,
    matcher: BankMatcher,
    auth_headers: Callable[[Role], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    bank = client.post("/v1/banks", json={"name": "videos"}, headers=admin).json()["id"]
    rng = random.Random(3)
    video = vpdq_string([(random_pdq(rng), 100, float(s)) for s in range(10)])
    body = {"signals": [{"signal_type": "vpdq", "hash": video}]}
    r = client.post(f"/v1/banks/{bank}/content", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert wait_for(lambda: client.post("/v1/match", json=body, headers=integrator).json()["matched"])

    gate = Gate()
    real = matcher.query_vpdq

    def slow_query(value: str, radius: int) -> Any:
        gate.hold()
        return real(value, radius)

    monkeypatch.setattr(matcher, "query_vpdq", slow_query)
    r = _health_while_held(client, gate, lambda: client.post("/v1/match", json=body, headers=integrator))
    assert r.status_code == 200 and r.json()["matched"] is True


def test_waiting_for_the_index_and_reading_a_hit_do_not_block_health(
    client: TestClient,
    matcher: BankMatcher,
    auth_headers: Callable[[Role], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin, integrator = auth_headers(Role.admin), auth_headers(Role.integrator)
    bank = client.post("/v1/banks", json={"name": "images"}, headers=admin).json()["id"]
    value = random_pdq(random.Random(4))
    body = {"signals": [{"signal_type": "pdq", "hash": value}]}
    assert client.post(f"/v1/banks/{bank}/content", json=body, headers=admin).status_code == 201
    assert wait_for(lambda: client.post("/v1/match", json=body, headers=integrator).json()["matched"])

    # The index is (again) loading: the request waits for it off the loop.
    gate = Gate()
    ready = matcher.ready

    class Loading:
        def is_set(self) -> bool:
            return False

        def wait(self, timeout: float | None = None) -> bool:
            gate.hold()
            return ready.wait(timeout)

    monkeypatch.setattr(matcher, "load", lambda: None)  # the refresh thread must not reload meanwhile
    monkeypatch.setattr(matcher, "ready", Loading())
    r = _health_while_held(client, gate, lambda: client.post("/v1/match", json=body, headers=integrator))
    assert r.status_code == 200 and r.json()["matched"] is True
    monkeypatch.setattr(matcher, "ready", ready)

    # A hit is read from the database off the loop.
    gate = Gate()
    real_resolve = matching.resolve

    def slow_resolve(*args: Any, **kwargs: Any) -> Any:
        gate.hold()
        return real_resolve(*args, **kwargs)

    monkeypatch.setattr(matching, "resolve", slow_resolve)
    r = _health_while_held(client, gate, lambda: client.post("/v1/match", json=body, headers=integrator))
    assert r.status_code == 200 and r.json()["matched"] is True
