"""The keep-alive HTTP/1.1 client (rlsp_rewards/http_pool.py) against real servers on 127.0.0.1.

How: every test runs one event loop (``asyncio.run``) that holds both sides. The server is a raw
``asyncio.start_server`` on a free port of 127.0.0.1 whose per-connection handler is a *script*
written for the test: it reads whole requests and writes exact bytes, so each test chooses the
framing, the timing of a close (FIN or RST) and the mistakes the client meets. The server counts
the connections it accepts and keeps every request's bytes, which is how reuse is checked. Each
request carries its own body and most scripts echo it back, so a reply that belongs to another
request (a stale one) shows. Nothing is mocked: the bytes go through the kernel's TCP (and TLS,
with a ``trustme`` CA).

Timing is made deterministic by events, not sleeps: a test that needs the client to have seen a
close waits for it (``eventually``), a test that cancels a request waits until the server holds
that request. The few white-box looks (``pool._idle``) only tell the test when to go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gzip
import json
import re
import socket
import ssl
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from typing import Any

import pytest
import trustme

from rlsp_rewards.judge import http_pool
from rlsp_rewards.judge.http_pool import (
    ConnectionFailed,
    ConnectionPool,
    Endpoint,
    Proxy,
    Reply,
    ReplyTooLarge,
)

#: The body cap of the pools in these tests (small, so the over-cap replies stay small).
CAP = 1000
#: A body that compresses well, under CAP.
PAYLOAD = b'{"grade": 0.7, "why": "' + b"fine " * 100 + b'"}'
GZIPPED = gzip.compress(PAYLOAD)


# -- the server side ------------------------------------------------------------------------------


class Peer:
    """One accepted connection, from the server's side: read whole requests, write raw bytes."""

    def __init__(
        self, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.index = index
        self.reader = reader
        self.writer = writer
        self.requests: list[bytes] = []
        self._reading = False
        self._ended = asyncio.Event()  # set when a read found the client's close

    async def read_request(self) -> bytes | None:
        """The next whole request (head and ``Content-Length`` body), or None at the client's
        close."""
        self._reading = True
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            found = re.search(rb"\r\ncontent-length: *(\d+)\r\n", head, re.IGNORECASE)
            body = await self.reader.readexactly(int(found.group(1)) if found else 0)
        except (asyncio.IncompleteReadError, ConnectionError):
            self._ended.set()
            return None
        finally:
            self._reading = False
        self.requests.append(head + body)
        return head + body

    async def send(self, data: bytes, *, bytewise: bool = False) -> None:
        """Write ``data`` at once, or one byte per write (each its own TCP segment: NODELAY)."""
        for piece in [data[i : i + 1] for i in range(len(data))] if bytewise else [data]:
            self.writer.write(piece)
            await self.writer.drain()
            if bytewise:
                await asyncio.sleep(0)

    async def close(self, how: str = "fin") -> None:
        """Close the connection: ``fin`` (an orderly close) or ``rst`` (a reset)."""
        if how == "rst":
            sock = self.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.writer.transport.abort()
            return
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def closed_by_client(self) -> bool:
        """Whether the client closed the connection with no further request (waits for it).

        When the script is reading already, this waits for that read to find the close.
        """
        if self._reading or self._ended.is_set():
            await self._ended.wait()
            return True
        return await self.read_request() is None


Script = Callable[[Peer], Awaitable[None]]


class Server:
    """A raw asyncio server on 127.0.0.1: each accepted connection is handed to ``script``."""

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.tls = tls
        self.peers: list[Peer] = []
        self.errors: list[BaseException] = []  # a script's own bug fails the test
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    @property
    def connections(self) -> int:
        return len(self.peers)

    def url(self, path: str = "/v1/judge") -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        for peer in self.peers:
            peer.writer.transport.abort()
        for task in self._tasks:  # scripts still waiting (on an event the test never set)
            task.cancel()
        await asyncio.gather(*self._tasks)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = Peer(len(self.peers), reader, writer)
        self.peers.append(peer)
        try:
            await self.script(peer)
        except ConnectionError:
            pass  # the client went away while the script wrote: the test checks what it got
        except asyncio.CancelledError:
            pass  # stopped at the test's end: the task ends quietly (no asyncio error log)
        except Exception as exc:
            self.errors.append(exc)
        finally:
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()


@contextlib.asynccontextmanager
async def serving(
    script: Script,
    *,
    tls: ssl.SSLContext | None = None,
    max_body_bytes: int = CAP,
) -> AsyncIterator[tuple[Server, ConnectionPool]]:
    """A started server running ``script`` and a pool to it; both closed at the end."""
    server = Server(script, tls)
    await server.start()
    pool = ConnectionPool(Endpoint.parse(server.url()), max_body_bytes)
    try:
        yield server, pool
    finally:
        pool.close()
        await server.stop()
    assert not server.errors, server.errors


def run(scenario: Coroutine[Any, Any, None]) -> None:
    """Run one test's scenario on a fresh event loop; a hang fails in seconds, not minutes."""

    async def bounded() -> None:
        await asyncio.wait_for(scenario, 10)

    asyncio.run(bounded())


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait (a few loop turns, at most 2 s) until ``condition()`` holds."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


def idle_open(pool: ConnectionPool) -> list[bool]:
    """White-box: whether each idle connection of ``pool`` is still open, oldest first."""
    return [conn.is_open for conn in pool._idle]


async def ask(pool: ConnectionPool, body: bytes = b"") -> Reply:
    """One POST to the pool's endpoint with ``body``."""
    head = pool.endpoint.request_head("POST", {"Content-Type": "application/json"})
    return await pool.request(head, body)


# -- replies --------------------------------------------------------------------------------------


def http(
    status: str,
    headers: Iterable[str] = (),
    body: bytes = b"",
    *,
    version: str = "HTTP/1.1",
    length: bool = True,
) -> bytes:
    """A reply's bytes; with ``Content-Length`` unless ``length`` is false."""
    lines = [f"{version} {status}", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(headers: Iterable[str], pieces: Iterable[bytes], trailer: bytes = b"") -> bytes:
    """A 200 reply with a chunked body made of ``pieces``."""
    head = http("200 OK", [*headers, "Transfer-Encoding: chunked"], length=False)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    return head + chunks + b"0\r\n" + trailer + b"\r\n"


def ok(body: bytes) -> bytes:
    return http("200 OK", ["Content-Type: application/json"], body)


def body_of(request: bytes) -> bytes:
    return request.partition(b"\r\n\r\n")[2]


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


# -- scripts --------------------------------------------------------------------------------------


async def echo(peer: Peer, times: int | None = None) -> None:
    """Answer each request with its own body (``times`` requests, or until the client closes)."""
    count = 0
    while times is None or count < times:
        request = await peer.read_request()
        if request is None:
            return
        await peer.send(ok(body_of(request)))
        count += 1


def per_connection(*scripts: Script) -> Script:
    """Connection i runs ``scripts[i]``; later connections run the last one."""

    async def script(peer: Peer) -> None:
        await scripts[min(peer.index, len(scripts) - 1)](peer)

    return script


def answering(reply: bytes, *, close: bool = False, bytewise: bool = False) -> Script:
    """Answer every request with ``reply``; with ``close``, close after the first reply."""

    async def script(peer: Peer) -> None:
        while await peer.read_request() is not None:
            await peer.send(reply, bytewise=bytewise)
            if close:
                await peer.close()
                return

    return script


def once(reply: bytes, *, then: str = "wait") -> Script:
    """Answer one request with ``reply``, then ``wait`` for the client's close or ``close``."""

    async def script(peer: Peer) -> None:
        if await peer.read_request() is None:
            return
        await peer.send(reply)
        if then == "close":
            await peer.close()
        else:
            await peer.closed_by_client()

    return script


# -- Endpoint -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/x", ("h", 80, False, "/x", "h")),  # http's default port, not in Host
        ("https://h/x", ("h", 443, True, "/x", "h")),  # https's default port
        ("http://h:8000/v1", ("h", 8000, False, "/v1", "h:8000")),  # explicit port
        ("https://h:8443", ("h", 8443, True, "/", "h:8443")),  # no path: "/"
        ("https://h:443/v1", ("h", 443, True, "/v1", "h")),  # the default, spelled out
        ("http://h:443/v1", ("h", 443, False, "/v1", "h:443")),  # 443 is not http's default
        ("http://[::1]:8000/v1", ("::1", 8000, False, "/v1", "[::1]:8000")),  # IPv6 literal
        ("http://[::1]/v1", ("::1", 80, False, "/v1", "[::1]")),  # IPv6, default port
        ("http://h/v1/c?a=1&b=%20", ("h", 80, False, "/v1/c?a=1&b=%20", "h")),  # query kept
        ("http://h/v1#part", ("h", 80, False, "/v1", "h")),  # fragment never sent
        ("HTTP://Judge.Local/V1", ("judge.local", 80, False, "/V1", "judge.local")),  # case
        ("http://u:pw@h:81/x", ("h", 81, False, "/x", "h:81")),  # userinfo not in Host
    ],
)
def test_endpoint_parse(url: str, expected: tuple[str, int, bool, str, str]) -> None:
    assert dataclasses.astuple(Endpoint.parse(url)) == expected  # host, port, tls, target, Host


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x/y",  # another scheme
        "http:///v1",  # no host
        "127.0.0.1:8000/v1",  # no scheme
        "",  # nothing
        "http://h:99999/",  # port out of range
        "http://h:port/",  # port not a number
    ],
)
def test_endpoint_parse_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        Endpoint.parse(url)


