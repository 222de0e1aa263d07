"""A chat-completions client for OpenAI-compatible servers that cannot stall its caller.

The transport is aiohttp (both frameworks already ship it): one ``ClientSession`` per endpoint
(scheme, host, port) and event loop, on a ``TCPConnector(limit=max_in_flight)`` that keeps its
connections alive between calls, with the environment's proxy (``HTTPS_PROXY``, ``HTTP_PROXY``,
``NO_PROXY``: the rule of aiohttp's ``trust_env``, read once per session, see
:func:`~rlsp_rewards.judge.loops.environment_proxy`; an ``https://`` judge is reached through a
``CONNECT`` tunnel) and TLS verified against the system's certificates (or ``SSL_CERT_FILE``).
Redirects are not followed, cookies are not kept, replies over 4 MiB are refused (decompressed
size; we ask for no compression).

Async callers run their requests on their own event loop (no thread hop); sync callers, from
any thread, including one whose own event loop is running, hand their request to the process's
private judge loop and block on the result (see :mod:`rlsp_rewards.judge.loops`, which also
keeps the sessions and the in-flight bound).

Bounds, per call:

* at most ``max_in_flight`` requests to one URL are on the wire at once in the whole process,
  whichever threads and event loops make them; waiting for a slot counts toward the budget;
* each attempt has ``timeout_s`` once it has a slot; the whole call (waiting, attempts,
  back-off) has ``budget_s``;
* timeouts, connection errors (refused, reset, a body cut short), HTTP 429 and 5xx are retried
  up to ``retries`` times, after exponential back-off with jitter (0.25 s doubling, capped at
  8 s, each wait drawn in its upper half) or after the server's ``Retry-After`` on a 429 (a
  number of seconds or an HTTP date; a value that is not finite or negative is no hint); a
  retry that cannot start within the budget is not made. A server that closes the connection
  without a word (a keep-alive connection it dropped just as we reused it) gets one immediate
  retry that is not counted. Other 4xx and 3xx are not retried.

Every failure is a :class:`JudgeCallError` whose message says what went wrong; the judge reward
turns it into its fallback grade.

Example:
    >>> chat_url("127.0.0.1:8000"), chat_url("https://api.example.com/v1/")
    ('http://127.0.0.1:8000/v1/chat/completions', 'https://api.example.com/v1/chat/completions')
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import email.utils
import functools
import json
import math
import random
import re
import time
from collections.abc import Awaitable, Sequence
from typing import NamedTuple, TypeVar
from urllib.parse import urlsplit

import aiohttp

from rlsp_rewards.errors import JudgeError
from rlsp_rewards.judge.loops import LoopSessions, Route, loop_sessions, process_gate, submit

__all__ = ["GRACE_S", "ChatClient", "JudgeCallError", "chat_url", "retry_after_s"]

_BACKOFF_FIRST_S = 0.25
_BACKOFF_CAP_S = 8.0
#: How much longer than the budget a caller waits before giving up on the loop thread itself.
GRACE_S = 1.0
#: Reply bodies larger than this are refused (a chat completion is a few kB).
_MAX_BODY_BYTES = 4 * 1024 * 1024
_CHAT_PATH = "/chat/completions"
_DELTA_SECONDS = re.compile(r"\s*\d+(?:\.\d*)?\s*")
_timeout_at = getattr(asyncio, "timeout_at", None)  # Python 3.11+
T = TypeVar("T")
#: Model names discovered from servers' ``/models``, by chat URL.
_models: dict[str, str] = {}


class JudgeCallError(JudgeError):
    """A judge call gave no usable reply; the message says why (HTTP status, timeout...)."""


def chat_url(base: str) -> str:
    """The chat-completions URL for a base URL (``.../v1``) or a bare ``host:port`` address.

    A bare address is what verl passes as ``reward_router_address``; it gets ``http://`` and
    ``/v1``. A URL that already ends in ``/chat/completions`` is kept.

    Example:
        >>> chat_url("http://10.0.0.5:30000/v1/chat/completions")
        'http://10.0.0.5:30000/v1/chat/completions'
    """
    url = base.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}/v1"
    return url if url.endswith(_CHAT_PATH) else url + _CHAT_PATH


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or ``None`` when it gives no usable hint.

    The header holds a number of seconds or an HTTP date (a date in the past means "now").
    Anything else, including ``nan``, ``inf``, negative numbers and numbers too large to be
    finite, is no hint: the caller backs off as usual. The caller caps a hint by its budget.

    Args:
        value: the header's value.
        now: the current time (``time.time()``), for dates.

    Example:
        >>> retry_after_s("2"), retry_after_s("nan"), retry_after_s("-1"), retry_after_s("inf")
        (2.0, None, None, None)
        >>> retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT")
        0.0
    """
    if not value:
        return None
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None  # 400 digits parse as inf
    try:
        when = email.utils.parsedate_to_datetime(value)
        delay = when.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, LookupError, OverflowError):
        return None
    return max(delay, 0.0) if math.isfinite(delay) else None


