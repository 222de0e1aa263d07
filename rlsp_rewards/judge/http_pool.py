"""Keep-alive HTTP/1.1 connections to one server, for many small JSON exchanges on one loop.

The judge's transport. A judge call is one POST of a few kB answered by a few kB, and a training
step makes thousands of them, so what matters is the client's CPU per exchange: here a request
is one write of pre-built bytes and a reply is parsed by httptools (the C parser uvicorn uses),
about 0.1 ms of CPU per exchange against 0.3 ms for aiohttp (``rlsp-rewards bench --judge``).

What it does, and nothing more: ``http://`` and ``https://`` (TLS verified against the system's
certificates, or ``SSL_CERT_FILE``), one request at a time per connection, idle connections
reused newest first, a reused connection that the server closed before replying replaced once
at no cost to the caller, replies framed by ``Content-Length``, chunked or ended by the close of
the connection, 1xx replies skipped, a cap on reply bodies, ``gzip``/``deflate`` bodies
decompressed (none are asked for), ``https://`` through an HTTP proxy's ``CONNECT`` tunnel
(:class:`Proxy`). No redirects (a 3xx is returned as it is), no cookies. Time limits belong to
the caller: a cancelled exchange aborts its connection, which is never reused.

Example:
    >>> endpoint = Endpoint.parse("https://api.example.com/v1/chat/completions?v=2")
    >>> endpoint.host, endpoint.port, endpoint.tls, endpoint.target
    ('api.example.com', 443, True, '/v1/chat/completions?v=2')
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import ssl
import urllib.parse
import urllib.request
import zlib
from typing import Any, NamedTuple

__all__ = ["ConnectionFailed", "ConnectionPool", "Endpoint", "Proxy", "Reply", "ReplyTooLarge"]

#: Idle connections kept per pool beyond those in use (more are closed when they come back).
_MAX_IDLE = 256


class ConnectionFailed(ConnectionError):
    """No whole reply: the connection could not be made, broke, or carried a malformed reply."""


class ReplyTooLarge(ConnectionFailed):
    """The reply's body is over the pool's cap (retrying would only fetch it again)."""


class Reply(NamedTuple):
    """A whole HTTP reply.

    Attributes:
        status: the status code.
        body: the body, decompressed.
        retry_after: the ``Retry-After`` header, if any.
    """

    status: int
    body: bytes
    retry_after: str | None


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """A URL taken apart once: where to connect and what to ask for.

    Example:
        >>> Endpoint.parse("http://[::1]:8000/v1/models").host_header
        '[::1]:8000'
    """

    host: str
    port: int
    tls: bool
    target: str
    host_header: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """The endpoint of an ``http://`` or ``https://`` URL.

        Raises:
            ValueError: for another scheme, no host, or a bad port.
        """
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http:// or https:// URL with a host: {url!r}")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)  # .port raises ValueError on a bad port
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname
        shown = f"[{host}]" if ":" in host else host
        default_port = port == (443 if tls else 80)
        return cls(host, port, tls, target, shown if default_port else f"{shown}:{port}")

    def request_head(self, method: str, headers: dict[str, str]) -> bytes:
        """The request line and headers up to ``Content-Length: `` (the length comes last).

        Example:
            >>> Endpoint.parse("http://h:1/x").request_head("GET", {"Accept": "*/*"})
            b'GET /x HTTP/1.1\\r\\nHost: h:1\\r\\nAccept: */*\\r\\nContent-Length: '
        """
        lines = [f"{method} {self.target} HTTP/1.1", f"Host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")


class ConnectionPool:
    """Connections to one host and port, on the event loop that uses the pool.

    Example:
        >>> async def main():
        ...     pool = ConnectionPool(Endpoint.parse("http://127.0.0.1:9/"))  # nobody listens
        ...     try:
        ...         await pool.request(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: ", b"")
        ...     except ConnectionFailed as exc:
        ...         return str(exc).split(": ")[0]
        >>> asyncio.run(main())
        'cannot connect to 127.0.0.1:9'
    """

    def __init__(
        self,
        endpoint: Endpoint,
        max_body_bytes: int = 4 * 1024 * 1024,
        proxy: Proxy | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.max_body_bytes = max_body_bytes
        self.proxy = proxy
        self._idle: list[_Connection] = []

    async def request(self, head: bytes, body: bytes) -> Reply:
        """Send ``head`` (see :meth:`Endpoint.request_head`), the body's length, then ``body``.

        Raises:
            ConnectionFailed: when no whole reply arrived.
        """
        data = b"%s%d\r\n\r\n%s" % (head, len(body), body)
        while self._idle:
            conn = self._idle.pop()
            if conn.is_open:
                try:
                    return self._done(conn, await conn.exchange(data))
                except _ClosedBeforeReply:
                    break  # the server dropped an idle connection: one fresh try
        conn = await self._connect()
        try:
            return self._done(conn, await conn.exchange(data))
        except _ClosedBeforeReply as exc:
            raise ConnectionFailed(str(exc)) from None

    def close(self) -> None:
        """Close the idle connections (those in use close when their exchange ends)."""
        while self._idle:
            self._idle.pop().close()

    def _done(self, conn: _Connection, reply: Reply) -> Reply:
        if conn.reusable and len(self._idle) < _MAX_IDLE:
            self._idle.append(conn)
        else:
            conn.close()
        return reply

    async def _connect(self) -> _Connection:
        if self.proxy is not None and self.endpoint.tls:
            return await self._tunnel(self.proxy)
        loop = asyncio.get_running_loop()
        where = self.endpoint
        try:
            _, conn = await loop.create_connection(
                lambda: _Connection(self.max_body_bytes),
                where.host,
                where.port,
                ssl=_tls_context() if where.tls else None,
            )
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            raise ConnectionFailed(
                f"cannot connect to {where.host}:{where.port}: {type(exc).__name__}: {exc}"
            ) from None
        return conn

    async def _tunnel(self, proxy: Proxy) -> _Connection:
        """A TLS connection to the endpoint through ``proxy``'s ``CONNECT`` tunnel."""
        loop = asyncio.get_running_loop()
        where = self.endpoint
        try:
            transport, handshake = await loop.create_connection(
                _TunnelHandshake, proxy.host, proxy.port
            )
        except OSError as exc:
            raise ConnectionFailed(
                f"cannot connect to the proxy {proxy.host}:{proxy.port}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        try:
            authority = f"[{where.host}]" if ":" in where.host else where.host
            authority = f"{authority}:{where.port}"
            request = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
            if proxy.authorization:
                request += f"Proxy-Authorization: {proxy.authorization}\r\n"
            transport.write((request + "\r\n").encode("latin-1"))
            status = await handshake.status
            if status != 200:
                raise ConnectionFailed(
                    f"the proxy {proxy.host}:{proxy.port} refused a tunnel to {authority} "
                    f"(HTTP {status})"
                )
            conn = _Connection(self.max_body_bytes)
            tls = await loop.start_tls(transport, conn, _tls_context(), server_hostname=where.host)
        except OSError as exc:  # the TLS handshake through the tunnel failed
            transport.abort()
            raise ConnectionFailed(
                f"cannot connect to {where.host}:{where.port} through the proxy "
                f"{proxy.host}:{proxy.port}: {type(exc).__name__}: {exc}"
            ) from None
        except BaseException:
            transport.abort()
            raise
        conn.connection_made(tls)  # type: ignore[arg-type]  # start_tls does not call it
        return conn


@dataclasses.dataclass(frozen=True)
class Proxy:
    """An HTTP proxy that tunnels ``https://`` connections (``CONNECT``).

    Attributes:
        host: the proxy's host.
        port: the proxy's port.
        authorization: the ``Proxy-Authorization`` value, from credentials in the proxy URL.

    Example:
        >>> Proxy.parse("http://user:p%40ss@proxy.local:3128").authorization
        'Basic dXNlcjpwQHNz'
    """

    host: str
    port: int
    authorization: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> Proxy:
        """A proxy from its URL (``http://[user:password@]host[:port]``; port 80 by default).

        Raises:
            ValueError: for another scheme or no host.
        """
        parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"a proxy must be an http:// URL with a host, got {url!r}")
        authorization = None
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            password = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            authorization = f"Basic {token}"
        return cls(parts.hostname, parts.port or 80, authorization)

    @classmethod
    def from_environment(cls, endpoint: Endpoint) -> Proxy | None:
        """The proxy ``HTTPS_PROXY`` names for an ``https://`` endpoint, unless ``NO_PROXY``
        exempts its host; ``None`` for ``http://`` endpoints, which are always reached directly.

        Raises:
            ValueError: when ``HTTPS_PROXY`` is not an ``http://`` URL.
        """
        if not endpoint.tls:
            return None
        url = urllib.request.getproxies().get("https")
        if not url or urllib.request.proxy_bypass(endpoint.host):
            return None
        return cls.parse(url)


class _TunnelHandshake(asyncio.Protocol):
    """Reads the proxy's answer to ``CONNECT`` (its status line and headers, nothing more)."""

    def __init__(self) -> None:
        self.status: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._head = b""

    def data_received(self, data: bytes) -> None:
        self._head += data
        if b"\r\n\r\n" in self._head and not self.status.done():
            line = self._head.split(b"\r\n", 1)[0].split()
            code = int(line[1]) if len(line) > 1 and line[1].isdigit() else 0
            self.status.set_result(code)
        elif len(self._head) > 65536 and not self.status.done():
            self.status.set_exception(ConnectionFailed("the proxy's answer has no end"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.status.done():
            self.status.set_exception(ConnectionFailed("the proxy closed the connection"))


class _ClosedBeforeReply(ConnectionFailed):
    """The connection closed before any byte of the reply (safe to try a fresh one)."""


class _Connection(asyncio.Protocol):
    """One connection: one exchange at a time, parsed as it arrives."""

    def __init__(self, max_body_bytes: int) -> None:
        import httptools

        self._httptools = httptools
        self._max_body = max_body_bytes
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Reply] | None = None
        self.is_open = False
        self.reusable = False
        self._reset()

    def _reset(self) -> None:
        self._parser: Any = self._httptools.HttpResponseParser(self)
        self._chunks: list[bytes] = []
        self._size = 0
        self._received = False
        self._headers_done = False
        self._framed = False
        self._complete = False
        self._unsolicited = False
        self._status = 0
        self._keep_alive = False
        self._retry_after: str | None = None
        self._encoding = b""

    async def exchange(self, data: bytes) -> Reply:
        assert self._transport is not None and self._waiter is None
        self._reset()
        self.reusable = False
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        self._transport.write(data)
        try:
            return await waiter
        except BaseException:  # cancelled (a timeout) or failed: the stream is out of step
            self._waiter = None
            self.close()
            raise

    def close(self) -> None:
        self.is_open = False
        if self._transport is not None:
            self._transport.abort()

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self.is_open = True

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # bytes nobody asked for: the connection cannot be trusted
            self.close()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except self._httptools.HttpParserError as exc:
            if not self._complete:
                self._fail(ConnectionFailed(f"malformed HTTP reply ({type(exc).__name__}: {exc})"))
                return
            self._unsolicited = True  # bytes after a whole reply: take it, drop the connection
        if self._size > self._max_body:
            self._fail(ReplyTooLarge(f"the reply is larger than {self._max_body} bytes"))
        elif self._complete:
            self._finish(keep_alive=self._keep_alive and not self._unsolicited)

    def connection_lost(self, exc: Exception | None) -> None:
        self.is_open = False
        if self._waiter is None:
            return
        if self._headers_done and not self._framed:  # a body that ends with the connection
            self._finish(keep_alive=False)
        elif not self._received:
            self._fail(_ClosedBeforeReply("the server closed the connection before replying"))
        else:
            self._fail(ConnectionFailed("the connection closed in the middle of the reply"))

    # -- httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._complete:  # a second reply to one request: take the first, drop the connection
            self._unsolicited = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._complete:
            return
        name = name.lower()
        if name == b"retry-after":
            self._retry_after = value.decode("latin-1").strip()
        elif name == b"content-encoding":
            self._encoding = value.strip().lower()
        elif name in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        if self._complete:
            return
        self._size += len(body)
        if self._size <= self._max_body:
            self._chunks.append(body)

    def on_message_complete(self) -> None:
        if self._complete:
            return
        if 100 <= self._parser.get_status_code() < 200:  # e.g. 100 Continue: the reply follows
            self._headers_done = self._framed = False
            return
        self._complete = True
        self._status = self._parser.get_status_code()
        self._keep_alive = self._parser.should_keep_alive()  # read now: the parser then resets

    # -- ending an exchange --------------------------------------------------------------------

    def _finish(self, keep_alive: bool) -> None:
        waiter, self._waiter = self._waiter, None
        try:
            body = _decoded(b"".join(self._chunks), self._encoding, self._max_body)
        except ConnectionFailed as exc:
            self._waiter = waiter
            self._fail(exc)
            return
        self.reusable = keep_alive and self.is_open
        if waiter is not None and not waiter.done():
            status = self._status or self._parser.get_status_code()  # or ended by the close
            waiter.set_result(Reply(status, body, self._retry_after))

    def _fail(self, exc: ConnectionFailed) -> None:
        waiter, self._waiter = self._waiter, None
        self.close()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


def _decoded(body: bytes, encoding: bytes, limit: int) -> bytes:
    """``body`` without its ``Content-Encoding`` (gzip or deflate), at most ``limit`` bytes.

    Example:
        >>> _decoded(zlib.compress(b"{}"), b"deflate", 100)
        b'{}'
    """
    if encoding in (b"", b"identity"):
        return body
    if encoding not in (b"gzip", b"x-gzip", b"deflate"):
        raise ConnectionFailed(f"unsupported Content-Encoding {encoding.decode('latin-1')!r}")
    wbits = 31 if encoding != b"deflate" else (15 if body[:1] == b"\x78" else -15)
    decompressor = zlib.decompressobj(wbits)
    try:
        data = decompressor.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ConnectionFailed(f"a corrupt {encoding.decode()} body: {exc}") from None
    if len(data) > limit:
        raise ReplyTooLarge(f"the reply is larger than {limit} bytes")
    if body and not decompressor.eof:
        raise ConnectionFailed(f"a truncated {encoding.decode()} body")
    return data


_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    """The process's TLS settings: certificates verified, system store or ``SSL_CERT_FILE``."""
    global _tls
    if _tls is None:  # built once (loading the store takes tens of ms); a race builds it twice
        _tls = ssl.create_default_context()
    return _tls