def test_request_head_ends_where_the_length_goes() -> None:
    head = Endpoint.parse("http://[::1]:8000/v1?x=1").request_head("PUT", {"A": "b", "C": "d"})
    assert head == b"PUT /v1?x=1 HTTP/1.1\r\nHost: [::1]:8000\r\nA: b\r\nC: d\r\nContent-Length: "


@pytest.mark.parametrize(
    ("method", "headers", "bodies"),
    [
        # a judge call: JSON POST with auth, twice on one connection
        (
            "POST",
            {"Content-Type": "application/json", "Authorization": "Bearer sk-1"},
            [b'{"a": 1}', b'{"b": 22}'],
        ),
        ("GET", {}, [b"", b""]),  # no body: Content-Length: 0 all the same
        ("POST", {"X-Tag": "caf\u00e9"}, [b"\x00\xff" * 300]),  # latin-1 header, binary body
    ],
)
def test_the_server_receives_exactly_the_request(
    method: str, headers: dict[str, str], bodies: list[bytes]
) -> None:
    async def scenario() -> None:
        async with serving(echo) as (server, pool):
            head = pool.endpoint.request_head(method, headers)
            for body in bodies:
                assert (await pool.request(head, body)).body == body
            pool.close()
            assert await server.peers[0].closed_by_client()  # nothing more than the requests
        header_lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        expected = [
            f"{method} /v1/judge HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{header_lines}"
            f"Content-Length: {len(body)}\r\n\r\n".encode("latin-1")
            + body
            for body in bodies
        ]
        assert server.peers[0].requests == expected
        assert server.connections == 1

    run(scenario())


