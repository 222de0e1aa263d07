"""The server's gate: pure ASGI in front of the app, answering before any work is done.

For the scoring routes it checks, in order: the token (401; a bearer token, or the password of
HTTP basic auth, which OpenRLHF's client sends for ``http://user:TOKEN@host/...`` URLs), the
declared body size (413), then reads the body: counted apart from the admitted requests (at
most ``max_reading`` at once, else 503), within ``body_timeout_s`` (else 408) and up to
``max_body_bytes`` (else 413, as soon as it passes). Only a request whose body has arrived is
admitted (503 with ``Retry-After`` once ``max_in_flight`` requests are admitted), so clients
that send their bodies slowly never hold the slots of the requests being scored. Every request
is timed into the metrics.

Example:
    >>> from rlsp_rewards.integrations.openrlhf.metrics import ServerMetrics
    >>> async def app(scope, receive, send): ...
    >>> Gate(app, metrics=ServerMetrics(), token="", max_body_bytes=1024, max_in_flight=2,
    ...      retry_after_s=1).max_reading
    1024
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rlsp_rewards.integrations.openrlhf.metrics import ServerMetrics

__all__ = ["ROUTES", "SCORING_ROUTES", "Gate", "authorized"]

#: Routes that score, and so pass the token, size and concurrency checks.
SCORING_ROUTES = frozenset({"/get_reward", "/v1/score"})
ROUTES = SCORING_ROUTES | {"/health", "/metrics", "/docs", "/openapi.json"}

ASGIApp = Callable[
    [dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]
]
#: Answers a request whose body the gate has read: ``(scope, body, send)``.
Responder = Callable[[dict, bytes, Callable[[dict], Awaitable[None]]], Awaitable[None]]


class Gate:
    """Pure ASGI: metrics, auth (401), the body read apart (413, 408), admission (503).

    ``max_reading`` defaults to ``max(1024, max_in_flight)``: a body being read costs only its
    bytes, so many slow senders fit before anyone is turned away.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ServerMetrics,
        token: str,
        max_body_bytes: int,
        max_in_flight: int,
        retry_after_s: int,
        body_timeout_s: float = 30.0,
        max_reading: int | None = None,
        direct: Mapping[str, Responder] | None = None,
    ) -> None:
        self.inner = app
        self.direct = dict(direct or {})
        self.metrics = metrics
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.max_in_flight = max_in_flight
        self.retry_after_s = retry_after_s
        self.body_timeout_s = body_timeout_s
        self.max_reading = max_reading if max_reading is not None else max(1024, max_in_flight)
        self.in_flight = 0  # touched only on the event loop thread
        self.reading = 0  # bodies being read, not yet admitted

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        path = scope.get("path", "")
        route = path if path in ROUTES else "other"
        started = time.perf_counter()
        status = {"code": 500}

        async def send_recording(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            if path in SCORING_ROUTES:
                await self._scoring(scope, receive, send_recording)
            else:
                await self.inner(scope, receive, send_recording)
        finally:
            self.metrics.observe_request(route, status["code"], time.perf_counter() - started)

    async def _scoring(self, scope: dict, receive: Any, send: Any) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token and not authorized(headers.get("authorization", ""), self.token):
            await _reply(
                send,
                401,
                "missing or wrong token: send 'Authorization: Bearer <token>'",
                {"www-authenticate": 'Bearer realm="rlsp-rewards"'},
            )
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _reply(send, 413, f"request body over the {self.max_body_bytes}-byte limit")
            return
        if self.reading >= self.max_reading:
            await self._busy(send, f"{self.reading} request bodies being read")
            return
        self.reading += 1
        self.metrics.reading.inc()
        try:
            body = await asyncio.wait_for(self._read_body(receive), self.body_timeout_s)
        except asyncio.TimeoutError:
            await _reply(
                send,
                408,
                f"the request body did not arrive within {self.body_timeout_s:g} s",
                {"connection": "close"},
            )
            return
        finally:
            self.reading -= 1
            self.metrics.reading.dec()
        if body is None:
            await _reply(send, 413, f"request body over the {self.max_body_bytes}-byte limit")
            return
        if self.in_flight >= self.max_in_flight:
            await self._busy(send, f"{self.in_flight} requests in flight")
            return
        self.in_flight += 1
        self.metrics.in_flight.inc()
        direct = self.direct.get(scope["path"]) if scope.get("method") == "POST" else None
        try:
            if direct is not None:
                await direct(scope, body, send)
            else:
                await self.inner(scope, _replay(body, receive), send)
        finally:
            self.in_flight -= 1
            self.metrics.in_flight.dec()

    async def _busy(self, send: Any, why: str) -> None:
        await _reply(
            send, 503, f"server busy: {why}, retry later", {"retry-after": str(self.retry_after_s)}
        )

    async def _read_body(self, receive: Any) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def authorized(header: str, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (bearer, or basic-auth password).

    Example:
        >>> authorized("Bearer s3cret", "s3cret"), authorized("Bearer nope", "s3cret")
        (True, False)
    """
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        offered = credentials.strip()
    elif scheme == "basic":  # aiohttp sends http://user:TOKEN@host URLs this way
        try:
            offered = (
                base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[2]
            )
        except (binascii.Error, UnicodeDecodeError):
            return False
    else:
        return False
    return secrets.compare_digest(offered.encode(), token.encode())


def _replay(body: bytes, receive: Any) -> Callable[[], Awaitable[dict]]:
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for a disconnect as usual

    return replay


async def _reply(
    send: Any, code: int, detail: str, headers: Mapping[str, str] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": code, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
