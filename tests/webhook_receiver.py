"""A real HTTP receiver for webhook tests: a small Starlette app served by uvicorn on loopback,
in a thread of the test process. It verifies every request with the ``standardwebhooks``
package's own verifier and records what arrived; tests script its answers per path.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str
    at: float  # time.time()

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    body: str = "ok"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """``script(path, *answers)`` queues answers for a path (then 200); ``received``."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.scripts: dict[str, deque[Answer]] = {}
        self.rules: list[tuple[Callable[[Received], bool], deque[Answer]]] = []
        self.secrets: dict[str, list[str]] = {}  # path → secrets that must verify
        self.unverified: list[tuple[Received, str]] = []
        self.lock = threading.Lock()
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *answers: Answer | int) -> None:
        self.scripts.setdefault(path, deque()).extend(
            a if isinstance(a, Answer) else Answer(a) for a in answers)

    def script_when(self, match: Callable[[Received], bool], *answers: Answer | int) -> None:
        """Answer requests that ``match`` with these answers first (then as usual)."""
        self.rules.append((match, deque(a if isinstance(a, Answer) else Answer(a)
                                        for a in answers)))

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    async def _handle(self, request: Request) -> Response:
        body = (await request.body()).decode()
        got = Received(request.url.path, dict(request.headers), body, time.time())
        for secret in self.secrets.get(got.path, []):
            try:
                Webhook(secret).verify(body, got.headers)
            except WebhookVerificationError as e:
                self.unverified.append((got, str(e)))
        with self.lock:
            queue = next((q for match, q in self.rules if q and match(got)), None)
            queue = queue or self.scripts.get(got.path)
            answer = queue.popleft() if queue else Answer()
            self.received.append(got)
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        return Response(answer.body, answer.status, headers=answer.headers)

    def start(self) -> Receiver:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            assert self.thread is not None
            self.thread.join(10)
            self.server = None
