"""A small HTTP/1.1 client for range reads, on the standard library's ``http.client``.

Why not a bigger library: mmcheck needs exact control over a few things general clients hide —
stop reading a ``200`` the moment enough bytes arrived (a server that ignores ``Range``), count
every request and body byte per file, check ``Content-Range`` and ``ETag`` on every response,
bound every wait by a timeout, retry only what is safe to retry, and close every socket at once
when the user presses Ctrl-C (``abort_all``), so that no thread is left waiting on a read.

Connections are kept alive and reused per origin. ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` are
honoured (CONNECT tunnels for https), and ``SSL_CERT_FILE``/``REQUESTS_CA_BUNDLE`` name a CA bundle.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import contextlib
import functools
import http.client
import os
import random
import re
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeVar
from urllib.parse import urljoin, urlsplit

from mmcheck import __version__
from mmcheck.errors import RemoteError
from mmcheck.remote import Settings, Transfer

USER_AGENT = f"mmcheck/{__version__}"
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
MAX_REDIRECTS = 8
#: error bodies up to this size are read (to keep the connection); larger ones close it
_DISCARD_LIMIT = 64 * 1024

_CONTENT_RANGE = re.compile(r"bytes[ \t]+(\d{1,20})-(\d{1,20})/(\d{1,20}|\*)")
_T = TypeVar("_T")


@dataclass(frozen=True)
class ContentRange:
    """A parsed ``Content-Range: bytes START-LAST/TOTAL``; ``end`` is exclusive, ``total`` may be unknown."""

    start: int
    end: int
    total: int | None


def parse_content_range(value: str | None) -> ContentRange | None:
    """Parse a ``Content-Range`` value (RFC 9110 §14.4); None when absent, malformed or inconsistent
    (last byte before the first, or at/after the total)."""
    if value is None:
        return None
    m = _CONTENT_RANGE.fullmatch(value.strip())
    if m is None:
        return None
    start, last = int(m[1]), int(m[2])
    total = None if m[3] == "*" else int(m[3])
    if last < start or (total is not None and last >= total):
        return None
    return ContentRange(start, last + 1, total)


def format_range(spans: list[tuple[int, int]]) -> str:
    """``bytes=a-b,c-d`` for half-open spans."""
    return "bytes=" + ",".join(f"{s}-{e - 1}" for s, e in spans)


def normalize_etag(value: str | None) -> str | None:
    """An ETag without the weak marker and quotes (``W/"abc"`` -> ``abc``); None when absent."""
    if not value:
        return None
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    return v.strip('"') or None


class Origin(NamedTuple):
    """Where a connection goes: scheme, host (lower case) and port."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> "Origin":
        """The origin of ``url`` (default ports filled in)."""
        p = urlsplit(url)
        scheme = p.scheme.lower()
        if scheme not in ("http", "https") or not p.hostname:
            raise RemoteError(f"not an http(s) URL: {url}")
        try:
            port = p.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise RemoteError(f"bad port in URL: {url}") from None
        return cls(scheme, p.hostname.lower(), port)


class ShortBody(Exception):
    """The connection ended before the body was complete (retryable)."""

    def __init__(self, got: int, want: int) -> None:
        super().__init__(f"got {got} of {want} bytes")
        self.got = got
        self.want = want


class Dropped(Exception):
    """The connection was reset or closed before a response (retryable)."""


# ------------------------------------------------------------------------------------------------
# Every live connection, so that Ctrl-C can close them all at once
# ------------------------------------------------------------------------------------------------

_live: weakref.WeakSet[http.client.HTTPConnection] = weakref.WeakSet()
_live_lock = threading.Lock()
_aborted = threading.Event()


def abort_all() -> None:
    """Shut down every open socket: any thread blocked in a read gets an error at once, and no
    new request starts (``RemoteError('interrupted')``)."""
    _aborted.set()
    with _live_lock:
        conns = list(_live)
    for conn in conns:
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _check_aborted() -> None:
    if _aborted.is_set():
        raise RemoteError("interrupted")


# ------------------------------------------------------------------------------------------------
# Responses
# ------------------------------------------------------------------------------------------------


