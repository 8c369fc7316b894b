"""The sender: POSTs due deliveries, signed, with an httpx async client and a bounded pool.

- Success is any 2xx within ``timeout_s`` (the whole exchange). Redirects are not followed
  (a 3xx is a failure). The signature's ``webhook-timestamp`` is the real time of the POST.
- A failure is retried on the policy's schedule (with jitter); ``Retry-After`` on a 429 or
  503 sets the next attempt instead. After the last attempt the delivery is **dead**.
- 410 Gone disables the subscription, as does failing continuously for
  ``disable_after_s``: recorded as a ``Disabled`` event on the subscription (source
  ``system``), which reaches other subscribers as ``webhook.subscription_disabled``.
- Every connection goes to an address that passed the SSRF guard, resolved once for the
  check and the connection (:mod:`shipflow.webhooks.pinning`): no DNS rebinding in between.
- Secrets are stored encrypted; the policy's :class:`SecretBox` opens them per attempt.

Time is injected (``clock``): it says when a delivery is due and when a retry comes; tests
drive it and call :meth:`Sender.drain`, which sends everything due at that moment. In a
worker, :meth:`Sender.run` loops until stopped, woken by the dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx
from eventsourcing.persistence import IntegrityError
from sqlalchemy import Engine

from shipflow import metrics
from shipflow.events.common import EventMeta, Source
from shipflow.store import Shipflow
from shipflow.webhooks import outbox, pinning, signing, ssrf
from shipflow.webhooks.outbox import Job, Result
from shipflow.webhooks.policy import Policy
from shipflow.webhooks.secretbox import SecretKeyInvalid, SecretKeyMissing, SecretUnreadable

log = logging.getLogger("shipflow.webhooks")

ACTOR = "webhook-sender"
#: How often a running sender repairs queues left with no open delivery (outbox).
REPAIR_EVERY_S = 2.0


def _now() -> datetime:
    return datetime.now(UTC)


class Clients:
    """One httpx client per subscription, closed together."""

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        self.make = make
        self.clients: dict[str, httpx.AsyncClient] = {}

    def get(self, subscription_id: str) -> httpx.AsyncClient:
        client = self.clients.get(subscription_id)
        if client is None:
            client = self.clients[subscription_id] = self.make()
        return client

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()


class Sender:
    def __init__(self, store: Shipflow, engine: Engine, policy: Policy | None = None,
                 clock: Callable[[], datetime] = _now, *,
                 verify: ssl.SSLContext | bool = True,
                 connector: httpcore.AsyncNetworkBackend | None = None) -> None:
        """``verify``: the TLS trust (default: certifi's CAs); ``connector``: what opens the
        TCP connections to checked addresses (default: anyio; tests pass a recording one)."""
        self.verify = verify
        self.connector = connector
        self.store = store
        self.engine = engine
        self.policy = policy or Policy()
        self.clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    # --- one delivery ----------------------------------------------------------------------

    def client(self) -> httpx.AsyncClient:
        """A subscription's own client: a small pool, never more requests than connections
        (claims are capped per subscription), so nothing queues inside httpx; every
        connection pinned to a checked address."""
        return pinning.client(self.policy.allowed_networks,
                              connections=self.policy.per_subscription,
                              timeout_s=self.policy.timeout_s, verify=self.verify,
                              inner=self.connector)

    async def send(self, clients: Clients, job: Job) -> Result:
        """One attempt; whatever goes wrong is a failed attempt, never a lost claim."""
        try:
            return await self._send(clients.get(job.subscription_id), job)
        except Exception as e:  # a bug or an odd answer: recorded, retried on schedule
            log.exception("webhook delivery %s failed unexpectedly", job.id)
            return Result(job, self.clock(), 0, None, "failure",
                          error=f"{type(e).__name__}: {e}"[:500])

    async def _send(self, client: httpx.AsyncClient, job: Job) -> Result:
        started = self.clock()
        t0 = time.perf_counter()

        def result(outcome: str, code: int | None = None, **kw: Any) -> Result:
            ms = int((time.perf_counter() - t0) * 1000)
            return Result(job, started, ms, code, outcome, **kw)

        try:
            ssrf.host_port(job.url)  # the addresses are checked as the connection is opened
        except ssrf.UrlRefused as e:
            return result("refused", error=f"{e.rule}: {e.detail}")
        if not job.secrets:
            return result("failure", error="the subscription has no signing secret")
        try:
            secrets = [self.policy.secret_box.open(s) for s in job.secrets]
        except (SecretUnreadable, SecretKeyMissing, SecretKeyInvalid) as e:
            return result("failure", error=str(e))
        headers = signing.headers(secrets, job.message_id, int(time.time()), job.body)
        try:
            async with asyncio.timeout(self.policy.timeout_s):
                async with client.stream("POST", job.url, content=job.body.encode(),
                                         headers=headers) as response:
                    excerpt = await self._excerpt(response)
        except ssrf.UrlRefused as e:  # from the pinned connection: no request was sent
            return result("refused", error=f"{e.rule}: {e.detail}")
        except TimeoutError:
            return result("timeout", error=f"no answer within {self.policy.timeout_s}s")
        except httpx.HTTPError as e:
            return result("failure", error=f"{type(e).__name__}: {e}"[:500])
        code = response.status_code
        if 200 <= code < 300:
            return result("success", code, excerpt=excerpt)
        retry_after = None
        if code in (429, 503):
            retry_after = self.policy.retry_after(response.headers.get("retry-after"),
                                                  self.clock())
        outcome = "gone" if code == 410 else "failure"
        return result(outcome, code, error=f"HTTP {code}", excerpt=excerpt,
                      retry_after_s=retry_after)

    async def _excerpt(self, response: httpx.Response) -> str:
        limit = self.policy.excerpt_bytes
        data = b""
        async for chunk in response.aiter_raw():
            data += chunk
            if len(data) >= limit:
                break
        return data[:limit].decode("utf-8", "replace")

    # --- the database side -----------------------------------------------------------------

    def claim(self, limit: int, busy: dict[str, int] | None = None) -> list[Job]:
        with self.engine.begin() as conn:
            outbox.relaxed(conn)
            return outbox.claim(conn, limit, self.clock(), self.policy, busy)

    def record(self, results: list[Result]) -> None:
        with self.engine.begin() as conn:
            outbox.relaxed(conn)
            disable = outbox.record(conn, results, self.clock(), self.policy)
        for r in results:
            metrics.WEBHOOK_ATTEMPTS.labels(r.outcome).inc()
        for sid, reason, detail in disable:
            self.disable(sid, reason, detail)

    def disable(self, subscription_id: str, reason: str, detail: str) -> None:
        """Record the ``Disabled`` event (once: a disabled subscription records nothing)."""
        meta = EventMeta(actor=ACTOR, role="system", source=Source.SYSTEM,
                         occurred_at=self.clock(), correlation_id=f"webhook:{subscription_id}")
        for _ in range(3):
            sub: Any = self.store.repository.get(uuid.UUID(subscription_id))
            if sub.deleted or not sub.set_enabled(False, meta, reason, detail):
                return
            try:
                self.store.save(sub)
                log.warning("webhook subscription %s disabled: %s", subscription_id, detail)
                return
            except IntegrityError:
                continue

    def repair(self) -> None:
        with self.engine.begin() as conn:
            outbox.promote_stuck(conn)

    def release(self, jobs: list[Job]) -> None:
        with self.engine.begin() as conn:
            outbox.release(conn, jobs)

    # --- loops -----------------------------------------------------------------------------

    def drain(self, max_rounds: int = 1000) -> int:
        """Send everything due at the clock's now, round after round, until nothing is due
        (a retry scheduled for later waits for the clock); returns attempts made."""
        return asyncio.run(self._drain(max_rounds))

    async def _drain(self, max_rounds: int) -> int:
        total = 0
        async with Clients(self.client) as client:
            for _ in range(max_rounds):
                self.repair()
                jobs = self.claim(self.policy.max_concurrency)
                if not jobs:
                    break
                results = await asyncio.gather(*(self.send(client, j) for j in jobs))
                self.record(list(results))
                total += len(results)
        return total

    def notify(self) -> None:
        """Wake the running sender (thread-safe): the dispatcher made deliveries."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(wake.set)

    def run(self, stop: threading.Event) -> None:
        """Send until ``stop`` (a worker thread)."""
        while not stop.is_set():
            try:
                asyncio.run(self._run(stop))
            except Exception:
                log.exception("webhook sender failed; restarting in 5s")
                stop.wait(5.0)

    async def _run(self, stop: threading.Event) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        inflight: dict[asyncio.Task[Result], Job] = {}
        try:
            async with Clients(self.client) as client:
                repaired = 0.0
                while not stop.is_set():
                    if time.monotonic() - repaired > REPAIR_EVERY_S:
                        await asyncio.to_thread(self.repair)
                        repaired = time.monotonic()
                    free = self.policy.max_concurrency - len(inflight)
                    if free > 0:
                        busy: dict[str, int] = {}
                        for j in inflight.values():
                            busy[j.subscription_id] = busy.get(j.subscription_id, 0) + 1
                        for job in await asyncio.to_thread(self.claim, free, busy):
                            inflight[asyncio.create_task(self.send(client, job))] = job
                    waiter = asyncio.ensure_future(self._wake.wait())
                    await asyncio.wait({*inflight, waiter}, timeout=self.policy.poll_s,
                                       return_when=asyncio.FIRST_COMPLETED)
                    if waiter.done():
                        self._wake.clear()
                    else:
                        waiter.cancel()
                    if inflight:
                        await asyncio.sleep(0.01)  # let near-simultaneous answers batch up
                    done = [t for t in inflight if t.done()]
                    results = [t.result() for t in done]
                    for t in done:
                        del inflight[t]
                    if results:
                        await asyncio.to_thread(self.record, results)
        finally:
            self._loop = self._wake = None
            if inflight:
                for t in inflight:
                    t.cancel()
                await asyncio.to_thread(self.release, list(inflight.values()))
