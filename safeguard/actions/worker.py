"""The delivery worker: dispatch events, claim due deliveries, send them signed, record the outcome.

Run it as a thread (tests, small installs: ``DeliveryWorker(db).start()``; ``safeguard serve`` starts one)
or as a process (``safeguard webhooks worker``); any number may run at once against one database.

No receiver can stall the others: every attempt has one total deadline (``timeout_seconds``: connecting,
sending, the status line and headers, and the little of the body that is read - not a limit per read that
a receiver dripping a byte a second never reaches), at most ``endpoint_concurrency`` deliveries per endpoint
are in flight (claimed across all workers, so a slow endpoint holds only its own slots), and each result
is recorded as soon as its attempt ends, not when the slowest attempt of a batch ends. Response bodies are
streamed and at most ``RESPONSE_READ_LIMIT`` bytes of them are read before the connection is closed.

Sends run as asyncio tasks in the worker's own event loop (cancellation enforces the deadline at any
point of the exchange); the database work runs in a thread beside it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from safeguard.actions import outbox, ssrf
from safeguard.actions.config import WebhookSettings, get_webhook_settings
from safeguard.actions.errors import UnsafeWebhookUrl
from safeguard.actions.verify import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature_header
from safeguard.store.db import Database

A = TypeVar("A")
R = TypeVar("R")
log = logging.getLogger(__name__)
USER_AGENT = "Safeguard-Webhooks/1"
# Only the status code matters; this much of a body is read (and dropped) before the connection closes.
RESPONSE_READ_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None
    permanent: bool = False
    body_bytes: int = 0  # bytes of the response body taken from the connection


def effective_lease_seconds(settings: WebhookSettings) -> float:
    """The lease outlasts the deadline (twice over), so a live attempt is never sent again beside itself."""
    return max(settings.lease_seconds, 2 * settings.timeout_seconds)


def _request(claimed: outbox.Claimed, target: ssrf.Target) -> tuple[str, dict[str, str], bytes]:
    parts = urlsplit(claimed.url)
    ip = str(target.address)
    netloc = f"[{ip}]" if isinstance(target.address, ipaddress.IPv6Address) else ip
    pinned = urlunsplit((parts.scheme, f"{netloc}:{target.port}", parts.path or "/", parts.query, ""))
    body = claimed.body.encode("utf-8")
    headers = {
        "Host": parts.netloc.rsplit("@", 1)[-1],
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(claimed.secret, body),
        IDEMPOTENCY_HEADER: claimed.event_id,
        "Idempotency-Key": claimed.event_id,
        "Safeguard-Event": claimed.event_type,
        "Safeguard-Delivery-Attempt": str(claimed.attempt),
    }
    return pinned, headers, body


async def _read_some(response: httpx.Response, limit: int) -> int:
    """Read at most about ``limit`` bytes of the body (one network chunk past it at worst)."""
    taken = 0
    async for chunk in response.aiter_raw():
        taken += len(chunk)
        if taken >= limit:
            break
    return taken


async def _post(claimed: outbox.Claimed, settings: WebhookSettings, client: httpx.AsyncClient) -> Outcome:
    try:
        target = await asyncio.to_thread(
            ssrf.resolve, claimed.url, allow_http=settings.allow_http, allow_networks=settings.allow_networks
        )
    except UnsafeWebhookUrl as exc:
        return Outcome(False, error=exc.detail, permanent=True)
    pinned, headers, body = _request(claimed, target)
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = client.build_request("POST", pinned, content=body, headers=headers, extensions=extensions)
    response = await client.send(request, stream=True)
    try:
        taken = await _read_some(response, RESPONSE_READ_LIMIT)
    finally:
        await response.aclose()
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(True, code, body_bytes=taken)
    return Outcome(False, code, f"HTTP {code}", body_bytes=taken)


async def send(claimed: outbox.Claimed, settings: WebhookSettings, client: httpx.AsyncClient) -> Outcome:
    """One signed POST to the endpoint, connecting to the address the SSRF guard checked, within one total
    deadline. Never raises for anything the receiver or the network does."""
    if not claimed.endpoint_active:
        return Outcome(False, error="the endpoint is deactivated", permanent=True)
    try:
        async with asyncio.timeout(settings.timeout_seconds):
            return await _post(claimed, settings, client)
    except TimeoutError:
        return Outcome(False, error=f"no complete answer within the {settings.timeout_seconds:g} s deadline")
    except httpx.HTTPError as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}")


def new_client(settings: WebhookSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=settings.timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=settings.concurrency * 2),
    )


class DeliveryWorker:
    def __init__(
        self, db: Database, settings: WebhookSettings | None = None, *, poll_seconds: float = 0.5
    ) -> None:
        self.db = db
        self.settings = settings or get_webhook_settings()
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._raise_errors = True  # drain/run_once raise; the long-running loop logs and retries

    def dispatch(self) -> int:
        total = 0
        while True:
            with self.db.session() as session:
                n = outbox.dispatch(session)
            total += n
            if n < outbox.DISPATCH_BATCH:
                return total

    def _claim(self, free: int) -> list[outbox.Claimed]:
        self.dispatch()
        with self.db.session() as session:
            return outbox.claim_due(
                session,
                limit=min(free, self.settings.batch_size),
                lease_seconds=effective_lease_seconds(self.settings),
                per_endpoint=self.settings.endpoint_concurrency,
            )

    def _record(self, results: list[tuple[outbox.Claimed, Outcome]]) -> None:
        # Results that finished together share one transaction (a commit per delivery would cap throughput
        # at the database's commit rate, bench/review.py); none waits for an attempt still in flight.
        with self.db.session() as session:
            for claimed, outcome in results:
                status = outbox.record_result(
                    session,
                    claimed,
                    ok=outcome.ok,
                    status=outcome.status,
                    error=outcome.error,
                    settings=self.settings,
                    permanent=outcome.permanent,
                )
                if not outcome.ok:
                    log.info(
                        "webhook delivery %s attempt %s failed (%s): %s",
                        claimed.delivery_id,
                        claimed.attempt,
                        status,
                        outcome.error,
                    )

    async def _loop(self, *, until_idle: bool, deadline: float | None = None) -> int:
        """Claim while slots are free, send each claim as its own task, record each result as it comes.
        Returns how many attempts were made. ``until_idle``: return once nothing is due or in flight."""
        attempted = 0
        tasks: dict[asyncio.Task[Outcome], outbox.Claimed] = {}
        async with new_client(self.settings) as client:
            while True:
                done = [t for t in tasks if t.done()]
                if done:
                    await self._guarded(self._record, [(tasks.pop(t), t.result()) for t in done])
                stopping = self._stop.is_set() or (deadline is not None and time.monotonic() > deadline)
                claimed: list[outbox.Claimed] = []
                free = self.settings.concurrency - len(tasks)
                if not stopping and free > 0:
                    claimed = await self._guarded(self._claim, free) or []
                for c in claimed:
                    tasks[asyncio.create_task(send(c, self.settings, client))] = c
                attempted += len(claimed)
                if claimed:
                    continue
                if not tasks and (stopping or until_idle):
                    return attempted
                if tasks:
                    await asyncio.wait(tasks, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
                else:
                    await asyncio.sleep(self.poll_seconds)

    async def _guarded(self, fn: Callable[[A], R], arg: A) -> R | None:
        """Database work in a thread; in the long-running loop an error is logged and retried later."""
        try:
            return await asyncio.to_thread(fn, arg)
        except Exception:
            if self._raise_errors:
                raise
            log.exception("webhook worker database step failed; retrying")
            await asyncio.sleep(self.poll_seconds)
            return None

    def run_once(self) -> int:
        """Dispatch, send what is due now (the next deliveries of a case included), record; returns how
        many attempts were made."""
        return asyncio.run(self._loop(until_idle=True))

    def run(self) -> None:
        """Loop until :meth:`stop`; a database error is logged and retried after a pause."""
        self._raise_errors = False
        asyncio.run(self._loop(until_idle=False))

    def start(self) -> DeliveryWorker:
        self._thread = threading.Thread(target=self.run, name="webhook-worker", daemon=True)
        self._thread.start()
        return self

    def stop_soon(self) -> None:
        """Ask the loop to finish the attempts in flight and return (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(max(timeout, self.settings.timeout_seconds + 1))

    def drain(self, timeout: float = 30) -> None:
        """Run until nothing is due or in flight (tests, the CLI's ``--once``), or until ``timeout``."""
        asyncio.run(self._loop(until_idle=True, deadline=time.monotonic() + timeout))
