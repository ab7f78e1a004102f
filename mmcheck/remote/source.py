"""``RemoteSource``: a remote file's bytes, fetched by HTTP range requests as they are needed.

Header: the first request asks for ``Settings.probe`` bytes (1 MiB); when the parser needs more it
says how far it can prove it must read (``NeedBytes``), and the source asks for at least one more
``Settings.chunk`` (2 MiB) up to there, so a 262,144-token header (~6 MB) costs a handful of
requests and never more than one chunk beyond its end. A server that ignores ``Range`` (``200``
with the whole body) is read as a stream only as far as the header goes, then the connection is
closed: a model is never downloaded by accident.

Tensor data (the smoke test): ``read`` fetches one byte range; ``read_spans`` fetches many
scattered ones (sampled embedding rows): nearby spans are coalesced, then sent as multi-range
requests (``Range: bytes=a-b,c-d,...``, answered with ``multipart/byteranges``) when the server
supports them, else as single ranges over several connections, merging gaps only while the bytes
fetched stay within four times the bytes needed (or two chunks more).

Every response is checked: status, ``Content-Range`` against the range asked, ``Content-Length``,
the body's length, the file's size and ``ETag`` against the earlier responses, and HTML pages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from mmcheck.errors import RemoteError
from mmcheck.header.source import ByteSource, RemotePath
from mmcheck.remote import Settings, Transfer
from mmcheck.remote.http import (
    Client,
    Origin,
    Response,
    abort_all,
    describe_status,
    format_range,
    normalize_etag,
    parse_content_range,
)

#: spans closer than this are fetched as one (a multipart part costs about this much in headers)
MERGE_GAP = 128
#: the longest ``Range`` header sent (servers commonly accept 8 KiB of headers)
MAX_RANGE_HEADER = 4000
#: most ranges in one multi-range request
MAX_RANGES = 200
#: without multi-range, scattered reads may fetch up to this many times the bytes they need, to
#: save requests (4,096 rows of a 7B model's Q4_K token_embd: ~860 requests and ~36 MB instead
#: of ~1,900 requests and ~19 MB at 2x, or 1 request and the whole 74 MB table)
SINGLE_RANGE_BUDGET = 4
_T = TypeVar("_T")


class RangeNotSupported(RemoteError):
    """The server ignores ``Range``: only the header (read as a stream) is available."""


class DataUnavailable(RemoteError):
    """Tensor data cannot be read (offline mode with a cached header)."""


class RemoteSource(ByteSource):
    """One remote file. ``url`` is where requests start (the Hub's resolve URL, or the URL itself);
    after a redirect to another origin (the Hub's CDN) they go straight to the redirect target,
    without the Hub's ``headers`` (the token stays with the Hub)."""

    remote = True

    def __init__(
        self,
        path: RemotePath,
        *,
        url: str,
        client: Client,
        transfer: Transfer,
        settings: Settings,
        headers: dict[str, str] | None = None,
        hub_repo: str | None = None,
        size: int | None = None,
        validator: str | None = None,
    ) -> None:
        self.path = path
        self.size = size if size is not None else 0
        self._size_known = size is not None
        self._resolve_url = url
        self._data_url = url
        self._headers = headers or {}
        self._hub_repo = hub_repo
        self.client = client
        self.transfer = transfer
        self.settings = settings
        self.validator = validator  # the cache validator (the Hub's ETag, or the server's)
        self.data_etag: str | None = None
        self.ranges: bool | None = None
        self.multirange: bool | None = None
        self.data_unavailable: str | None = None  # why tensor data cannot be read, when it cannot
        self.header_bytes: bytes | None = None
        self._buf = bytearray()
        self._avail = 0
        self._stream: Response | None = None
        self._tail_start = 0
        self._tail = b""
        self._lock = threading.Lock()

    # -- the header -----------------------------------------------------------------------------

    def open(self) -> bytes:
        """Fetch the first ``probe`` bytes; return the first 512 (for sniffing)."""
        n = self.settings.probe if not self._size_known else min(self.settings.probe, self.size)
        data = self._range(0, max(n, 1), first=True)
        self._buf += data
        self._avail = len(self._buf)
        if self._size_known and self._avail > self.size:  # pragma: no cover - _range checks it
            raise RemoteError("the server sent more bytes than the file has", url=str(self.path))
        return bytes(self._buf[:512])

    def view(self) -> tuple[Any, int]:
        return self._buf, self._avail

    def extend(self, end: int) -> None:
        s = self.settings
        if end > s.max_header:
            raise RemoteError(
                f"the header claims to extend past {s.max_header >> 20} MiB; mmcheck does not fetch that much "
                "(a damaged or hostile file?)",
                url=str(self.path),
            )
        g = s.probe
        target = max(end, self._avail + s.chunk)
        target = min(-(-target // g) * g, self.size)
        stream = self._stream is not None
        data = self._stream_read(target - self._avail) if stream else self._range(self._avail, target)
        self._buf += data
        self._avail += len(data)

    def finish(self, header_end: int) -> None:
        self.header_bytes = bytes(self._buf[:header_end])
        self._tail_start = header_end
        self._tail = bytes(self._buf[header_end : self._avail])
        self._buf = bytearray()
        self._avail = 0
        self.transfer.header_bytes = self.transfer.bytes
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _stream_read(self, n: int) -> bytes:
        assert self._stream is not None
        try:
            return self._stream.read_exact(n)
        except Exception as e:
            self._stream = None
            raise RemoteError(f"body shorter than asked while streaming the header ({e})", url=str(self.path)) from None

    # -- requests -------------------------------------------------------------------------------

    def _get(self, extra: dict[str, str]) -> Response:
        """GET the data URL (the CDN, once known) with ``extra`` headers; errors become ``RemoteError``."""
        for again in (False, True):
            url = self._data_url
            same = Origin.of(url) == Origin.of(self._resolve_url)
            headers = {**(self._headers if same else {}), **extra}
            resp = self.client.request("GET", url, headers, transfer=self.transfer)
            if resp.history:
                self._learn_redirects(resp)
            if resp.status == 403 and url != self._resolve_url and not again:
                resp.discard()  # a signed CDN URL that expired: ask the Hub again
                self._data_url = self._resolve_url
                continue
            if resp.status >= 400:
                token = any(k.lower() == "authorization" for k in headers)
                raise RemoteError(describe_status(resp, hub_repo=self._hub_repo, token_sent=token), url=str(self.path))
            if resp.history and Origin.of(resp.url) != Origin.of(self._resolve_url):
                self._data_url = resp.url
            return resp
        raise AssertionError("unreachable")  # pragma: no cover

    def _learn_redirects(self, resp: Response) -> None:
        """The Hub's redirect carries the file's size, ETag and commit (``X-Linked-*``)."""
        for hop in resp.history:
            size = hop.header("X-Linked-Size")
            if size is not None and size.isdigit():
                self._check_size(int(size))
            etag = normalize_etag(hop.header("X-Linked-Etag") or None)
            if etag is not None:
                with self._lock:
                    if self.validator is None:
                        self.validator = etag
                    elif etag != self.validator:
                        raise RemoteError(
                            f"the file changed on the server between requests (ETag {self.validator} then {etag}); "
                            "run again",
                            url=str(self.path),
                        )

    def _check_size(self, total: int) -> None:
        with self._lock:
            if not self._size_known:
                self.size, self._size_known = total, True
            elif total != self.size:
                raise RemoteError(
                    f"the file changed on the server between requests (size {self.size} then {total}); run again",
                    url=str(self.path),
                )

    def _check_response(self, resp: Response) -> None:
        ctype = (resp.header("Content-Type") or "").lower()
        if "text/html" in ctype:
            resp.close()
            raise RemoteError(
                "the server sent an HTML page, not the file (an error, login or rate-limit page?)", url=str(self.path)
            )
        etag = normalize_etag(resp.header("ETag"))
        if etag is None:
            return
        with self._lock:
            if self.data_etag is None:
                self.data_etag = etag
                if self._hub_repo is None and self.validator is None:
                    self.validator = "etag:" + etag
            elif etag != self.data_etag:
                resp.close()
                raise RemoteError(
                    f"the file changed on the server between requests (ETag {self.data_etag} then {etag}); run again",
                    url=str(self.path),
                )

    def _range(self, start: int, end: int, *, first: bool = False) -> bytes:
        """Bytes ``[start, end)`` in one request (retried when the body comes up short)."""
        return self.client.retrying(lambda: self._range_once(start, end, first), self._data_url)

    def _range_once(self, start: int, end: int, first: bool) -> bytes:
        resp = self._get({"Range": f"bytes={start}-{end - 1}"})
        self._check_response(resp)
        if resp.status == 206:
            value = resp.header("Content-Range")
            cr = parse_content_range(value)
            if cr is None:
                resp.close()
                raise RemoteError(
                    f"wrong Content-Range: asked for bytes {start}-{end - 1}, got {value!r} (malformed)",
                    url=str(self.path),
                )
            if cr.total is not None:
                self._check_size(cr.total)
            elif not self._size_known:
                resp.close()
                raise RemoteError(
                    "the server does not say how large the file is (Content-Range */...)", url=str(self.path)
                )
            want_end = min(end, self.size)
            if cr.start != start or cr.end != want_end:
                resp.close()
                raise RemoteError(
                    f"wrong Content-Range: asked for bytes {start}-{want_end - 1}, got {value!r}", url=str(self.path)
                )
            n = cr.end - cr.start
            length = resp.content_length
            if length is not None and length != n:
                resp.close()
                raise RemoteError(
                    f"Content-Length {length} does not match Content-Range {value} ({n} bytes)", url=str(self.path)
                )
            data = resp.read_exact(n)
            resp.close()
            self.ranges = True
            if self.transfer.ranges is None:
                self.transfer.ranges = "single"
            return data
        if resp.status == 200:
            self.ranges = False
            self.transfer.ranges = "none"
            length = resp.content_length
            if length is None and not self._size_known:
                resp.close()
                raise RemoteError(
                    "the server ignores Range and does not say how large the file is (no Content-Length)",
                    url=str(self.path),
                )
            if length is not None:
                self._check_size(length)
            if first and start == 0:
                if self._hub_repo is None and self.validator is None:
                    lm = resp.header("Last-Modified")
                    if lm:
                        self.validator = f"lm:{lm}:{self.size}"
                self._stream = resp  # read the header from this body, as far as it goes, then close it
                return self._stream_read(min(end, self.size))
            resp.close()
            raise RangeNotSupported(
                "the server ignores Range requests (it answers with the whole file)", url=str(self.path)
            )
        resp.close()
        raise RemoteError(f"unexpected HTTP {resp.status} {resp.reason} to a range request", url=str(self.path))

    # -- tensor data ----------------------------------------------------------------------------

    def _require_data(self) -> None:
        if self.data_unavailable is not None:
            raise DataUnavailable(self.data_unavailable, url=str(self.path))
        if self.ranges is False:
            raise RangeNotSupported(
                "the server ignores Range requests (it answers with the whole file)", url=str(self.path)
            )

    def _from_tail(self, start: int, end: int) -> bytes | None:
        t0 = self._tail_start
        if t0 <= start and end <= t0 + len(self._tail):
            return self._tail[start - t0 : end - t0]
        return None

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the file (one range request, unless already held)."""
        if end <= start:
            return b""
        held = self._from_tail(start, end)
        if held is not None:
            return held
        self._require_data()
        return self._range(start, end)

    def read_spans(self, spans: Sequence[tuple[int, int]]) -> list[bytes]:
        """The bytes of each ``(start, end)`` span, in the order given (see the module doc)."""
        out: list[bytes | None] = [None] * len(spans)
        todo = []
        for i, (s, e) in enumerate(spans):
            held = self._from_tail(s, e) if e > s else b""
            if held is not None:
                out[i] = held
            else:
                todo.append(i)
        if todo:
            self._require_data()
            todo.sort(key=lambda i: spans[i])
            wanted = [spans[i] for i in todo]
            for i, data in zip(todo, self._fetch_scattered(wanted), strict=True):
                out[i] = data
        return [b if b is not None else b"" for b in out]

    def _fetch_scattered(self, spans: list[tuple[int, int]]) -> list[bytes]:
        """Bytes of sorted ``spans``."""
        if self.multirange is not False:
            groups = coalesce(spans, MERGE_GAP)
            if len(groups) > 1:
                batches = _batches(groups)
                first = self._multi(batches[0])
                if first is not None:
                    rest = self._parallel(self._multi_required, batches[1:])
                    blobs = first + [b for r in rest for b in r]
                    return _slice(spans, groups, blobs)
        # no multi-range: each request costs a round trip, so merge the smallest gaps while the bytes
        # fetched stay within SINGLE_RANGE_BUDGET times those needed (or two chunks)
        needed = sum(e - s for s, e in spans)
        groups = coalesce_budget(spans, budget=max((SINGLE_RANGE_BUDGET - 1) * needed, 2 * self.settings.chunk))
        blobs = self._parallel(lambda g: self._range(g[0], g[1]), [(g[0], g[1]) for g in groups])
        return _slice(spans, groups, blobs)

    def _multi_required(self, batch: list[tuple[int, int, int, int]]) -> list[bytes]:
        got = self._multi(batch)
        if got is None:
            raise RemoteError("the server stopped answering multi-range requests", url=str(self.path))
        return got

    def _multi(self, batch: list[tuple[int, int, int, int]]) -> list[bytes] | None:
        """One multi-range request for ``batch`` (groups); None when the server does not do them."""
        return self.client.retrying(lambda: self._multi_once(batch), self._data_url)

    def _multi_once(self, batch: list[tuple[int, int, int, int]]) -> list[bytes] | None:
        ranges = [(g[0], g[1]) for g in batch]
        resp = self._get({"Range": format_range(ranges)})
        self._check_response(resp)
        ctype = resp.header("Content-Type") or ""
        if resp.status == 206 and ctype.lower().startswith("multipart/byteranges"):
            parts = self._parts(resp, _boundary(ctype), len(ranges))
            self.multirange = True
            self.transfer.ranges = "multi"
            return [_cover(parts, s, e, str(self.path)) for s, e in ranges]
        if resp.status == 206:
            cr = parse_content_range(resp.header("Content-Range"))
            lo, hi = ranges[0][0], ranges[-1][1]
            needed = sum(e - s for s, e in ranges)
            if cr is not None and cr.start <= lo and cr.end >= hi and cr.end - cr.start <= 2 * needed + 65536:
                data = resp.read_exact(cr.end - cr.start)  # the server merged the ranges into one
                resp.close()
                return [data[s - cr.start : e - cr.start] for s, e in ranges]
        resp.close()  # 200 (ranges ignored) or a single part: no multi-range here; nothing more is read
        self.multirange = False
        return None

    def _parts(self, resp: Response, boundary: bytes, n: int) -> list[tuple[int, bytes]]:
        delim = b"--" + boundary
        parts: list[tuple[int, bytes]] = []
        while len(parts) <= 2 * n + 8:
            line = resp.readline()
            if not line:
                break
            line = line.rstrip(b"\r\n")
            if line == delim + b"--":
                break
            if line != delim:
                continue
            cr = None
            for _ in range(32):
                h = resp.readline().rstrip(b"\r\n")
                if not h:
                    break
                name, _, value = h.partition(b":")
                if name.strip().lower() == b"content-range":
                    cr = parse_content_range(value.decode("latin-1"))
            if cr is None:
                resp.close()
                raise RemoteError("a multipart/byteranges part has no valid Content-Range", url=str(self.path))
            if cr.total is not None:
                self._check_size(cr.total)
            parts.append((cr.start, resp.read_exact(cr.end - cr.start)))
        resp.close()
        return parts

    def _parallel(self, fn: Callable[[Any], _T], items: list[Any]) -> list[_T]:
        """``[fn(x) for x in items]`` over up to ``settings.connections`` threads (in order)."""
        if len(items) <= 1:
            return [fn(x) for x in items]
        pool = ThreadPoolExecutor(max_workers=min(self.settings.connections, len(items)))
        try:
            futures = [pool.submit(fn, x) for x in items]
            results = [f.result() for f in futures]
        except KeyboardInterrupt:
            abort_all()  # Ctrl-C: unblock the threads now
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return results


def coalesce(spans: list[tuple[int, int]], gap: int) -> list[tuple[int, int, int, int]]:
    """Merge sorted spans closer than ``gap`` bytes: ``(start, end, first, last+1)`` per group,
    where ``first``/``last`` index ``spans``."""
    groups: list[tuple[int, int, int, int]] = []
    for i, (s, e) in enumerate(spans):
        if groups and s - groups[-1][1] <= gap:
            gs, ge, gi, _ = groups[-1]
            groups[-1] = (gs, max(ge, e), gi, i + 1)
        else:
            groups.append((s, e, i, i + 1))
    return groups


def coalesce_budget(spans: list[tuple[int, int]], budget: int) -> list[tuple[int, int, int, int]]:
    """Merge sorted spans, smallest gaps first, while the bytes fetched for gaps stay within
    ``budget``: fewer requests for at most ``budget`` extra bytes."""
    groups = coalesce(spans, 0)
    gaps = sorted((groups[k + 1][0] - groups[k][1], k) for k in range(len(groups) - 1))
    merge = set()
    spent = 0
    for g, k in gaps:
        if spent + g > budget:
            break
        spent += g
        merge.add(k)
    out: list[tuple[int, int, int, int]] = []
    for k, grp in enumerate(groups):
        if out and (k - 1) in merge:
            s, e, i, _ = out[-1]
            out[-1] = (s, max(e, grp[1]), i, grp[3])
        else:
            out.append(grp)
    return out


def _batches(groups: list[tuple[int, int, int, int]]) -> list[list[tuple[int, int, int, int]]]:
    batches: list[list[tuple[int, int, int, int]]] = [[]]
    length = len("bytes=")
    for g in groups:
        item = len(f"{g[0]}-{g[1] - 1},")
        if batches[-1] and (length + item > MAX_RANGE_HEADER or len(batches[-1]) >= MAX_RANGES):
            batches.append([])
            length = len("bytes=")
        batches[-1].append(g)
        length += item
    return batches


def _slice(spans: list[tuple[int, int]], groups: list[tuple[int, int, int, int]], blobs: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for (gs, _ge, i, j), blob in zip(groups, blobs, strict=True):
        for s, e in spans[i:j]:
            out.append(blob[s - gs : e - gs])
    return out


def _boundary(ctype: str) -> bytes:
    for param in ctype.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    raise RemoteError("multipart/byteranges answer without a boundary")


def _cover(parts: list[tuple[int, bytes]], start: int, end: int, where: str) -> bytes:
    for s, data in parts:
        if s <= start and end <= s + len(data):
            return data[start - s : end - s]
    raise RemoteError(f"the multi-range answer lacks bytes {start}-{end - 1}", url=where)


__all__ = ["DataUnavailable", "RangeNotSupported", "RemoteSource", "coalesce", "coalesce_budget"]