# -- keep-alive -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "headers", "connections"),
    [
        ("HTTP/1.1", [], 1),  # HTTP/1.1 keeps the connection by default: one for all
        ("HTTP/1.1", ["Connection: keep-alive"], 1),  # said out loud
        ("HTTP/1.1", ["Connection: close"], 3),  # the server will close: never reused
        ("HTTP/1.1", ["connection: CLOSE"], 3),  # header names and values in any case
        ("HTTP/1.0", [], 3),  # HTTP/1.0 closes by default
        ("HTTP/1.0", ["Connection: keep-alive"], 1),  # unless it says keep-alive
    ],
)
def test_keep_alive_reuse(version: str, headers: list[str], connections: int) -> None:
    async def script(peer: Peer) -> None:
        while (request := await peer.read_request()) is not None:
            await peer.send(http("200 OK", headers, body_of(request), version=version))
        # the server never closes: a connection not reused was closed by the client

    async def scenario() -> None:
        async with serving(script) as (server, pool):
            for i in range(3):
                assert await ask(pool, b"%d" % i) == Reply(200, b"%d" % i, None)
            assert server.connections == connections
            assert [len(peer.requests) for peer in server.peers] == [3 // connections] * connections
            for peer in server.peers[:-1]:  # those not reused were closed by the client
                assert await peer.closed_by_client()

    run(scenario())


def test_idle_connections_are_reused_newest_first() -> None:
    async def scenario() -> None:
        async with serving(echo) as (server, pool):
            await asyncio.gather(ask(pool, b"a"), ask(pool, b"b"))  # two connections
            assert server.connections == 2
            newest = pool._idle[-1]
            assert await ask(pool, b"c") == Reply(200, b"c", None)
            assert pool._idle[-1] is newest and server.connections == 2

    run(scenario())


def test_close_closes_idle_connections_and_the_pool_stays_usable() -> None:
    async def scenario() -> None:
        async with serving(echo) as (server, pool):
            await asyncio.gather(*(ask(pool, b"%d" % i) for i in range(3)))
            pool.close()
            assert [await peer.closed_by_client() for peer in server.peers] == [True] * 3
            assert await ask(pool, b"again") == Reply(200, b"again", None)
            assert server.connections == 4

    run(scenario())


# -- connections the server closes ----------------------------------------------------------------


@pytest.mark.parametrize("how", ["fin", "rst"])  # an orderly close / a reset
def test_reused_connection_closed_before_replying_is_retried_once(how: str) -> None:
    async def first(peer: Peer) -> None:  # the keep-alive race: reply, then drop the next one
        await echo(peer, times=1)
        await peer.read_request()
        await peer.close(how)

    async def scenario() -> None:
        async with serving(per_connection(first, echo)) as (server, pool):
            assert await ask(pool, b"1") == Reply(200, b"1", None)
            assert await ask(pool, b"2") == Reply(200, b"2", None)  # no error for the caller
            assert server.connections == 2
            first_requests, second_requests = (peer.requests for peer in server.peers)
            assert [body_of(r) for r in first_requests] == [b"1", b"2"]
            assert second_requests == first_requests[1:]  # the same bytes, sent again
            assert await ask(pool, b"3") == Reply(200, b"3", None)  # the new one is kept
            assert server.connections == 2

    run(scenario())


@pytest.mark.parametrize(
    ("scripts", "connections"),
    [
        pytest.param(["drop"], 1, id="fresh"),  # a fresh connection dropped: no retry
        pytest.param(  # a reused one dropped, then its replacement: one retry only
            ["reply", "drop", "drop"], 2, id="reused-then-fresh"
        ),
    ],
)
@pytest.mark.parametrize("how", ["fin", "rst"])  # an orderly close / a reset
def test_fresh_connection_closed_before_replying_fails(
    scripts: list[str], connections: int, how: str
) -> None:
    async def drop(peer: Peer) -> None:
        await peer.read_request()
        await peer.close(how)

    async def reply(peer: Peer) -> None:
        await echo(peer, times=1)
        await drop(peer)

    async def scenario() -> None:
        by_name: dict[str, Script] = {"drop": drop, "reply": reply}
        async with serving(per_connection(*(by_name[name] for name in scripts))) as (server, pool):
            if scripts[0] == "reply":
                await ask(pool, b"0")
            with pytest.raises(ConnectionFailed) as info:
                await ask(pool, b"1")
            assert type(info.value) is ConnectionFailed  # the public class, not the internal one
            assert "closed the connection before replying" in str(info.value)
            assert server.connections == connections
            assert pool._idle == []

    run(scenario())


@pytest.mark.parametrize("dead", [1, 3])  # idle connections the server closed
@pytest.mark.parametrize("how", ["fin", "rst"])  # an orderly close / a reset
def test_connection_closed_while_idle_is_skipped(dead: int, how: str) -> None:
    async def reply_then_close(peer: Peer) -> None:
        await echo(peer, times=1)
        await peer.close(how)

    async def scenario() -> None:
        scripts = [reply_then_close] * dead + [echo]
        async with serving(per_connection(*scripts)) as (server, pool):
            await asyncio.gather(*(ask(pool, b"%d" % i) for i in range(dead)))
            assert server.connections == dead
            await eventually(lambda: idle_open(pool) == [False] * dead)  # the client saw it
            assert await ask(pool, b"next") == Reply(200, b"next", None)
            assert server.connections == dead + 1
            assert [len(peer.requests) for peer in server.peers] == [1] * (dead + 1)
            assert idle_open(pool) == [True]  # the closed ones are gone

    run(scenario())


def test_connection_refused() -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

        async def scenario() -> None:
            pool = ConnectionPool(Endpoint.parse(f"http://127.0.0.1:{port}/v1"))
            with pytest.raises(ConnectionFailed) as info:
                await ask(pool)
            assert str(info.value).startswith(f"cannot connect to 127.0.0.1:{port}: ")
            assert "ConnectionRefusedError" in str(info.value)
            assert isinstance(info.value, ConnectionError)  # catchable as the builtin
            assert info.value.__cause__ is None and info.value.__suppress_context__

        run(scenario())


# -- framing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected", "reused"),
    [
        pytest.param(  # Content-Length
            http("200 OK", [], b"hello"), Reply(200, b"hello", None), True, id="length"
        ),
        pytest.param(  # header names in lower case
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
            Reply(200, b"hi", None),
            True,
            id="length-lowercase",
        ),
        pytest.param(  # a body of exactly the cap
            http("200 OK", [], b"x" * CAP), Reply(200, b"x" * CAP, None), True, id="length-cap"
        ),
        pytest.param(  # chunked, several chunks
            chunked([], [b"hel", b"lo ", b"wor", b"ld"]),
            Reply(200, b"hello world", None),
            True,
            id="chunked",
        ),
        pytest.param(  # chunked with a chunk extension and a trailer
            http("200 OK", ["Transfer-Encoding: chunked"], length=False)
            + b"2;ext=1\r\nhi\r\n0\r\nX-Trailer: t\r\n\r\n",
            Reply(200, b"hi", None),
            True,
            id="chunked-extension-trailer",
        ),
        pytest.param(  # chunks adding up to exactly the cap
            chunked([], [b"y" * 400] * 2 + [b"y" * 200]),
            Reply(200, b"y" * CAP, None),
            True,
            id="chunked-cap",
        ),
        pytest.param(  # 100 Continue, then the reply
            http("100 Continue", length=False) + http("200 OK", [], b"ok"),
            Reply(200, b"ok", None),
            True,
            id="100-continue",
        ),
        pytest.param(  # two interim replies, then the reply
            http("103 Early Hints", ["Link: </s.css>"], length=False)
            + http("100 Continue", length=False)
            + chunked([], [b"ok"]),
            Reply(200, b"ok", None),
            True,
            id="103-100-chunked",
        ),
        pytest.param(  # rate limited: Retry-After for the caller's back-off
            http("429 Too Many Requests", ["Retry-After: 3"]),
            Reply(429, b"", "3"),
            True,
            id="429-retry-after",
        ),
        pytest.param(  # Retry-After as an HTTP date, spaces trimmed
            http("503 Service Unavailable", ["retry-after:  Wed, 21 Oct 2015 07:28:00 GMT "]),
            Reply(503, b"", "Wed, 21 Oct 2015 07:28:00 GMT"),
            True,
            id="503-retry-after-date",
        ),
        pytest.param(  # no body at all, no length
            http("204 No Content", length=False), Reply(204, b"", None), True, id="204"
        ),
        pytest.param(  # Content-Length: 0
            http("200 OK", [], b""), Reply(200, b"", None), True, id="length-0"
        ),
        pytest.param(  # a redirect is returned as it is
            http("302 Found", ["Location: /elsewhere"]),
            Reply(302, b"", None),
            True,
            id="302",
        ),
        pytest.param(  # an error reply with a body
            http("500 Oops", [], b"trace"), Reply(500, b"trace", None), True, id="500"
        ),
        pytest.param(  # no length: the body ends with the connection
            http("200 OK", [], b"until the end", length=False),
            Reply(200, b"until the end", None),
            False,
            id="close-delimited",
        ),
        pytest.param(  # HTTP/1.0, no length
            http("200 OK", [], b"old", version="HTTP/1.0", length=False),
            Reply(200, b"old", None),
            False,
            id="close-delimited-1.0",
        ),
    ],
)
@pytest.mark.parametrize(  # in one write / one byte per write (one TCP segment each)
    "bytewise", [pytest.param(False, id="whole"), pytest.param(True, id="bytewise")]
)
def test_framing(reply: bytes, expected: Reply, reused: bool, bytewise: bool) -> None:
    async def scenario() -> None:
        script = answering(reply, close=not reused, bytewise=bytewise)
        async with serving(script) as (server, pool):
            assert await ask(pool, b"1") == expected
            assert await ask(pool, b"2") == expected
            assert server.connections == (1 if reused else 2)

    run(scenario())


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        pytest.param(  # gzip
            http("200 OK", ["Content-Encoding: gzip"], gzip.compress(PAYLOAD)), PAYLOAD, id="gzip"
        ),
        pytest.param(  # gzip's old name
            http("200 OK", ["Content-Encoding: x-gzip"], gzip.compress(PAYLOAD)),
            PAYLOAD,
            id="x-gzip",
        ),
        pytest.param(  # names and values in any case
            http("200 OK", ["content-encoding: GZIP"], gzip.compress(PAYLOAD)),
            PAYLOAD,
            id="gzip-case",
        ),
        pytest.param(  # deflate as the RFC says: zlib-wrapped
            http("200 OK", ["Content-Encoding: deflate"], zlib.compress(PAYLOAD)),
            PAYLOAD,
            id="deflate-zlib",
        ),
        pytest.param(  # deflate as some servers send it: raw
            http("200 OK", ["Content-Encoding: deflate"], raw_deflate(PAYLOAD)),
            PAYLOAD,
            id="deflate-raw",
        ),
        pytest.param(  # named, nothing to undo
            http("200 OK", ["Content-Encoding: identity"], PAYLOAD), PAYLOAD, id="identity"
        ),
        pytest.param(  # gzip in chunks, split inside the stream
            chunked(["Content-Encoding: gzip"], [GZIPPED[:10], GZIPPED[10:]]),
            PAYLOAD,
            id="gzip-chunked",
        ),
        pytest.param(  # decompressed to exactly the cap
            http("200 OK", ["Content-Encoding: gzip"], gzip.compress(b"z" * CAP)),
            b"z" * CAP,
            id="gzip-cap",
        ),
        pytest.param(  # an empty body stays empty
            http("200 OK", ["Content-Encoding: gzip"], b""), b"", id="gzip-empty"
        ),
        pytest.param(  # no body at all
            http("204 No Content", ["Content-Encoding: gzip"], length=False), b"", id="gzip-204"
        ),
    ],
)
def test_compressed_bodies_are_decompressed(reply: bytes, expected: bytes) -> None:
    async def scenario() -> None:
        async with serving(answering(reply)) as (server, pool):
            assert (await ask(pool, b"1")).body == expected
            assert (await ask(pool, b"2")).body == expected
            assert server.connections == 1

    run(scenario())


