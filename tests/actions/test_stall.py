"""Hostile receivers on real loopback sockets: one that drips its answer a byte at a time must not stall
other endpoints' deliveries, one that answers with an endless body must not be read whole, and two workers
must never send one delivery at the same time."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from safeguard.actions import endpoints, outbox
from safeguard.actions.worker import RESPONSE_READ_LIMIT, DeliveryWorker, Outcome, new_client, send
from safeguard.store.db import Database
from tests.actions.receiver import Receiver, running
from tests.actions.test_delivery import deliveries, open_and_decide, register, wait_for
from tests.review.helpers import INTEGRATOR, WEBHOOKS


@dataclass
class Hostile:
    """``drip``: answer one byte of a status line every ``drip_seconds``, forever. Otherwise: a 200 with a
    chunked body of ``body_bytes`` (counted in ``sent`` as far as the client lets it get)."""

    drip: bool = True
    drip_seconds: float = 0.2
    body_bytes: int = 0
    url: str = ""
    requests: int = 0
    arrivals: list[float] = field(default_factory=list)
    sent: int = 0
    concurrent: int = 0
    max_concurrent: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        while len(rest) < length:
            rest += conn.recv(65536)
        with self.lock:
            self.requests += 1
            self.arrivals.append(time.monotonic())
        if self.drip:
            for byte in b"HTTP/1.1 200 OK\r\n" * 1000:
                if self.stop.wait(self.drip_seconds):
                    return
                conn.sendall(bytes([byte]))
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % 65536 + b"x" * 65536 + b"\r\n"
        while self.sent < self.body_bytes:
            conn.sendall(chunk)
            self.sent += 65536
        conn.sendall(b"0\r\n\r\n")


@contextmanager
def hostile(server: Hostile) -> Iterator[Hostile]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with server.lock:
                server.concurrent += 1
                server.max_concurrent = max(server.max_concurrent, server.concurrent)
            try:
                server.serve(self.request)
            except OSError:
                pass  # the client hung up: what a bounded reader does
            finally:
                with server.lock:
                    server.concurrent -= 1

    tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    tcp.daemon_threads = True
    server.url = f"http://127.0.0.1:{tcp.server_address[1]}/hooks"
    thread = threading.Thread(target=tcp.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        tcp.shutdown()
        tcp.server_close()


def register_url(db: Database, url: str) -> int:
    with db.session() as session:
        created = endpoints.create_endpoint(
            session, INTEGRATOR, url=url, events=["case.opened", "decision.made"], settings=WEBHOOKS
        )
    return created.endpoint.id


def test_a_dripping_receiver_does_not_stall_other_endpoints(db: Database) -> None:
    settings = WEBHOOKS.model_copy(update={"timeout_seconds": 1.5, "endpoint_concurrency": 1})
    with hostile(Hostile(drip=True)) as drip, running(Receiver()) as healthy:
        drip_id = register_url(db, drip.url)
        healthy_id = register(db, healthy)
        for i in range(3):
            open_and_decide(db, f"upload-{i}", f"entry-{i}")
        worker = DeliveryWorker(db, settings, poll_seconds=0.01).start()
        try:
            # Every healthy delivery is sent and recorded while the dripping endpoint's first attempts hang.
            wait_for(lambda: len(healthy.applied) == 6, timeout=10)
            wait_for(
                lambda: {d.status for d in deliveries(db) if d.endpoint_id == healthy_id} == {"delivered"},
                timeout=5,
            )
            # The drip is cut at the deadline and recorded as a failed attempt to retry.
            wait_for(
                lambda: any(
                    "deadline" in (d.last_error or "") for d in deliveries(db) if d.endpoint_id == drip_id
                ),
                timeout=10,
            )
        finally:
            worker.stop()
    # One endpoint holds at most endpoint_concurrency (1) slots: each attempt began after the last was cut
    # (1.5 s after it started). Arrivals lag their attempt's start by the connect time, which on a loaded
    # machine has been 0.25 s, so the gap is at least the deadline less that; a second slot would make it
    # about zero.
    gaps = [b - a for a, b in zip(drip.arrivals, drip.arrivals[1:], strict=False)]
    assert drip.arrivals and all(gap >= 1.0 for gap in gaps), gaps
    assert {d.status for d in deliveries(db) if d.endpoint_id == drip_id} == {"pending"}


def test_a_huge_response_body_is_not_read(db: Database) -> None:
    import asyncio

    with hostile(Hostile(drip=False, body_bytes=256 * 1024 * 1024)) as server:
        endpoint_id = register_url(db, server.url)
        open_and_decide(db, "upload-1", "entry-1")
        worker = DeliveryWorker(db, WEBHOOKS)
        worker.dispatch()
        with db.session() as session:
            (claimed,) = outbox.claim_due(session, limit=10, lease_seconds=10)

        async def attempt() -> Outcome:
            async with new_client(WEBHOOKS) as client:
                return await send(claimed, WEBHOOKS, client)

        outcome = asyncio.run(attempt())
        assert outcome.ok and outcome.status == 200
        assert outcome.body_bytes <= RESPONSE_READ_LIMIT + 65536  # one network read past the limit at most
        with db.session() as session:
            outbox.record_result(session, claimed, ok=True, status=200, error=None, settings=WEBHOOKS)
        worker.drain(timeout=10)
        worker.stop()
        wait_for(lambda: server.concurrent == 0, timeout=10)
    # The server got no further than what the kernel's socket buffers hold, not 256 MB.
    assert server.sent < 64 * 1024 * 1024
    assert [d.status for d in deliveries(db) if d.endpoint_id == endpoint_id] == ["delivered"] * 2


def test_two_workers_never_send_one_delivery_twice(db: Database) -> None:
    # A lease shorter than a slow answer: before, the second worker took the delivery over mid-send.
    settings = WEBHOOKS.model_copy(update={"lease_seconds": 0.3, "timeout_seconds": 2})
    with running(Receiver(delay=0.6)) as receiver:
        register(db, receiver)
        for i in range(4):
            open_and_decide(db, f"upload-{i}", f"entry-{i}")
        workers = [DeliveryWorker(db, settings, poll_seconds=0.01).start() for _ in range(2)]
        try:
            wait_for(lambda: len(receiver.applied) == 8, timeout=30)
            time.sleep(0.7)  # room for a duplicate in flight to arrive
        finally:
            for w in workers:
                w.stop()
    keys = [a["key"] for a in receiver.attempts]
    assert len(keys) == 8 and len(set(keys)) == 8
    assert {d.status for d in deliveries(db)} == {"delivered"}
    assert {d.attempts for d in deliveries(db)} == {1}