class Response:
    """A response whose body is read on demand (and counted in the file's ``Transfer``)."""

    def __init__(
        self,
        client: "Client",
        raw: http.client.HTTPResponse,
        conn: http.client.HTTPConnection,
        origin: Origin,
        url: str,
        transfer: Transfer | None,
        history: "list[Response]",
    ) -> None:
        self._client = client
        self._raw = raw
        self._conn: http.client.HTTPConnection | None = conn
        self._origin = origin
        self.url = url
        self.transfer = transfer
        self.history = history  # the redirect responses that led here (bodies discarded)
        self.status = raw.status
        self.reason = raw.reason
        self.headers: Mapping[str, str] = dict(raw.headers.items())
        self.received = 0

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive), or None."""
        return self._raw.getheader(name)

    @property
    def content_length(self) -> int | None:
        """``Content-Length`` as an int, or None."""
        v = self.header("Content-Length")
        try:
            return int(v) if v is not None else None
        except ValueError:
            return None

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes of the body (fewer only at its end)."""
        timeout = self._client.settings.timeout
        try:
            data = self._raw.read(n)
        except TimeoutError:
            self.close()
            raise RemoteError(f"no data for {timeout:g} s while reading the response (see --timeout)") from None
        except (http.client.IncompleteRead, ConnectionError, OSError, http.client.HTTPException) as e:
            got = len(e.partial) if isinstance(e, http.client.IncompleteRead) else 0
            self._count(got)
            self._abandon()
            _check_aborted()
            raise ShortBody(self.received, self.received + n) from None
        self._count(len(data))
        return data

    def read_exact(self, n: int) -> bytes:
        """Exactly ``n`` bytes of the body; raises ``ShortBody`` when it ends sooner."""
        parts = []
        left = n
        while left > 0:
            data = self.read(min(left, 1 << 20))
            if not data:
                self._abandon()
                raise ShortBody(n - left, n)
            parts.append(data)
            left -= len(data)
        return b"".join(parts)

    def readline(self, limit: int = 1024) -> bytes:
        """One line of the body (multipart part headers), at most ``limit`` bytes."""
        try:
            line = self._raw.readline(limit)
        except TimeoutError:
            self.close()
            raise RemoteError("no data while reading the response (see --timeout)") from None
        except (ConnectionError, OSError, http.client.HTTPException):
            self.close()
            raise ShortBody(self.received, self.received + 1) from None
        self._count(len(line))
        return line

    def _count(self, n: int) -> None:
        self.received += n
        if self.transfer is not None and n:
            self.transfer.count(nbytes=n)

    def discard(self) -> None:
        """Drop the rest of the body: read it when small (the connection is then reused), else close."""
        length = self.content_length
        if length is not None and length - self.received <= _DISCARD_LIMIT:
            try:
                self.read(length - self.received)
            except (ShortBody, RemoteError):
                return
        self.close()

    def error_text(self, limit: int = 2048) -> str:
        """The start of an error body (for messages), read within the discard limit."""
        length = self.content_length
        if length is None or length > _DISCARD_LIMIT:
            self.close()
            return ""
        try:
            text = self.read(length).decode("utf-8", "replace")
        except (ShortBody, RemoteError):
            return ""
        self.close()
        return text[:limit]

    def _abandon(self) -> None:
        """Close the connection for good (a broken or half-read body): it must never be reused."""
        conn, self._conn = self._conn, None
        self._raw.close()
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Finish with the response: a fully read body gives the connection back for reuse."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._raw.isclosed() and not self._raw.will_close:
            self._client._release(self._origin, conn)
        else:
            self._raw.close()
            conn.close()

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------
# The client
# ------------------------------------------------------------------------------------------------