# -- replies that fail ----------------------------------------------------------------------------

CHUNKED_HEAD = http("200 OK", ["Transfer-Encoding: chunked"], length=False)
GZIP_BOMB = gzip.compress(b"\0" * 1_000_000)  # about 1 kB that inflates to 1 MB
assert len(GZIP_BOMB) < 2 * CAP


@pytest.mark.parametrize(
    ("reply", "then", "error", "message"),
    [
        # -- over the cap
        pytest.param(  # Content-Length: one byte over
            http("200 OK", [], b"x" * (CAP + 1)),
            "wait",
            ReplyTooLarge,
            "larger than 1000",
            id="length-over-cap",
        ),
        pytest.param(  # chunked, each chunk under the cap
            chunked([], [b"x" * 400] * 3),
            "wait",
            ReplyTooLarge,
            "larger than 1000",
            id="chunked-over-cap",
        ),
        pytest.param(  # a Content-Length far over the cap, the rest of the body never sent
            http("200 OK", ["Content-Length: 1000000000"], b"x" * (CAP + 1), length=False),
            "wait",
            ReplyTooLarge,
            "larger than 1000",
            id="length-huge",
        ),
        pytest.param(  # no length, ended by the close
            http("200 OK", [], b"x" * (CAP + 1), length=False),
            "close",
            ReplyTooLarge,
            "larger than 1000",
            id="close-delimited-over-cap",
        ),
        pytest.param(  # a gzip bomb: small on the wire, over the cap inflated
            http("200 OK", ["Content-Encoding: gzip"], GZIP_BOMB),
            "wait",
            ReplyTooLarge,
            "larger than 1000",
            id="gzip-bomb",
        ),
        pytest.param(  # a deflate bomb
            http("200 OK", ["Content-Encoding: deflate"], zlib.compress(b"\0" * 1_000_000)),
            "wait",
            ReplyTooLarge,
            "larger than 1000",
            id="deflate-bomb",
        ),
        # -- encodings
        pytest.param(  # brotli is not decoded (and never asked for)
            http("200 OK", ["Content-Encoding: br"], b"\x1b\x03"),
            "wait",
            ConnectionFailed,
            "unsupported Content-Encoding 'br'",
            id="br",
        ),
        pytest.param(  # two encodings stacked
            http("200 OK", ["Content-Encoding: gzip, br"], b"\x1b\x03"),
            "wait",
            ConnectionFailed,
            "unsupported Content-Encoding 'gzip, br'",
            id="gzip-br",
        ),
        pytest.param(  # not gzip at all
            http("200 OK", ["Content-Encoding: gzip"], b"not gzip"),
            "wait",
            ConnectionFailed,
            "a corrupt gzip body",
            id="gzip-corrupt",
        ),
        pytest.param(  # a gzip stream cut short (the framing says the body is whole)
            http("200 OK", ["Content-Encoding: gzip"], GZIPPED[:-12]),
            "wait",
            ConnectionFailed,
            "a truncated gzip body",
            id="gzip-truncated",
        ),
        pytest.param(  # a deflate stream cut short
            http("200 OK", ["Content-Encoding: deflate"], zlib.compress(PAYLOAD)[:-8]),
            "wait",
            ConnectionFailed,
            "a truncated deflate body",
            id="deflate-truncated",
        ),
        pytest.param(  # no length, gzip cut short by the close: only the stream tells
            http("200 OK", ["Content-Encoding: gzip"], GZIPPED[:-12], length=False),
            "close",
            ConnectionFailed,
            "a truncated gzip body",
            id="close-delimited-gzip-truncated",
        ),
        # -- malformed HTTP
        pytest.param(  # not HTTP at all
            b"garbage\r\n\r\n",
            "wait",
            ConnectionFailed,
            "malformed HTTP reply",
            id="garbage",
        ),
        pytest.param(  # a status that is no number
            b"HTTP/1.1 2x0 OK\r\n\r\n",
            "wait",
            ConnectionFailed,
            "malformed HTTP reply",
            id="bad-status",
        ),
        pytest.param(  # a Content-Length that is no number
            b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
            "wait",
            ConnectionFailed,
            "malformed HTTP reply",
            id="bad-length",
        ),
        pytest.param(  # a chunk size that is no number
            CHUNKED_HEAD + b"zz\r\nhi\r\n",
            "wait",
            ConnectionFailed,
            "malformed HTTP reply",
            id="bad-chunk-size",
        ),
        # -- the connection dropped in the middle of the reply
        pytest.param(  # inside the head
            b"HTTP/1.1 200 OK\r\nContent-Le",
            "close",
            ConnectionFailed,
            "in the middle",
            id="drop-in-head",
        ),
        pytest.param(  # 10 bytes of a 100-byte body
            http("200 OK", ["Content-Length: 100"], b"x" * 10, length=False),
            "close",
            ConnectionFailed,
            "in the middle",
            id="drop-in-body",
        ),
        pytest.param(  # chunked: inside a chunk
            CHUNKED_HEAD + b"10\r\nabc",
            "close",
            ConnectionFailed,
            "in the middle",
            id="drop-in-chunk",
        ),
        pytest.param(  # chunked: whole chunks but no last one
            CHUNKED_HEAD + b"2\r\nhi\r\n",
            "close",
            ConnectionFailed,
            "in the middle",
            id="drop-before-last-chunk",
        ),
    ],
)
def test_failed_reply_raises_and_the_next_request_gets_a_new_connection(
    reply: bytes, then: str, error: type[ConnectionFailed], message: str
) -> None:
    async def scenario() -> None:
        async with serving(per_connection(once(reply, then=then), echo)) as (server, pool):
            with pytest.raises(ConnectionFailed) as info:
                await ask(pool, b"1")
            assert type(info.value) is error
            assert message in str(info.value)
            if then == "wait":  # the server kept it open: the client closed it
                assert await server.peers[0].closed_by_client()
            assert await ask(pool, b"2") == Reply(200, b"2", None)
            assert server.connections == 2

    run(scenario())


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Le", id="head"),  # part of the head
        pytest.param(  # part of the body
            http("200 OK", ["Content-Length: 100"], b"x" * 10, length=False), id="body"
        ),
        pytest.param(CHUNKED_HEAD + b"2\r\nhi\r\n", id="chunks"),  # no last chunk
        pytest.param(http("100 Continue", length=False), id="interim"),  # only a 100 Continue
    ],
)
def test_reused_connection_dropped_mid_reply_is_not_retried(partial: bytes) -> None:
    async def first(peer: Peer) -> None:
        await echo(peer, times=1)
        await peer.read_request()
        await peer.send(partial)  # bytes of a reply arrived: the request may have been done
        await peer.close()

    async def scenario() -> None:
        async with serving(per_connection(first, echo)) as (server, pool):
            assert await ask(pool, b"1") == Reply(200, b"1", None)
            with pytest.raises(ConnectionFailed, match="in the middle"):
                await ask(pool, b"2")
            assert server.connections == 1  # not sent again
            assert await ask(pool, b"3") == Reply(200, b"3", None)
            assert server.connections == 2

    run(scenario())


