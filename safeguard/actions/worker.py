"""The delivery worker: dispatch events, claim due deliveries, send them signed, record the outcome.

Run it as a thread (tests, small installs: ``DeliveryWorker(db).start()``) or as a process
(``safeguard webhooks worker``); any number may run at once against one database.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from safeguard.actions import outbox, ssrf
from safeguard.actions.config import WebhookSettings, get_webhook_settings
from safeguard.actions.errors import UnsafeWebhookUrl
from safeguard.actions.verify import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature_header
from safeguard.store.db import Database

log = logging.getLogger(__name__)
USER_AGENT = "Safeguard-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None
    permanent: bool = False


def send(claimed: outbox.Claimed, settings: WebhookSettings, client: httpx.Client) -> Outcome:
    """One signed POST to the endpoint, connecting to the address the SSRF guard checked."""
    if not claimed.endpoint_active:
        return Outcome(False, error="the endpoint is deactivated", permanent=True)
    try:
        target = ssrf.resolve(
            claimed.url, allow_http=settings.allow_http, allow_networks=settings.allow_networks
        )
    except UnsafeWebhookUrl as exc:
        return Outcome(False, error=exc.detail, permanent=True)
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
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        response = client.post(pinned, content=body, headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code)
    return Outcome(False, response.status_code, f"HTTP {response.status_code}")


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        settings: WebhookSettings | None = None,
        *,
        client: httpx.Client | None = None,
        poll_seconds: float = 0.5,
    ) -> None:
        self.db = db
        self.settings = settings or get_webhook_settings()
        self.poll_seconds = poll_seconds
        self._client = client or httpx.Client(
            timeout=self.settings.timeout_seconds,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=self.settings.concurrency * 2),
        )
        self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="webhook-send")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def dispatch(self) -> int:
        total = 0
        while True:
            with self.db.session() as session:
                n = outbox.dispatch(session)
            total += n
            if n < outbox.DISPATCH_BATCH:
                return total

    def run_once(self) -> int:
        """Dispatch new events and send one batch of due deliveries; returns how many were attempted."""
        self.dispatch()
        with self.db.session() as session:
            batch = outbox.claim_due(
                session, limit=self.settings.batch_size, lease_seconds=self.settings.lease_seconds
            )
        if not batch:
            return 0
        outcomes = list(self._pool.map(lambda c: send(c, self.settings, self._client), batch))
        # One transaction records the whole batch: a commit per delivery would cap throughput at the
        # database's commit rate (measured in bench/review.py).
        with self.db.session() as session:
            for claimed, outcome in zip(batch, outcomes, strict=True):
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
        return len(batch)

    def run(self) -> None:
        """Loop until :meth:`stop`; a database or network error is logged and retried after a pause."""
        while not self._stop.is_set():
            try:
                sent = self.run_once()
            except Exception:
                log.exception("webhook worker iteration failed; retrying")
                sent = 0
            if sent == 0:
                self._stop.wait(self.poll_seconds)

    def start(self) -> DeliveryWorker:
        self._thread = threading.Thread(target=self.run, name="webhook-worker", daemon=True)
        self._thread.start()
        return self

    def stop_soon(self) -> None:
        """Ask the loop to finish the batch in flight and return (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)
        self._client.close()

    def drain(self, timeout: float = 30) -> None:
        """Run until nothing is due (tests, the CLI's ``--once``), or until ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.run_once():
            pass
