"""Webhook delivery against a real loopback receiver: signatures, retries with backoff, exactly-once effect
through idempotency keys, order per case, dead letters and replay, and a worker killed mid-delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from safeguard.actions import endpoints, outbox
from safeguard.actions.errors import EndpointInactive
from safeguard.actions.models import WebhookDelivery
from safeguard.actions.worker import DeliveryWorker
from safeguard.review import decisions, flows, queue
from safeguard.review.decisions import Action
from safeguard.review.signals import Label
from safeguard.store.db import Database
from tests.actions.receiver import Receiver, running
from tests.review.helpers import INTEGRATOR, MOD_A, REVIEW, WEBHOOKS, match


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def register(db: Database, receiver: Receiver, events: list[str] | None = None) -> int:
    with db.session() as session:
        created = endpoints.create_endpoint(
            session,
            INTEGRATOR,
            url=receiver.url,
            events=events or ["case.opened", "decision.made"],
            settings=WEBHOOKS,
        )
    receiver.secret = created.secret
    return created.endpoint.id


def open_and_decide(db: Database, content_id: str, entry: str) -> int:
    with db.session() as session:
        case_id = flows.open_case(
            session, INTEGRATOR, match(content_id, entry=entry), settings=REVIEW
        ).case.id
    with db.session() as session:
        claimed = queue.claim_next(session, MOD_A, settings=REVIEW)
        assert claimed is not None and claimed.id == case_id
        decisions.decide(
            session, MOD_A, case_id, label=Label.A2, actions=[Action.remove_content], settings=REVIEW
        )
    return case_id


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.read_session() as session:
        rows = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        session.expunge_all()  # keep them readable after the read transaction ends
        return rows


def test_retries_then_exactly_once_in_order_per_case(db: Database) -> None:
    with running(Receiver(fail_first=2)) as receiver:
        register(db, receiver)
        cases = [open_and_decide(db, f"upload-{i}", f"entry-{i}") for i in range(5)]
        worker = DeliveryWorker(db, WEBHOOKS, poll_seconds=0.01).start()
        try:
            wait_for(lambda: len(receiver.applied) == 10)
        finally:
            worker.stop()
    assert receiver.bad_signatures == 0
    # Each event was refused twice and accepted once: three attempts with one idempotency key, one effect.
    keys = [a["key"] for a in receiver.attempts]
    assert len(keys) == 30 and all(keys.count(k) == 3 for k in set(keys))
    assert sorted(receiver.applied_ids()) == sorted(set(keys))
    for case_id in cases:
        types = [e["type"] for e in receiver.applied if e["data"]["case_id"] == case_id]
        assert types == ["case.opened", "decision.made"]
        tried = [a["event"]["type"] for a in receiver.attempts if a["event"]["data"]["case_id"] == case_id]
        # decision.made was never sent before case.opened was accepted
        assert tried == ["case.opened"] * 3 + ["decision.made"] * 3
    assert {d.status for d in deliveries(db)} == {"delivered"}
    assert {d.attempts for d in deliveries(db)} == {3}


def test_dead_letter_then_replay_from_the_library(db: Database) -> None:
    settings = WEBHOOKS.model_copy(update={"retry_window_seconds": 0.3})
    with running(Receiver(always_fail=True)) as receiver:
        register(db, receiver, ["decision.made"])
        open_and_decide(db, "upload-1", "entry-1")
        worker = DeliveryWorker(db, settings, poll_seconds=0.01).start()
        try:
            wait_for(lambda: [d.status for d in deliveries(db)] == ["dead"])
        finally:
            worker.stop()
        dead = deliveries(db)[0]
        assert dead.attempts >= 2 and dead.last_status == 503 and receiver.applied == []
        receiver.always_fail = False
        with db.session() as session:
            assert outbox.replay_dead(session, MOD_A_ADMIN) == 1
        worker = DeliveryWorker(db, settings, poll_seconds=0.01).start()
        try:
            wait_for(lambda: len(receiver.applied) == 1)
        finally:
            worker.stop()
    assert deliveries(db)[0].status == "delivered"
    assert {a["key"] for a in receiver.attempts} == {dead.event_id}  # the same idempotency key throughout


def test_a_decision_rolled_back_sends_nothing(db: Database) -> None:
    with running(Receiver()) as receiver:
        register(db, receiver, ["decision.made"])
        with db.session() as session:
            case_id = flows.open_case(session, INTEGRATOR, match("upload-1"), settings=REVIEW).case.id
            queue.claim_next(session, MOD_A, settings=REVIEW)
        with pytest.raises(RuntimeError), db.session() as session:
            decisions.decide(
                session, MOD_A, case_id, label=Label.A1, actions=[Action.remove_content], settings=REVIEW
            )
            raise RuntimeError("crash before commit")
        worker = DeliveryWorker(db, WEBHOOKS)
        worker.drain(timeout=2)
        worker.stop()
    assert deliveries(db) == [] and receiver.attempts == []


@pytest.mark.slow
def test_killing_the_worker_mid_delivery_loses_nothing(db: Database, tmp_path: Path) -> None:
    hold = threading.Event()
    with running(Receiver(hold=hold)) as receiver:
        register(db, receiver, ["decision.made"])
        for i in range(3):
            open_and_decide(db, f"upload-{i}", f"entry-{i}")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SAFEGUARD_") or k == "SAFEGUARD_AUDIT_KEY_FILE"
        }
        env.update(
            SAFEGUARD_HOME=str(tmp_path),
            SAFEGUARD_DATABASE_URL=db.url,
            SAFEGUARD_WEBHOOK_ALLOW_NETWORKS='["127.0.0.0/8"]',
            SAFEGUARD_WEBHOOK_ALLOW_HTTP="true",
            SAFEGUARD_WEBHOOK_LEASE_SECONDS="1",
            SAFEGUARD_WEBHOOK_TIMEOUT_SECONDS="0.5",
            SAFEGUARD_WEBHOOK_BACKOFF_BASE_SECONDS="0.05",
            SAFEGUARD_WEBHOOK_CONCURRENCY="1",
            SAFEGUARD_WEBHOOK_BATCH_SIZE="1",
        )
        command = [sys.executable, "-m", "safeguard.cli.main", "webhooks", "worker", "--poll", "0.05"]
        first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            if not receiver.received_first.wait(120):
                first.kill()
                raise AssertionError(f"the worker never sent anything: {first.communicate()[1]!r}")
            first.send_signal(signal.SIGKILL)  # dies while the receiver holds its request
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        held = receiver.attempts[0]["key"]
        assert [d.status for d in deliveries(db)] == ["pending"] * 3
        hold.set()
        second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: len(receiver.applied) == 3, timeout=60)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0
    assert receiver.bad_signatures == 0
    # The interrupted delivery was sent again with the same idempotency key; every event took effect once.
    assert [a["key"] for a in receiver.attempts].count(held) == 2
    assert len(set(receiver.applied_ids())) == 3
    assert {d.status for d in deliveries(db)} == {"delivered"}


def test_deactivated_endpoint_gets_nothing_new(db: Database) -> None:
    with running(Receiver()) as receiver:
        endpoint_id = register(db, receiver, ["decision.made"])
        with db.session() as session:
            endpoints.deactivate(session, MOD_A_ADMIN, endpoint_id)
        open_and_decide(db, "upload-1", "entry-1")
        worker = DeliveryWorker(db, WEBHOOKS)
        worker.drain(timeout=2)
        worker.stop()
    assert deliveries(db) == [] and receiver.attempts == []


def test_dead_letters_of_a_deactivated_endpoint_are_not_replayed(db: Database) -> None:
    settings = WEBHOOKS.model_copy(update={"retry_window_seconds": 0.3})
    with running(Receiver(always_fail=True)) as receiver:
        endpoint_id = register(db, receiver, ["decision.made"])
        open_and_decide(db, "upload-1", "entry-1")
        worker = DeliveryWorker(db, settings, poll_seconds=0.01).start()
        try:
            wait_for(lambda: [d.status for d in deliveries(db)] == ["dead"])
        finally:
            worker.stop()
        dead_id = deliveries(db)[0].id
        with db.session() as session:
            endpoints.deactivate(session, MOD_A_ADMIN, endpoint_id)
        with pytest.raises(EndpointInactive, match="reactivate"), db.session() as session:
            outbox.replay(session, MOD_A_ADMIN, dead_id)
        with pytest.raises(EndpointInactive), db.session() as session:
            outbox.replay_dead(session, MOD_A_ADMIN, endpoint_id=endpoint_id)
        with db.session() as session:
            assert outbox.replay_dead(session, MOD_A_ADMIN) == 0
        assert [d.status for d in deliveries(db)] == ["dead"]
        with db.session() as session:
            endpoints.reactivate(session, MOD_A_ADMIN, endpoint_id)
            assert outbox.replay(session, MOD_A_ADMIN, dead_id).status == "pending"


MOD_A_ADMIN = INTEGRATOR  # the integrator owns the endpoint and may replay and deactivate it