# -- replies nobody asked for ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(http("201 Created", [], b"second"), id="reply"),  # a whole second reply
        pytest.param(b"HTTP/1.1 201 Cre", id="part"),  # part of a second reply
        pytest.param(b"garbage", id="garbage"),  # bytes that are no reply
    ],
)
@pytest.mark.parametrize(  # the first reply keeps the connection / says Connection: close
    "close", [pytest.param(False, id="keep-alive"), pytest.param(True, id="close")]
)
def test_extra_reply_in_the_same_write(extra: bytes, close: bool) -> None:
    async def first(peer: Peer) -> None:
        request = await peer.read_request()
        assert request is not None
        headers = ["Connection: close"] if close else []
        await peer.send(http("200 OK", headers, body_of(request)) + extra)
        await peer.closed_by_client()

    async def scenario() -> None:
        async with serving(per_connection(first, echo)) as (server, pool):
            assert await ask(pool, b"1") == Reply(200, b"1", None)  # the first reply
            assert pool._idle == []  # the connection is not trusted any more
            assert await server.peers[0].closed_by_client()
            assert await ask(pool, b"2") == Reply(200, b"2", None)  # its own, not "second"
            assert server.connections == 2

    run(scenario())


def test_extra_reply_while_idle_closes_the_connection() -> None:
    replied = asyncio.Event()

    async def first(peer: Peer) -> None:
        await echo(peer, times=1)
        await replied.wait()
        await peer.send(ok(b"stale"))  # unsolicited, while the connection is idle
        await peer.closed_by_client()

    async def scenario() -> None:
        async with serving(per_connection(first, echo)) as (server, pool):
            assert await ask(pool, b"1") == Reply(200, b"1", None)
            assert idle_open(pool) == [True]
            replied.set()
            await eventually(lambda: idle_open(pool) == [False])  # the client saw the bytes
            assert await server.peers[0].closed_by_client()
            assert await ask(pool, b"2") == Reply(200, b"2", None)  # not "stale"
            assert server.connections == 2

    run(scenario())