class _Reply(NamedTuple):
    status: int
    body: bytes
    retry_after: str | None


class _TooLarge(Exception):
    """The reply's body is over the cap: retrying would only fetch it again."""


class _Endpoint(NamedTuple):
    """A URL's origin, which names its session, and the URL itself."""

    url: str
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> _Endpoint:
        parts = urlsplit(url)
        https = parts.scheme == "https"
        try:
            port = parts.port or (443 if https else 80)
        except ValueError as exc:
            raise JudgeCallError(f"the judge URL {url!r} has a bad port: {exc}") from None
        return cls(url, parts.scheme, parts.hostname or "", port)


@dataclasses.dataclass(frozen=True)
class ChatClient:
    """Settings of judge calls to one endpoint; the calls share the process's sessions.

    Cheap to build (no I/O until a call); build one per endpoint and reuse it, since it keeps
    its request headers and parsed URL. A ``model`` of ``None`` asks the server: the first
    model its ``/models`` lists, looked up once per URL and process.

    Attributes:
        url: the chat-completions URL (see :func:`chat_url`).
        model: the model name to request, or ``None``.
        api_key: sent as a bearer token when set.
        temperature: sampling temperature.
        max_tokens: the reply's token limit.
        timeout_s: the limit of one attempt, from the moment it has a slot.
        budget_s: the limit of a whole call, retries and waiting included.
        retries: retries after the first attempt.
        max_in_flight: requests to ``url`` on the wire at once, per process (every event loop
            and thread of the process shares the bound).

    Example:
        >>> client = ChatClient(chat_url("127.0.0.1:9"), model="m", retries=0, budget_s=2.0)
        >>> try:
        ...     client.complete([{"role": "user", "content": "hi"}])  # nothing listens on port 9
        ... except JudgeCallError as exc:
        ...     print(str(exc).split(" (")[0])
        cannot connect to 127.0.0.1:9
    """

    url: str
    model: str | None = None
    api_key: str | None = dataclasses.field(default=None, repr=False)
    temperature: float = 0.0
    max_tokens: int = 512
    timeout_s: float = 30.0
    budget_s: float = 60.0
    retries: int = 3
    max_in_flight: int = 64

    def complete(self, messages: Sequence[dict[str, str]]) -> str:
        """Send ``messages`` and return the reply's text; blocks at most about ``budget_s``.

        Safe from any thread, including one running its own event loop (which it blocks).

        Raises:
            JudgeCallError: when no usable reply arrived within the bounds.
        """
        try:
            future = submit(self.acomplete(messages))
        except JudgeError as exc:
            raise JudgeCallError(str(exc)) from None
        try:
            return future.result(timeout=self.budget_s + GRACE_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise JudgeCallError(f"no reply within the budget of {self.budget_s:g}s") from None
        except concurrent.futures.CancelledError:
            raise JudgeCallError("the judge call was cancelled") from None

    async def acomplete(
        self, messages: Sequence[dict[str, str]], deadline: float | None = None
    ) -> str:
        """Async :meth:`complete`, on the caller's event loop; never blocks it.

        Args:
            messages: the chat messages.
            deadline: the loop time (``loop.time()``) by which the call ends, when it must end
                before ``budget_s`` from now (a batch gives all its calls the deadline of its
                start).

        Raises:
            JudgeCallError: when no usable reply arrived within the bounds.
        """
        loop = asyncio.get_running_loop()
        latest = loop.time() + self.budget_s
        deadline = latest if deadline is None else min(deadline, latest)
        problems: list[str] = []
        state = await loop_sessions()
        model = self.model or await self._discover_model(state, deadline, problems)
        body = self._body_head(model) + json.dumps(list(messages)).encode() + b"}"
        headers = self._post_headers
        data = await self._send(state, self._endpoint, "POST", headers, body, deadline, problems)
        try:
            content = json.loads(data)["choices"][0]["message"]["content"]
        except (ValueError, LookupError, TypeError, RecursionError):
            raise JudgeCallError(
                f"the reply is not a chat completion: {_preview(data)!r}"
            ) from None
        if not isinstance(content, str):
            raise JudgeCallError("the chat completion has no text content")
        return content

    # -- built once per client ----------------------------------------------------------------

    @functools.cached_property
    def _endpoint(self) -> _Endpoint:
        return _Endpoint.parse(self.url)

    @functools.cached_property
    def _post_headers(self) -> dict[str, str]:
        return self._headers("application/json")

    def _headers(self, content_type: str | None = None) -> dict[str, str]:
        """This client's request headers (the session adds User-Agent and Accept)."""
        headers: dict[str, str] = {}
        if content_type:
            headers["Content-Type"] = content_type
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    @functools.cached_property
    def _body_heads(self) -> dict[str, bytes]:
        return {}

    def _body_head(self, model: str) -> bytes:
        """The request body up to its messages (the settings are fixed per client)."""
        head = self._body_heads.get(model)
        if head is None:
            settings = {
                "model": model,
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
            }
            head = self._body_heads[model] = json.dumps(settings)[:-1].encode() + b', "messages": '
        return head

    # -- on the loop that makes the call ------------------------------------------------------

    async def _discover_model(
        self, state: LoopSessions, deadline: float, problems: list[str]
    ) -> str:
        known = _models.get(self.url)
        if known is None:
            models_url = self.url[: -len(_CHAT_PATH)] + "/models"
            endpoint = self._endpoint._replace(url=models_url)
            headers = self._headers()
            data = await self._send(state, endpoint, "GET", headers, b"", deadline, problems)
            try:
                known = str(json.loads(data)["data"][0]["id"])
            except (ValueError, LookupError, TypeError, RecursionError):
                raise JudgeCallError(
                    f"no judge model set and {models_url} lists none; set judge_model or "
                    "RLSP_JUDGE_MODEL"
                ) from None
            _models[self.url] = known
        return known

    async def _send(
        self,
        state: LoopSessions,
        endpoint: _Endpoint,
        method: str,
        headers: dict[str, str],
        body: bytes,
        deadline: float,
        problems: list[str],
    ) -> bytes:
        """One request with retries; the reply body of a 2xx status."""
        loop = asyncio.get_running_loop()
        try:
            route = state.route(endpoint.scheme, endpoint.host, endpoint.port, self.max_in_flight)
        except JudgeError as exc:
            raise JudgeCallError(str(exc)) from None
        attempt = 0
        free_retry = True
        while True:
            attempt += 1
            wait: float | None = None
            try:
                reply = await self._attempt(route, method, endpoint.url, headers, body, deadline)
            except asyncio.TimeoutError:
                if loop.time() >= deadline:
                    last = f"; last problem: {problems[-1]}" if problems else ""
                    raise JudgeCallError(
                        f"no usable reply within the budget of {self.budget_s:g}s{last}"
                    ) from None
                problems.append(f"no reply within {self.timeout_s:g}s")
            except _TooLarge:
                raise JudgeCallError(
                    f"the reply from {endpoint.url} is over {_MAX_BODY_BYTES} bytes"
                ) from None
            except aiohttp.ServerDisconnectedError as exc:
                problems.append(_describe(exc))
                if free_retry:  # a kept-alive connection closed as it was reused
                    free_retry = False
                    attempt -= 1
                    continue
            except (aiohttp.ClientError, OSError) as exc:
                problems.append(_describe(exc))
            else:
                if 200 <= reply.status < 300:
                    return reply.body
                problems.append(f"HTTP {reply.status}: {_preview(reply.body)!r}")
                if reply.status == 429:
                    wait = retry_after_s(reply.retry_after)
                elif 300 <= reply.status < 400:
                    raise JudgeCallError(
                        f"{problems[-1]} from {endpoint.url}: redirects are not followed; "
                        "set judge_url to the address the server redirects to"
                    )
                elif reply.status < 500:  # the request itself is wrong: retrying cannot help
                    raise JudgeCallError(f"{problems[-1]} from {endpoint.url}")
            if attempt > self.retries:
                raise JudgeCallError(f"{problems[-1]} (gave up after {attempt} attempts)")
            delay = wait if wait is not None else _backoff_s(attempt)
            if not loop.time() + delay < deadline:  # also false for a delay that is not a number
                raise JudgeCallError(
                    f"{problems[-1]} (a retry in {delay:.3g}s would overrun the budget of "
                    f"{self.budget_s:g}s)"
                )
            await asyncio.sleep(delay)

    async def _attempt(
        self,
        route: Route,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        deadline: float,
    ) -> _Reply:
        """One exchange: waits for a slot until ``deadline``, then has ``timeout_s`` (never past
        ``deadline``)."""
        gate = process_gate(self.url, self.max_in_flight)
        if not gate.try_acquire():
            await _before(gate.acquire(), deadline)
        try:
            limit = min(asyncio.get_running_loop().time() + self.timeout_s, deadline)
            return await _before(_exchange(route, method, url, headers, body), limit)
        finally:
            gate.release()


async def _exchange(
    route: Route, method: str, url: str, headers: dict[str, str], body: bytes
) -> _Reply:
    """One request and its whole reply, the body read up to the cap."""
    async with route.session.request(
        method,
        url,
        data=body or None,
        headers=headers,
        allow_redirects=False,
        proxy=route.proxy,
        proxy_headers=route.proxy_headers,
    ) as response:
        size = response.content_length
        if size is not None and size > _MAX_BODY_BYTES:
            raise _TooLarge
        if size is not None and "Content-Encoding" not in response.headers:
            body = await response.read()  # the usual case: a few kB, its length known
            return _Reply(response.status, body, response.headers.get("Retry-After"))
        chunks = []
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > _MAX_BODY_BYTES:
                raise _TooLarge
            chunks.append(chunk)
        return _Reply(response.status, b"".join(chunks), response.headers.get("Retry-After"))


async def _before(awaitable: Awaitable[T], when: float) -> T:
    """``await awaitable``, cancelled at the loop time ``when`` (``asyncio.TimeoutError``)."""
    if _timeout_at is not None:
        async with _timeout_at(when):
            return await awaitable
    # Python 3.10
    return await asyncio.wait_for(awaitable, max(when - asyncio.get_running_loop().time(), 0.0))


def _backoff_s(attempt: int) -> float:
    """Exponential back-off with jitter in the upper half: 0.125-0.25 s, then 0.25-0.5 s..."""
    ceiling = min(_BACKOFF_FIRST_S * 2 ** (attempt - 1), _BACKOFF_CAP_S)
    return random.uniform(ceiling / 2, ceiling)


def _describe(exc: BaseException) -> str:
    """What went wrong on the way, in a line that names the host at fault."""
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"cannot reach the proxy {exc.host}:{exc.port} ({exc.os_error})"
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return f"the proxy refused a tunnel (HTTP {exc.status} {exc.message})"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        why = exc.certificate_error
        return f"the TLS certificate of {exc.host}:{exc.port} was rejected ({why})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port} ({exc.os_error})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection failed (the server closed it without a reply)"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"connection failed (the reply was cut short: {str(exc)[:120]})"
    return f"connection failed ({type(exc).__name__}: {str(exc)[:160]})"


def _preview(data: bytes) -> str:
    return " ".join(data[:200].decode("utf-8", errors="replace").split())[:120]
