"""A chat-completions client for OpenAI-compatible servers that cannot stall its caller.

Async callers run their requests on their own event loop (no thread hop), with keep-alive
connections kept per loop (see :mod:`rlsp_rewards.judge.http_pool`) and reused across calls;
they are closed when the loop shuts down its async generators (``asyncio.run`` does; a loop closed
without doing so keeps them, and itself, until the process ends). Sync callers, from any
thread, including one whose own event loop is running, hand their request to one private event
loop per process, on a daemon thread started on first use, and block on the result. A forked
child starts afresh: it never touches its parent's loop thread or connections.

Bounds, per call:

* at most ``max_in_flight`` requests to one URL are on the wire at once in the whole process,
  whichever threads and event loops make them; waiting for a slot counts toward the budget;
* each attempt has ``timeout_s`` once it has a slot; the whole call (waiting, attempts,
  back-off) has ``budget_s``;
* timeouts, connection errors (refused, reset, a body cut short), HTTP 429 and 5xx are retried
  up to ``retries`` times, after exponential back-off with jitter (0.25 s doubling, capped at
  8 s, each wait drawn in its upper half) or after the server's ``Retry-After`` on a 429; a
  retry that cannot start within the budget is not made. Other 4xx and 3xx (redirects are not
  followed) are not retried.

Every failure is a :class:`JudgeCallError` whose message says what went wrong; the judge reward
turns it into its fallback grade.

The transport is our own small keep-alive HTTP/1.1 client on httptools' C parser, because a
judge call is tiny and frequent and the client's CPU per call is what limits a fast judge.
Measured with ``rlsp-rewards bench --judge`` (64 requests in flight, 2 cores): about 0.1 ms of
client CPU per judgement, against about 0.3 ms for bare aiohttp and 1.6-6 ms for httpx 0.28.

Example:
    >>> chat_url("127.0.0.1:8000"), chat_url("https://api.example.com/v1/")
    ('http://127.0.0.1:8000/v1/chat/completions', 'https://api.example.com/v1/chat/completions')
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import email.utils
import functools
import json
import os
import random
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import TypeVar

from rlsp_rewards import __version__
from rlsp_rewards.errors import JudgeError
from rlsp_rewards.judge.http_pool import (
    ConnectionFailed,
    ConnectionPool,
    Endpoint,
    Proxy,
    Reply,
    ReplyTooLarge,
)

__all__ = ["ChatClient", "JudgeCallError", "chat_url"]

_BACKOFF_FIRST_S = 0.25
_BACKOFF_CAP_S = 8.0
#: How much longer than the budget a caller waits before giving up on the loop thread itself.
_GRACE_S = 1.0
#: Reply bodies larger than this are refused (a chat completion is a few kB).
_MAX_BODY_BYTES = 4 * 1024 * 1024
_CHAT_PATH = "/chat/completions"
_timeout_at = getattr(asyncio, "timeout_at", None)  # Python 3.11+
T = TypeVar("T")


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


@dataclasses.dataclass(frozen=True)
class ChatClient:
    """Settings of judge calls to one endpoint; the calls share the process's loop and session.

    Cheap to build (no I/O until a call); build one per endpoint and reuse it, since it keeps
    its request headers and parsed URL. A ``model`` of ``None`` asks the server: the first
    model its ``/models`` lists, looked up once per URL and process.

    Attributes:
        url: the chat-completions URL (see :func:`chat_url`).
        model: the model name to request, or ``None``.
        api_key: sent as a bearer token when set.
        temperature: sampling temperature.
        max_tokens: the reply's token limit.
        timeout_s: the limit of one attempt, from the moment it goes on the wire.
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
        connection failed
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
        runtime = _runtime()
        if threading.current_thread() is runtime.thread:
            raise JudgeCallError("complete() was called on the judge loop itself; use acomplete()")
        future = asyncio.run_coroutine_threadsafe(self.acomplete(messages), runtime.loop)
        try:
            return future.result(timeout=self.budget_s + _GRACE_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise JudgeCallError(f"no reply within the budget of {self.budget_s:g}s") from None
        except concurrent.futures.CancelledError:
            raise JudgeCallError("the judge call was cancelled") from None

    async def acomplete(self, messages: Sequence[dict[str, str]]) -> str:
        """Async :meth:`complete`, on the caller's event loop; never blocks it.

        Raises:
            JudgeCallError: when no usable reply arrived within the bounds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget_s
        problems: list[str] = []
        state = _states.get(loop) or await _open_loop_state(loop)
        model = self.model or await self._discover_model(state, deadline, problems)
        body = self._body_head(model) + json.dumps(list(messages)).encode() + b"}"
        data = await self._send(state, self._endpoint, self._post_head, body, deadline, problems)
        try:
            content = json.loads(data)["choices"][0]["message"]["content"]
        except (ValueError, LookupError, TypeError):
            raise JudgeCallError(
                f"the reply is not a chat completion: {_preview(data)!r}"
            ) from None
        if not isinstance(content, str):
            raise JudgeCallError("the chat completion has no text content")
        return content

    # -- built once per client ----------------------------------------------------------------

    @functools.cached_property
    def _endpoint(self) -> Endpoint:
        return Endpoint.parse(self.url)

    @functools.cached_property
    def _post_head(self) -> bytes:
        return self._endpoint.request_head("POST", self._headers("application/json"))

    def _headers(self, content_type: str | None = None) -> dict[str, str]:
        headers = {"User-Agent": f"rlsp-rewards/{__version__}", "Accept": "application/json"}
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

    async def _discover_model(self, state: _LoopState, deadline: float, problems: list[str]) -> str:
        known = _models.get(self.url)
        if known is None:
            models_url = self.url[: -len(_CHAT_PATH)] + "/models"
            endpoint = Endpoint.parse(models_url)
            head = endpoint.request_head("GET", self._headers())
            data = await self._send(state, endpoint, head, b"", deadline, problems)
            try:
                known = str(json.loads(data)["data"][0]["id"])
            except (ValueError, LookupError, TypeError):
                raise JudgeCallError(
                    f"no judge model set and {models_url} lists none; set judge_model or "
                    "RLSP_JUDGE_MODEL"
                ) from None
            _models[self.url] = known
        return known

    async def _send(
        self,
        state: _LoopState,
        endpoint: Endpoint,
        head: bytes,
        body: bytes,
        deadline: float,
        problems: list[str],
    ) -> bytes:
        """One request with retries; the reply body of a 2xx status."""
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            try:
                reply = await self._attempt(state.pool(endpoint), head, body, deadline)
            except asyncio.TimeoutError:
                if loop.time() >= deadline:
                    last = f"; last problem: {problems[-1]}" if problems else ""
                    raise JudgeCallError(
                        f"no usable reply within the budget of {self.budget_s:g}s{last}"
                    ) from None
                problems.append(f"no reply within {self.timeout_s:g}s")
            except ReplyTooLarge as exc:
                raise JudgeCallError(str(exc)) from None
            except ConnectionFailed as exc:
                problems.append(f"connection failed ({str(exc)[:160]})")
            else:
                if 200 <= reply.status < 300:
                    return reply.body
                problems.append(f"HTTP {reply.status}: {_preview(reply.body)!r}")
                if reply.status == 429:
                    wait = _retry_after_s(reply.retry_after)
                elif 300 <= reply.status < 400:
                    raise JudgeCallError(
                        f"{problems[-1]} from {endpoint.target}: redirects are not followed; "
                        "set judge_url to the address the server redirects to"
                    )
                elif reply.status < 500:  # the request itself is wrong: retrying cannot help
                    raise JudgeCallError(f"{problems[-1]} from {endpoint.target}")
            if attempt > self.retries:
                raise JudgeCallError(f"{problems[-1]} (gave up after {attempt} attempts)")
            delay = wait if wait is not None else _backoff_s(attempt)
            if loop.time() + delay >= deadline:
                raise JudgeCallError(
                    f"{problems[-1]} (a retry in {delay:.3g}s would overrun the budget of "
                    f"{self.budget_s:g}s)"
                )
            await asyncio.sleep(delay)

    async def _attempt(
        self, pool: ConnectionPool, head: bytes, body: bytes, deadline: float
    ) -> Reply:
        """One exchange: waits for a slot until ``deadline``, then has ``timeout_s`` on the
        wire (never past ``deadline``)."""
        gate = _gates.get((self.url, self.max_in_flight)) or _new_gate(self.url, self.max_in_flight)
        if not gate.try_acquire():
            await _before(gate.acquire(), deadline)
        try:
            limit = min(asyncio.get_running_loop().time() + self.timeout_s, deadline)
            return await _before(pool.request(head, body), limit)
        finally:
            gate.release()


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


def _retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if readable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _preview(data: bytes) -> str:
    return " ".join(data[:200].decode("utf-8", errors="replace").split())[:120]


class _LoopState:
    """What one event loop keeps for judge calls: its connection pools, one per server."""

    def __init__(self) -> None:
        self.closer: AsyncIterator[None] | None = None  # see _open_loop_state
        self._pools: dict[tuple[str, int, bool], ConnectionPool] = {}

    def pool(self, endpoint: Endpoint) -> ConnectionPool:
        """The loop's pool for ``endpoint``'s server, made on first use."""
        key = (endpoint.host, endpoint.port, endpoint.tls)
        pool = self._pools.get(key)
        if pool is None:
            proxy = Proxy.from_environment(endpoint)
            pool = self._pools[key] = ConnectionPool(endpoint, _MAX_BODY_BYTES, proxy)
        return pool

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


async def _closing_with(loop: asyncio.AbstractEventLoop, state: _LoopState) -> AsyncIterator[None]:
    try:
        yield
    finally:
        with _states_lock:
            _states.pop(loop, None)  # the generator refers to the loop: drop it explicitly
        state.close()


_states_lock = threading.Lock()
_states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
    weakref.WeakKeyDictionary()
)


async def _open_loop_state(loop: asyncio.AbstractEventLoop) -> _LoopState:
    """The running loop's state, made on its first judge call.

    A new state starts an async generator on the loop, whose ``finally`` closes the session:
    the loop closes it when it shuts down its async generators (``asyncio.run`` does).
    """
    state = _states.get(loop)
    if state is None:  # only a loop's own thread adds its state: no race for the same loop
        state = _LoopState()
        with _states_lock:
            _states[loop] = state
        state.closer = _closing_with(loop, state)
        await state.closer.__anext__()
    return state


class _ProcessGate:
    """A semaphore shared by every event loop and thread of the process, first come first served.

    A released slot goes straight to the oldest waiter, on that waiter's own loop; a waiter
    cancelled while its slot is on the way passes the slot on.

    Example:
        >>> gate = _ProcessGate(1)
        >>> async def once():
        ...     async with gate:
        ...         inside = gate.free
        ...     return inside, gate.free
        >>> asyncio.run(once())
        (0, 1)
    """

    def __init__(self, limit: int) -> None:
        self.free = limit
        self._lock = threading.Lock()
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def try_acquire(self) -> bool:
        """Take a slot if one is free now (and nobody waits for one)."""
        with self._lock:
            if self.free > 0 and not self._waiters:
                self.free -= 1
                return True
            return False

    async def acquire(self) -> None:
        with self._lock:
            if self.free > 0 and not self._waiters:
                self.free -= 1
                return
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            with self._lock:
                queued = waiter in self._waiters
                if queued:
                    self._waiters.remove(waiter)
            if not queued and waiter.done() and not waiter.cancelled():
                self.release()  # the slot arrived just as this waiter was cancelled
            # (A slot still on its way finds the waiter cancelled and passes itself on.)
            raise

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                loop = waiter.get_loop()
                if loop is asyncio._get_running_loop():  # this thread's loop: hand over now
                    if waiter.done():  # cancelled
                        continue
                    waiter.set_result(None)
                    return
                try:
                    loop.call_soon_threadsafe(self._hand_over, waiter)
                except RuntimeError:  # the waiter's loop is closed: try the next one
                    continue
                return
            self.free += 1

    def _hand_over(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done():  # cancelled meanwhile
            self.release()
        else:
            waiter.set_result(None)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()


_gates_lock = threading.Lock()
_gates: dict[tuple[str, int], _ProcessGate] = {}
#: Model names discovered from servers' ``/models``, by chat URL.
_models: dict[str, str] = {}


def _new_gate(url: str, limit: int) -> _ProcessGate:
    """The process's in-flight bound of ``limit`` requests to ``url``, made on first use."""
    with _gates_lock:
        gate = _gates.get((url, limit))
        if gate is None:
            gate = _gates[(url, limit)] = _ProcessGate(limit)
        return gate


class _Runtime:
    """The process's private loop for sync callers, on its own daemon thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="rlsp-judge-loop", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()


_runtime_lock = threading.Lock()
_current: _Runtime | None = None


def _runtime() -> _Runtime:
    global _current
    runtime = _current
    if runtime is not None and runtime.pid == os.getpid():
        return runtime
    with _runtime_lock:
        if _current is None or _current.pid != os.getpid():
            _current = _Runtime()
        return _current


def _forget_after_fork() -> None:
    """In a forked child: the parent's loop thread is gone, its locks may be held, and its
    connections are shared with the parent, so none of it is used."""
    global _current, _runtime_lock, _states, _states_lock, _gates, _gates_lock
    _current = None
    _runtime_lock = threading.Lock()
    _states = weakref.WeakKeyDictionary()
    _states_lock = threading.Lock()
    _gates = {}
    _gates_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