# -- cancellation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reused", [False, True])  # the request goes on a fresh / an idle conn
@pytest.mark.parametrize("how", ["cancel", "wait_for"])  # task.cancel() / a wait_for timeout
def test_cancelled_request_leaves_no_reusable_connection(reused: bool, how: str) -> None:
    held = asyncio.Event()
    release = asyncio.Event()

    async def slow(peer: Peer) -> None:
        if reused:
            await echo(peer, times=1)
        request = await peer.read_request()
        assert request is not None
        held.set()
        await release.wait()
        await peer.send(ok(b"stale " + body_of(request)))  # too late: the client gave up
        await peer.closed_by_client()

    async def scenario() -> None:
        async with serving(per_connection(slow, echo)) as (server, pool):
            if reused:
                assert await ask(pool, b"0") == Reply(200, b"0", None)
            if how == "cancel":
                task = asyncio.create_task(ask(pool, b"1"))
                await held.wait()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(ask(pool, b"1"), 0.05)
                assert held.is_set()
            release.set()
            assert await server.peers[0].closed_by_client()  # aborted by the client
            assert pool._idle == []
            assert await ask(pool, b"2") == Reply(200, b"2", None)  # not "stale 1"
            assert await ask(pool, b"3") == Reply(200, b"3", None)
            assert server.connections == 2

    run(scenario())