class Client:
    """Keep-alive connections per origin, redirects, retries and timeouts. Thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None

    # -- connections ----------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            cafile = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
            self._ssl = ssl.create_default_context(cafile=cafile if cafile and os.path.isfile(cafile) else None)
        return self._ssl

    def _connect(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        """A new connection; the bool says whether requests must name the absolute URL (an http proxy)."""
        timeout = self.settings.timeout
        proxy = _proxy_for(origin)
        conn: http.client.HTTPConnection
        absolute = False
        if proxy is None:
            if origin.scheme == "https":
                conn = http.client.HTTPSConnection(origin.host, origin.port, timeout=timeout, context=self._context())
            else:
                conn = http.client.HTTPConnection(origin.host, origin.port, timeout=timeout)
        else:
            p = Origin.of(proxy)
            if origin.scheme == "https":
                conn = http.client.HTTPSConnection(p.host, p.port, timeout=timeout, context=self._context())
                conn.set_tunnel(origin.host, origin.port)
            else:
                conn = http.client.HTTPConnection(p.host, p.port, timeout=timeout)
                absolute = True
        with _live_lock:
            _live.add(conn)
        return conn, absolute

    def _acquire(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool, bool]:
        """(connection, absolute-form, reused)."""
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                conn = idle.pop()
                return conn, getattr(conn, "_mmcheck_absolute", False), True
        conn, absolute = self._connect(origin)
        conn._mmcheck_absolute = absolute  # type: ignore[attr-defined]
        return conn, absolute, False

    def _release(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        if _aborted.is_set():
            conn.close()
            return
        with self._lock:
            self._idle.setdefault(origin, []).append(conn)

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for c in conns:
                c.close()

    # -- requests -------------------------------------------------------------------------------

    def _exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, transfer: Transfer | None
    ) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection, Origin]:
        """Send one request and read the status line and headers (no retries, no redirects)."""
        _check_aborted()
        origin = Origin.of(url)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (0, 1):
            conn, absolute, reused = self._acquire(origin)
            sent = False
            try:
                conn.putrequest(method, url if absolute else target, skip_accept_encoding=True)
                for k, v in headers.items():
                    conn.putheader(k, v)
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                if transfer is not None:
                    transfer.count(requests=1)
                sent = True
                raw = conn.getresponse()
                return raw, conn, origin
            except TimeoutError:
                conn.close()
                _check_aborted()
                raise RemoteError(
                    f"no response from {origin.host} within {self.settings.timeout:g} s (see --timeout)"
                ) from None
            except ssl.SSLError as e:
                conn.close()
                raise RemoteError(f"TLS error with {origin.host}: {e.reason or e}") from None
            except socket.gaierror:
                conn.close()
                raise RemoteError(f"cannot resolve host {origin.host}") from None
            except ConnectionRefusedError:
                conn.close()
                raise RemoteError(f"cannot connect to {origin.host}:{origin.port}: connection refused") from None
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                conn.close()
                _check_aborted()
                if reused and attempt == 0:
                    # a kept-alive connection the server had closed: the request never reached it;
                    # one fresh try, not counted twice
                    if transfer is not None and sent:
                        transfer.count(requests=-1)
                    continue
                raise Dropped(f"{type(e).__name__}: {e}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        transfer: Transfer | None = None,
        body: bytes | None = None,
        follow: bool = True,
    ) -> Response:
        """Send a request, following redirects (the ``Authorization`` header never leaves the
        origin it was meant for) and retrying 429/5xx and dropped connections with backoff.

        Returns the final response, whatever its status (after the retries are spent, the last
        429/5xx is returned for the caller to describe). Raises ``RemoteError`` for timeouts,
        refused connections, TLS and DNS failures, and connections still dropped after the retries.
        """
        hdrs = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
        history: list[Response] = []
        auth_origin = Origin.of(url)
        for _ in range(MAX_REDIRECTS + 1):
            resp = self.retrying(functools.partial(self._once, method, url, hdrs, body, transfer, history), url)
            if follow and resp.status in REDIRECT_STATUSES and resp.header("Location"):
                target = urljoin(url, resp.header("Location") or "")
                resp.discard()
                history.append(resp)
                if Origin.of(target) != auth_origin:
                    hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
                if resp.status == 303:
                    method, body = "GET", None
                url = target
                continue
            return resp
        raise RemoteError(f"more than {MAX_REDIRECTS} redirects")

    def _once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        transfer: Transfer | None,
        history: list[Response],
    ) -> Response:
        raw, conn, origin = self._exchange(method, url, headers, body, transfer)
        resp = Response(self, raw, conn, origin, url, transfer, list(history))
        if resp.status in RETRY_STATUSES:
            raise _RetryStatus(resp)
        return resp

    def retrying(self, fn: Callable[[], _T], url: str) -> _T:
        """Call ``fn``, retrying (``settings.retries`` times, exponential backoff with jitter) when it
        raises ``Dropped``, ``ShortBody`` or hits a 429/5xx; ``Retry-After`` is honoured up to
        ``settings.max_retry_after``. The last failure is raised (``ShortBody``/``Dropped`` as
        ``RemoteError``) or, for a status, its response returned."""
        s = self.settings
        attempt = 0
        while True:
            try:
                return fn()
            except _RetryStatus as r:
                wait = _retry_after(r.response)
                if attempt >= s.retries or (wait is not None and wait > s.max_retry_after):
                    return r.response  # type: ignore[return-value]
                r.response.discard()
            except ShortBody as e:
                if attempt >= s.retries:
                    raise RemoteError(
                        f"body shorter than asked: got {e.got} of {e.want} bytes (after {attempt + 1} attempts)"
                    ) from None
                wait = None
            except Dropped as e:
                if attempt >= s.retries:
                    raise RemoteError(f"connection dropped ({e}) after {attempt + 1} attempts") from None
                wait = None
            if wait is None:
                wait = s.retry_wait * (2**attempt) * (1 + 0.25 * random.random())
            attempt += 1
            if _aborted.wait(wait):
                raise RemoteError("interrupted")


class _RetryStatus(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _retry_after(resp: Response) -> float | None:
    v = resp.header("Retry-After")
    if v is None:
        return None
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(v).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def _proxy_for(origin: Origin) -> str | None:
    if origin.host in ("127.0.0.1", "localhost", "::1"):
        return None
    from urllib.request import getproxies, proxy_bypass

    proxy = getproxies().get(origin.scheme)
    if not proxy or proxy_bypass(origin.host):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def describe_status(resp: Response, *, hub_repo: str | None = None, token_sent: bool = False) -> str:
    """One line for an error response: what it means and what to do (reads the small error body)."""
    code = resp.status
    error_code = resp.header("X-Error-Code") or ""
    message = (resp.header("X-Error-Message") or "").strip()
    body = resp.error_text()
    gated = error_code == "GatedRepo" or "gated" in message.lower() or "restricted" in message.lower()
    if hub_repo is not None:
        from mmcheck.remote.hub import access_hint

        if gated or (code in (401, 403) and ("gated" in body.lower() or "restricted" in body.lower())):
            return f"gated repository {hub_repo} (HTTP {code}): {access_hint(hub_repo, token_sent, gated=True)}"
        if error_code == "RevisionNotFound":
            return f"revision not found in {hub_repo} (HTTP {code})"
        if error_code == "EntryNotFound":
            return f"no such file in {hub_repo} (HTTP {code})"
        if error_code == "RepoNotFound" or code == 401:
            return f"repository {hub_repo} not found, or private (HTTP {code}): {access_hint(hub_repo, token_sent)}"
        if code == 403:
            return f"access to {hub_repo} denied (HTTP 403{': ' + message if message else ''}): " + access_hint(
                hub_repo, token_sent
            )
    if code == 404:
        return "not found (HTTP 404)"
    if code == 401:
        return "authentication required (HTTP 401)"
    if code == 403:
        return f"access denied (HTTP 403{': ' + message if message else ''})"
    if code == 416:
        return f"the server refused the byte range (HTTP 416, Content-Range {resp.header('Content-Range')!r})"
    if code == 429:
        wait = _retry_after(resp)
        after = f", retry after {wait:.0f} s" if wait is not None else ""
        return f"rate limited (HTTP 429{after})"
    if code >= 500:
        return f"server error (HTTP {code} {resp.reason}) after retries"
    return f"unexpected HTTP {code} {resp.reason}".rstrip()


_SHARED: dict[int, Client] = {}
_SHARED_LOCK = threading.Lock()


def shared_client(settings: Settings) -> Client:
    """One client per process (per settings object), so connections are reused across files."""
    with _SHARED_LOCK:
        c = _SHARED.get(id(settings))
        if c is None or c.settings is not settings:
            c = _SHARED[id(settings)] = Client(settings)
        return c


__all__ = [
    "Client",
    "ContentRange",
    "Dropped",
    "Origin",
    "Response",
    "ShortBody",
    "abort_all",
    "describe_status",
    "format_range",
    "normalize_etag",
    "parse_content_range",
    "shared_client",
]
