"""Where judge calls run: each event loop's HTTP sessions, the process's in-flight bound, and the
private loop of sync callers.

* :func:`loop_sessions`: the running loop's aiohttp sessions, one per endpoint (scheme, host,
  port) and bound, made on the loop's first judge call and closed when the loop shuts down its
  async generators (``asyncio.run`` does; a loop closed without doing so keeps them, and itself,
  until the process ends). Each comes with the proxy the environment names for its endpoint
  (:func:`environment_proxy`), read when the session is made.
* :func:`process_gate`: at most ``limit`` requests to one URL on the wire at once in the whole
  process, whichever threads and event loops make them (first come, first served).
* :func:`submit`: runs a coroutine on one private event loop per process, on a daemon thread
  started on first use; sync callers, from any thread, block on its future. Its sessions are
  closed when the process exits.

A forked child starts afresh: it never touches its parent's loop thread, sessions or
connections (its copies are kept, unused, so that no destructor of theirs runs in the child).

Example:
    >>> async def slots():
    ...     gate = process_gate("http://127.0.0.1:9/v1/chat/completions", 2)
    ...     async with gate:
    ...         return gate.free
    >>> submit(slots()).result(timeout=10)
    1
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import collections
import concurrent.futures
import os
import ssl
import threading
import weakref
from collections.abc import AsyncIterator, Coroutine
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp

from rlsp_rewards import __version__
from rlsp_rewards.errors import JudgeError

__all__ = [
    "LoopSessions",
    "ProcessGate",
    "Route",
    "environment_proxy",
    "loop_sessions",
    "process_gate",
    "submit",
]

T = TypeVar("T")
#: Sent with every judge request (a few kB each way: compression would cost more than it saves).
_HEADERS = {
    "User-Agent": f"rlsp-rewards/{__version__}",
    "Accept": "application/json",
    "Accept-Encoding": "identity",
}


# -- each event loop's sessions -----------------------------------------------------------------


def environment_proxy(scheme: str, host: str) -> tuple[str | None, dict[str, str] | None]:
    """The proxy the environment names for ``scheme://host``, and its ``Proxy-Authorization``.

    The rule of aiohttp's ``trust_env`` (and of most HTTP clients), read with the standard
    library: ``HTTPS_PROXY`` for ``https://``, ``HTTP_PROXY`` for ``http://`` (either case),
    none when ``NO_PROXY`` exempts the host. Credentials in the proxy's URL become Basic auth.
    We read it once per session rather than let ``trust_env=True`` do it: aiohttp looks the
    proxy (and ``~/.netrc``) up in a worker thread on every request, which measured about 2.5x
    the client CPU per judgement (``rlsp-rewards bench --judge``).

    Raises:
        JudgeError: when the proxy is not an ``http://`` URL (the only kind aiohttp tunnels
            through).

    Example:
        >>> import os
        >>> os.environ["HTTPS_PROXY"] = "http://bob:s%40fe@proxy.internal:3128"
        >>> environment_proxy("https", "api.example.com")
        ('http://proxy.internal:3128', {'Proxy-Authorization': 'Basic Ym9iOnNAZmU='})
        >>> os.environ["NO_PROXY"] = "example.com"
        >>> environment_proxy("https", "api.example.com")
        (None, None)
        >>> del os.environ["HTTPS_PROXY"], os.environ["NO_PROXY"]
    """
    if proxy_bypass(host):
        return None, None
    url = getproxies().get(scheme)
    if not url:
        return None, None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise JudgeError(
            f"the {scheme} proxy {parts.scheme}://{parts.hostname} from the environment is not "
            "supported: set it to an http:// URL (the proxy still tunnels https:// to the judge)"
        )
    host_port = f"{parts.hostname}:{parts.port or 80}"
    if ":" in parts.hostname:  # an IPv6 address
        host_port = f"[{parts.hostname}]:{parts.port or 80}"
    headers = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers = {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode()}
    return f"http://{host_port}", headers


class Route(NamedTuple):
    """How a loop reaches one endpoint: the session, and the proxy to send each request through.

    Attributes:
        session: the aiohttp session (its connector holds the kept-alive connections).
        proxy: the proxy URL, or ``None`` for a direct connection.
        proxy_headers: the ``Proxy-Authorization`` header, when the proxy has credentials.
    """

    session: aiohttp.ClientSession
    proxy: str | None
    proxy_headers: dict[str, str] | None


class LoopSessions:
    """What one event loop keeps for judge calls: its routes, one per endpoint and bound.

    Example:
        >>> async def same():
        ...     sessions = await loop_sessions()
        ...     one = sessions.route("http", "127.0.0.1", 9, 4)
        ...     return one is sessions.route("http", "127.0.0.1", 9, 4), one.session.closed
        >>> asyncio.run(same())
        (True, False)
    """

    def __init__(self) -> None:
        self.closer: AsyncIterator[None] | None = None  # see loop_sessions
        self._routes: dict[tuple[str, str, int, int], Route] = {}

    def route(self, scheme: str, host: str, port: int, limit: int) -> Route:
        """The loop's session for one endpoint, with at most ``limit`` connections, and its
        proxy; made on first use (on the loop's own thread).

        Raises:
            JudgeError: when the environment names a proxy that cannot be used.
        """
        key = (scheme, host, port, limit)
        route = self._routes.get(key)
        if route is None:
            proxy, proxy_headers = environment_proxy(scheme, host)
            # A context of our own, made now: it reads SSL_CERT_FILE when the session is made.
            tls = ssl.create_default_context() if scheme == "https" else True
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=limit, ssl=tls),
                headers=_HEADERS,
                timeout=aiohttp.ClientTimeout(total=None),  # the caller's deadlines bound calls
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            route = self._routes[key] = Route(session, proxy, proxy_headers)
        return route

    async def close(self) -> None:
        """Close every session (their connections with them)."""
        routes, self._routes = list(self._routes.values()), {}
        for route in routes:
            try:
                await route.session.close()
            except Exception:  # closing never fails a caller; at worst a socket stays open
                pass


async def _closing_with(
    loop: asyncio.AbstractEventLoop, state: LoopSessions
) -> AsyncIterator[None]:
    try:
        yield
    finally:
        with _states_lock:
            _states.pop(loop, None)  # the generator refers to the loop: drop it explicitly
        await state.close()


_states_lock = threading.Lock()
_states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopSessions] = (
    weakref.WeakKeyDictionary()
)


async def loop_sessions() -> LoopSessions:
    """The running loop's sessions, made on its first judge call.

    A new one starts an async generator on the loop, whose ``finally`` closes the sessions:
    the loop closes it when it shuts down its async generators (``asyncio.run`` does).
    """
    loop = asyncio.get_running_loop()
    state = _states.get(loop)
    if state is None:  # only a loop's own thread adds its state: no race for the same loop
        state = LoopSessions()
        with _states_lock:
            _states[loop] = state
        state.closer = _closing_with(loop, state)
        await state.closer.__anext__()
    return state


# -- the process's in-flight bound ----------------------------------------------------------------


class ProcessGate:
    """A semaphore shared by every event loop and thread of the process, first come first served.

    A released slot goes straight to the oldest waiter, on that waiter's own loop; a waiter
    cancelled while its slot is on the way passes the slot on.

    Example:
        >>> gate = ProcessGate(1)
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
        """Take a slot, waiting in line for one."""
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
        """Give a slot back: to the oldest waiter, or to the free count. Called on a loop."""
        running = asyncio.get_running_loop()
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                loop = waiter.get_loop()
                if loop is running:  # this thread's loop: hand over now
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
_gates: dict[tuple[str, int], ProcessGate] = {}


def process_gate(url: str, limit: int) -> ProcessGate:
    """The process's in-flight bound of ``limit`` requests to ``url``, made on first use."""
    gate = _gates.get((url, limit))
    if gate is None:
        with _gates_lock:
            gate = _gates.setdefault((url, limit), ProcessGate(limit))
    return gate


# -- the private loop of sync callers -------------------------------------------------------------


def submit(coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Run ``coroutine`` on the process's private judge loop; its future, at once.

    Where sync callers' judge calls run, from any thread. The loop starts on first use.

    Raises:
        JudgeError: when called on the judge loop itself (waiting there would deadlock).

    Example:
        >>> async def two():
        ...     return 2
        >>> submit(two()).result(timeout=10)
        2
    """
    runtime = _runtime()
    if threading.current_thread() is runtime.thread:
        coroutine.close()
        raise JudgeError("a blocking judge call was made on the judge loop itself; await it")
    return asyncio.run_coroutine_threadsafe(coroutine, runtime.loop)


class _Runtime:
    """The process's private loop for sync callers, on its own daemon thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="rlsp-judge-loop", daemon=True)
        self.thread.start()
        atexit.register(self.close)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def close(self) -> None:
        """Close the loop's sessions (at exit: sockets shut, no "unclosed session" complaint)."""
        state = _states.get(self.loop)
        if state is None or self.pid != os.getpid() or not self.thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(state.close(), self.loop).result(timeout=2.0)
        except Exception:  # a stuck loop at exit: the process ends anyway
            pass


_runtime_lock = threading.Lock()
_current: _Runtime | None = None
#: What a forked child inherited and must neither use nor finalize (its sessions belong to the
#: parent's loop, whose selector the child shares).
_inherited: list[object] = []


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
    _inherited.append((_current, dict(_states)))
    _current = None
    _runtime_lock = threading.Lock()
    _states = weakref.WeakKeyDictionary()
    _states_lock = threading.Lock()
    _gates = {}
    _gates_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