# -- TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


def client_context(trusted: trustme.CA | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if trusted is not None:
        trusted.configure_trust(context)
    return context


def test_https_request_and_reuse(ca: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_pool, "_tls", client_context(ca))

    async def scenario() -> None:
        async with serving(echo, tls=server_context(ca, "127.0.0.1")) as (server, pool):
            assert pool.endpoint.tls
            for i in range(3):
                assert await ask(pool, b"%d" % i) == Reply(200, b"%d" % i, None)
            assert server.connections == 1

    run(scenario())


@pytest.mark.parametrize(
    ("names", "trusted", "reason"),
    [
        pytest.param(  # a CA the client does not trust
            ["127.0.0.1"], False, "certificate verify failed", id="untrusted-ca"
        ),
        pytest.param(  # a trusted CA, a certificate for another name
            ["localhost"], True, "certificate is not valid for '127.0.0.1'", id="wrong-name"
        ),
    ],
)
def test_https_certificate_rejected(
    ca: trustme.CA,
    monkeypatch: pytest.MonkeyPatch,
    names: list[str],
    trusted: bool,
    reason: str,
) -> None:
    monkeypatch.setattr(http_pool, "_tls", client_context(ca if trusted else None))

    async def scenario() -> None:
        async with serving(echo, tls=server_context(ca, *names)) as (server, pool):
            with pytest.raises(ConnectionFailed) as info:
                await ask(pool)
            message = str(info.value)
            assert message.startswith(f"cannot connect to 127.0.0.1:{server.port}: ")
            assert "certificate" in message and reason in message
            assert pool._idle == []

    run(scenario())


# -- HTTPS through a proxy's CONNECT tunnel --------------------------------------------------------


class TunnelProxy:
    """A CONNECT proxy on 127.0.0.1: answers ``answer`` and, on 200, relays bytes both ways."""

    def __init__(self, answer: bytes = b"HTTP/1.1 200 Connection established\r\n\r\n") -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        writer.write(self.answer)
        if not self.answer.startswith(b"HTTP/1.1 200"):
            writer.close()
            return
        host, port = head.split()[1].decode().rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.mark.parametrize(
    ("proxy_url", "authorization"),
    [
        pytest.param("http://127.0.0.1:{port}", None, id="plain"),
        pytest.param(  # credentials in the URL, percent-encoded, become Basic auth
            "http://judge%40team:s3cr%3At@127.0.0.1:{port}",
            "Basic anVkZ2VAdGVhbTpzM2NyOnQ=",
            id="credentials",
        ),
    ],
)
def test_https_through_a_proxy_tunnel(
    ca: trustme.CA, monkeypatch: pytest.MonkeyPatch, proxy_url: str, authorization: str | None
) -> None:
    monkeypatch.setattr(http_pool, "_tls", client_context(ca))
    proxy = TunnelProxy()

    async def scenario() -> None:
        await proxy.start()
        try:
            async with serving(echo, tls=server_context(ca, "127.0.0.1")) as (server, direct):
                monkeypatch.setenv("HTTPS_PROXY", proxy_url.format(port=proxy.port))
                monkeypatch.delenv("NO_PROXY", raising=False)
                monkeypatch.delenv("no_proxy", raising=False)
                via = Proxy.from_environment(direct.endpoint)
                assert via is not None and (via.host, via.port) == ("127.0.0.1", proxy.port)
                pool = ConnectionPool(direct.endpoint, CAP, via)
                for i in range(3):
                    assert await ask(pool, b"%d" % i) == Reply(200, b"%d" % i, None)
                pool.close()
                assert server.connections == 1 and len(proxy.requests) == 1
                (head,) = proxy.requests
                assert head.startswith(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n" % server.port)
                sent = f"Proxy-Authorization: {authorization}\r\n".encode()
                assert (sent in head) is (authorization is not None)
        finally:
            await proxy.stop()

    run(scenario())


def test_proxy_refusing_the_tunnel_fails_with_its_status(
    ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_pool, "_tls", client_context(ca))
    proxy = TunnelProxy(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")

    async def scenario() -> None:
        await proxy.start()
        try:
            endpoint = Endpoint.parse("https://127.0.0.1:9/v1")
            pool = ConnectionPool(endpoint, CAP, Proxy("127.0.0.1", proxy.port))
            with pytest.raises(ConnectionFailed, match=r"refused a tunnel .*\(HTTP 407\)"):
                await ask(pool)
        finally:
            await proxy.stop()

    run(scenario())


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        # only https:// goes through the proxy; http:// judges are reached directly
        ("https://api.example.com/v1", {"HTTPS_PROXY": "http://p:3128"}, ("p", 3128)),
        ("http://10.0.0.5:8000/v1", {"HTTPS_PROXY": "http://p:3128"}, None),
        ("https://api.example.com/v1", {}, None),
        # NO_PROXY exempts hosts and domains
        (
            "https://api.example.com/v1",
            {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "example.com"},
            None,
        ),
        (
            "https://api.other.com/v1",
            {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "example.com"},
            ("p", 3128),
        ),
        # lower-case names work too; a proxy without a port uses 80
        ("https://api.example.com/v1", {"https_proxy": "http://p"}, ("p", 80)),
    ],
)
def test_proxy_from_environment(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    env: dict[str, str],
    expected: tuple[str, int] | None,
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    proxy = Proxy.from_environment(Endpoint.parse(url))
    assert (proxy and (proxy.host, proxy.port)) == expected


def test_proxy_must_be_http() -> None:
    with pytest.raises(ValueError, match="http:// URL"):
        Proxy.parse("socks5://127.0.0.1:1080")


# -- many at once ---------------------------------------------------------------------------------


def test_many_concurrent_requests_each_get_their_own_reply() -> None:
    async def delayed_echo(peer: Peer) -> None:
        while (request := await peer.read_request()) is not None:
            number = json.loads(body_of(request))["id"]
            await asyncio.sleep((number * 7 % 10) / 1000)  # replies finish out of order
            await peer.send(ok(json.dumps({"echo": number}).encode()))

    async def one(pool: ConnectionPool, number: int) -> int:
        reply = await ask(pool, json.dumps({"id": number}).encode())
        assert reply.status == 200
        return json.loads(reply.body)["echo"]

    async def scenario() -> None:
        async with serving(delayed_echo) as (server, pool):
            numbers = list(range(50))
            assert await asyncio.gather(*(one(pool, n) for n in numbers)) == numbers
            assert server.connections == 50  # one exchange per connection at a time
            assert idle_open(pool) == [True] * 50
            numbers = list(range(50, 100))
            assert await asyncio.gather(*(one(pool, n) for n in numbers)) == numbers
            assert server.connections == 50  # the second round reused them all
            assert sorted(len(peer.requests) for peer in server.peers) == [2] * 50

    run(scenario())
