"""A loopback stand-in for the Hugging Face Hub and its CDN, with fault injection.

Serves the files under ``--root`` (``ROOT/ORG/REPO/PATH``) the way the Hub does, on 127.0.0.1 only:

- ``HEAD``/``GET /ORG/REPO/resolve/REV/PATH``: for ``*.gguf`` files (stored in LFS) a ``302`` to the
  CDN, carrying ``X-Linked-Size``, ``X-Linked-Etag`` (the sha256) and ``X-Repo-Commit``; other files
  (and LFS pointer files committed as text) are served directly, with their git blob id as ETag;
- ``GET /api/models/ORG/REPO/tree/REV[/PATH]?recursive=...`` (paginated with a ``Link`` header) and
  ``POST /api/models/ORG/REPO/paths-info/REV``, the listing and metadata API ``huggingface_hub`` uses;
- the CDN, a second server (another origin, like the Hub's): ``GET /blobs/SHA256`` with single and
  multi-range (``multipart/byteranges``) requests, ``ETag`` and ``Accept-Ranges``.

Revisions ``main``, ``refs/pr/1`` and the repository's commit id (a hash of its files) are known.
Repositories named with ``--gated`` or ``--private`` need ``Authorization: Bearer --token``.

Faults are set at run time with ``POST /_control`` (JSON, merged into the current faults; ``{}``
after ``POST /_reset``); ``GET /_stats`` returns request counts. Faults: ``latency_ms`` (every
request), ``delay`` ``{"seconds", "match", "count"}``, ``status`` ``{"code", "count", "match",
"retry_after"}``, ``truncate`` ``{"count", "match"}`` (half the body, then close), ``drop``
``{"count", "match"}`` (close without answering), ``no_range`` (the CDN answers 200 with the whole
file), ``no_multirange`` (multi-range requests get 200, as S3 does), ``wrong_range`` (Content-Range
off by one), ``html`` (the CDN answers an HTML error page), ``etag_change_after`` (the CDN's ETag
changes after N data responses), ``page_size`` (tree entries per page). ``count`` -1 is "always";
``after`` N lets the first N matching requests through.

Run: ``python -m tests.hubserver --root DIR`` prints one JSON line
``{"endpoint": "http://127.0.0.1:PORT", "cdn": "..."}`` when ready, then serves until killed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from mmcheck.header.sniff import LFS_PREFIX, is_lfs_pointer

GATED_MESSAGE = (
    "Access to model {repo} is restricted. You must have access to it and be authenticated to access it. Please log in."
)


class Hub:
    """The state shared by both servers: files, digests, faults and counters."""

    def __init__(self, root: Path, *, token: str, gated: set[str], private: set[str]) -> None:
        self.root = root
        self.token = token
        self.gated = gated
        self.private = private
        self.faults: dict[str, Any] = {}
        self.stats: dict[str, int] = {"hub": 0, "cdn": 0, "api": 0, "cdn_bytes": 0, "cdn_data": 0}
        self.lock = threading.Lock()
        self._digests: dict[tuple[str, float, int], tuple[str, str]] = {}
        self.cdn_base = ""

    # -- files --------------------------------------------------------------------------------

    def repo_dir(self, repo: str) -> Path | None:
        d = (self.root / repo).resolve()
        if self.root.resolve() not in d.parents or not d.is_dir():
            return None
        return d

    def digests(self, path: Path) -> tuple[str, str]:
        """(sha256, git blob sha1) of a file, cached by mtime and size."""
        st = path.stat()
        key = (str(path), st.st_mtime, st.st_size)
        with self.lock:
            hit = self._digests.get(key)
        if hit is not None:
            return hit
        sha256 = hashlib.sha256()
        blob = hashlib.sha1(f"blob {st.st_size}\0".encode())
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sha256.update(chunk)
                blob.update(chunk)
        out = (sha256.hexdigest(), blob.hexdigest())
        with self.lock:
            self._digests[key] = out
        return out

    def by_sha(self, sha: str) -> Path | None:
        with self.lock:
            for (p, _, _), (s, _) in self._digests.items():
                if s == sha:
                    return Path(p)
        return None

    def files(self, repo_dir: Path) -> list[Path]:
        return sorted(p for p in repo_dir.rglob("*") if p.is_file() and not p.name.startswith("."))

    def commit(self, repo_dir: Path) -> str:
        h = hashlib.sha1()
        for p in self.files(repo_dir):
            st = p.stat()
            h.update(f"{p.relative_to(repo_dir)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        return h.hexdigest()

    def is_lfs(self, path: Path) -> bool:
        if not path.name.lower().endswith(".gguf"):
            return False
        with open(path, "rb") as fh:
            return not is_lfs_pointer(fh.read(len(LFS_PREFIX)))

    def entry(self, repo_dir: Path, path: Path) -> dict[str, Any]:
        sha256, blob = self.digests(path)
        size = path.stat().st_size
        item: dict[str, Any] = {"type": "file", "oid": blob, "size": size, "path": str(path.relative_to(repo_dir))}
        if self.is_lfs(path):
            item["lfs"] = {"oid": sha256, "size": size, "pointerSize": 134}
        return item

    # -- faults -------------------------------------------------------------------------------

    def take(self, name: str, path: str) -> dict[str, Any] | None:
        """The fault ``name`` if it applies to ``path`` (and spend one of its ``count``)."""
        with self.lock:
            f = self.faults.get(name)
            if not isinstance(f, dict) or f.get("match", "") not in path:
                return None
            if f.get("after", 0) > 0:  # let the first ``after`` matching requests through
                f["after"] -= 1
                return None
            count = f.get("count", -1)
            if count == 0:
                return None
            if count > 0:
                f["count"] = count - 1
            return dict(f)

    def flag(self, name: str) -> Any:
        with self.lock:
            return self.faults.get(name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hubserver/1"
    hub: Hub
    role = "hub"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing -----------------------------------------------------------------------------

    def _prelude(self) -> bool:
        """Count, wait, and apply connection faults; False when the request must not be answered."""
        hub = self.hub
        path = self.path
        if not path.startswith("/_"):
            with hub.lock:
                hub.stats[self.role] += 1
                if path.startswith("/api/"):
                    hub.stats["api"] += 1
            latency = hub.flag("latency_ms")
            if latency:
                time.sleep(float(latency) / 1000.0)
            d = hub.take("delay", f"{self.role}:{path}")
            if d is not None:
                time.sleep(float(d.get("seconds", 1)))
            if hub.take("drop", f"{self.role}:{path}") is not None:
                self.close_connection = True
                return False
            st = hub.take("status", f"{self.role}:{path}")
            if st is not None:
                code = int(st.get("code", 500))
                extra = {"Retry-After": str(st["retry_after"])} if "retry_after" in st else {}
                self._send(code, b"injected fault\n", "text/plain", extra)
                return False
        return True

    def _send(self, code: int, body: bytes, ctype: str = "application/json", headers: dict[str, str] | None = None,
              head: bool = False) -> None:  # fmt: skip
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self._write(body)

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return False

    def _json(self, code: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        self._send(code, json.dumps(doc).encode(), "application/json", headers)

    def _error(self, code: int, error_code: str, message: str, head: bool = False) -> None:
        body = json.dumps({"error": message}).encode()
        self._send(code, body, "application/json", {"X-Error-Code": error_code, "X-Error-Message": message}, head)

    def _authorized(self, repo: str) -> bool:
        return self.headers.get("Authorization", "") == f"Bearer {self.hub.token}"

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # -- routes -------------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/_control":
            with self.hub.lock:
                self.hub.faults.update(json.loads(body or b"{}"))
            self._json(200, self.hub.faults)
            return
        if self.path == "/_reset":
            with self.hub.lock:
                self.hub.faults = {}
                for k in self.hub.stats:
                    self.hub.stats[k] = 0
            self._json(200, {})
            return
        if not self._prelude():
            return
        m = re.fullmatch(r"/api/(models|datasets)/([^/]+/[^/]+)/paths-info/([^/?]+)", urlsplit(self.path).path)
        if m is None:
            self._error(404, "NotFound", "no such route")
            return
        repo, rev = m[2], unquote(m[3])
        d = self._repo(repo, rev)
        if d is None:
            return
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            doc = json.loads(body or b"{}")
            paths = doc.get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        out = []
        for p in paths:
            f = d / p
            if f.is_file():
                out.append(self.hub.entry(d, f))
        self._json(200, out)

    def _repo(self, repo: str, rev: str, head: bool = False) -> Path | None:
        hub = self.hub
        d = hub.repo_dir(repo)
        if d is None or (repo in hub.private and not self._authorized(repo)):
            self._error(401 if repo in hub.private else 404, "RepoNotFound", "Repository not found", head)
            return None
        if rev not in ("main", "refs/pr/1", hub.commit(d)):
            self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}", head)
            return None
        return d

    def _route(self, *, head: bool) -> None:
        if self.path == "/_stats":
            with self.hub.lock:
                self._json(200, dict(self.hub.stats))
            return
        if not self._prelude():
            return
        if self.role == "cdn":
            self._cdn(head)
            return
        url = urlsplit(self.path)
        m = re.fullmatch(r"/api/(models|datasets)/([^/]+/[^/]+)/tree/(refs%2Fpr%2F\d+|[^/]+)(?:/(.*))?", url.path)
        if m is not None:
            self._tree(m[2], unquote(m[3]), unquote(m[4] or ""), parse_qs(url.query))
            return
        m = re.fullmatch(r"/(?:datasets/)?([^/]+/[^/]+)/resolve/(refs%2Fpr%2F\d+|refs/pr/\d+|[^/]+)/(.+)", url.path)
        if m is not None:
            self._resolve(m[1], unquote(m[2]), unquote(m[3]), head)
            return
        self._error(404, "NotFound", "no such route", head)

    def _tree(self, repo: str, rev: str, sub: str, query: dict[str, list[str]]) -> None:
        d = self._repo(repo, rev)
        if d is None:
            return
        base = d / sub if sub else d
        if not base.is_dir():
            self._error(404, "EntryNotFound", f"{sub} does not exist")
            return
        recursive = query.get("recursive", ["False"])[0].lower() == "true"
        items: list[dict[str, Any]] = []
        for p in sorted(base.rglob("*") if recursive else base.iterdir()):
            if p.name.startswith("."):
                continue
            if p.is_dir():
                items.append({"type": "directory", "oid": "0" * 40, "path": str(p.relative_to(d))})
            elif p.is_file():
                items.append(self.hub.entry(d, p))
        size = int(self.hub.flag("page_size") or 1000)
        start = int(query.get("cursor", ["0"])[0])
        page = items[start : start + size]
        headers = {}
        if start + size < len(items):
            q = f"recursive={recursive}&expand=False&cursor={start + size}"
            headers["Link"] = f'<{self.hub_base()}{urlsplit(self.path).path}?{q}>; rel="next"'
        self._json(200, page, headers)

    def hub_base(self) -> str:
        port = self.server.server_address[1]  # type: ignore[index]
        return f"http://127.0.0.1:{port}"

    def _resolve(self, repo: str, rev: str, path: str, head: bool) -> None:
        hub = self.hub
        d = self._repo(repo, rev, head)
        if d is None:
            return
        if repo in hub.gated and not self._authorized(repo):
            self._error(401, "GatedRepo", GATED_MESSAGE.format(repo=repo), head)
            return
        f = (d / path).resolve()
        if d not in f.parents or not f.is_file():
            self._error(404, "EntryNotFound", f"{path} does not exist", head)
            return
        sha256, blob = hub.digests(f)
        size = f.stat().st_size
        commit = hub.commit(d)
        if hub.is_lfs(f):
            headers = {
                "Location": f"{hub.cdn_base}/blobs/{sha256}?file={quote(f.name)}&sig=loopback",
                "X-Linked-Size": str(size),
                "X-Linked-Etag": f'"{sha256}"',
                "X-Repo-Commit": commit,
                "ETag": f'"{blob}"',
            }
            self._send(302, b"", "text/plain", headers, head=True)
            return
        self._file(f, head, etag=blob, extra={"X-Repo-Commit": commit})

    def _cdn(self, head: bool) -> None:
        url = urlsplit(self.path)
        m = re.fullmatch(r"/blobs/([0-9a-f]{64})", url.path)
        f = self.hub.by_sha(m[1]) if m else None
        if f is None or not f.is_file():
            self._send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml", head=head)
            return
        if self.hub.take("html", f"cdn:{self.path}") is not None:
            page = b"<!DOCTYPE html><html><body><h1>Service unavailable</h1></body></html>"
            self._send(200, page, "text/html; charset=utf-8", head=head)
            return
        etag = m[1] if m else ""
        after = self.hub.flag("etag_change_after")
        with self.hub.lock:
            self.hub.stats["cdn_data"] += 1
            n = self.hub.stats["cdn_data"]
        if after is not None and n > int(after):
            etag = "changed-" + etag[:16]
        self._file(f, head, etag=etag)

    def _file(self, f: Path, head: bool, *, etag: str, extra: dict[str, str] | None = None) -> None:
        size = f.stat().st_size
        headers = {"ETag": f'"{etag}"', "Accept-Ranges": "bytes", **(extra or {})}
        rng = self.headers.get("Range")
        ranges = _parse_ranges(rng, size) if rng and self.role == "cdn" and not self.hub.flag("no_range") else None
        if ranges is None and rng and self.role == "hub":
            ranges = _parse_ranges(rng, size)
        if ranges is not None and len(ranges) > 1 and self.hub.flag("no_multirange"):
            ranges = None
        if ranges == []:
            self._send(416, b"", "text/plain", {**headers, "Content-Range": f"bytes */{size}"}, head)
            return
        if ranges is None:
            self._stream(f, 0, size, 200, {**headers, "Content-Type": "application/octet-stream"}, head)
            return
        if len(ranges) == 1:
            s, e = ranges[0]
            shift = 1 if self.hub.flag("wrong_range") else 0
            cr = f"bytes {s + shift}-{e - 1 + shift}/{size}"
            self._stream(f, s, e, 206, {**headers, "Content-Range": cr, "Content-Type": "application/octet-stream"},
                         head)  # fmt: skip
            return
        boundary = "hubserver-boundary-7d3f"
        parts = []
        with open(f, "rb") as fh:
            for s, e in ranges:
                fh.seek(s)
                part_head = (
                    f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n"
                    f"Content-Range: bytes {s}-{e - 1}/{size}\r\n\r\n"
                ).encode()
                parts.append(part_head + fh.read(e - s))
        body = b"".join(parts) + f"\r\n--{boundary}--\r\n".encode()
        self._body_out(206, body, {**headers, "Content-Type": f"multipart/byteranges; boundary={boundary}"}, head)

    def _body_out(self, code: int, body: bytes, headers: dict[str, str], head: bool) -> None:
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        cut = self.hub.take("truncate", f"{self.role}:{self.path}")
        data = body[: len(body) // 2] if cut is not None else body
        self._write(data)
        self._count(len(data))
        if cut is not None:
            self.close_connection = True

    def _stream(self, f: Path, start: int, end: int, code: int, headers: dict[str, str], head: bool) -> None:
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        if head:
            return
        cut = self.hub.take("truncate", f"{self.role}:{self.path}")
        stop = start + (end - start) // 2 if cut is not None else end
        with open(f, "rb") as fh:
            fh.seek(start)
            pos = start
            while pos < stop:
                chunk = fh.read(min(1 << 16, stop - pos))
                if not chunk or not self._write(chunk):
                    break
                pos += len(chunk)
                self._count(len(chunk))
        if cut is not None:
            self.close_connection = True

    def _count(self, n: int) -> None:
        if self.role == "cdn":
            with self.hub.lock:
                self.hub.stats["cdn_bytes"] += n


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-answer (as mmcheck does on a 200 to a range) are not errors."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _parse_ranges(value: str, size: int) -> list[tuple[int, int]] | None:
    """``bytes=a-b,c-,-n`` as half-open spans within ``size``; None when malformed, [] when none fits."""
    if not value.startswith("bytes="):
        return None
    out = []
    for part in value[6:].split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d*)-(\d*)", part)
        if m is None or (not m[1] and not m[2]):
            return None
        if not m[1]:
            n = int(m[2])
            s, e = max(0, size - n), size
        else:
            s = int(m[1])
            e = min(int(m[2]) + 1, size) if m[2] else size
        if s < size and s < e:
            out.append((s, e))
    return out


def serve(root: Path, *, token: str = "hf_test_token", gated: set[str] | None = None,
          private: set[str] | None = None) -> tuple[Hub, _Server, _Server]:  # fmt: skip
    """Start the Hub and CDN servers on 127.0.0.1 (free ports) in daemon threads."""
    hub = Hub(root, token=token, gated=gated or set(), private=private or set())
    for repo_dir in root.glob("*/*") if root.is_dir() else []:
        for p in repo_dir.rglob("*.gguf"):
            hub.digests(p)  # the CDN finds blobs by sha256
    servers = []
    for role in ("hub", "cdn"):
        handler = type(f"{role.title()}Handler", (Handler,), {"hub": hub, "role": role})
        srv = _Server(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    hub.cdn_base = f"http://127.0.0.1:{servers[1].server_address[1]}"
    return hub, servers[0], servers[1]


def main(argv: list[str] | None = None) -> int:
    """Serve until killed; print the endpoints as one JSON line first."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--root", required=True, type=Path)
    ap.add_argument("--token", default="hf_test_token")
    ap.add_argument("--gated", action="append", default=[])
    ap.add_argument("--private", action="append", default=[])
    ap.add_argument("--latency-ms", type=float, default=0.0)
    args = ap.parse_args(argv)
    hub, srv, _cdn = serve(args.root, token=args.token, gated=set(args.gated), private=set(args.private))
    if args.latency_ms:
        hub.faults["latency_ms"] = args.latency_ms
    doc = {"endpoint": f"http://127.0.0.1:{srv.server_address[1]}", "cdn": hub.cdn_base, "pid": os.getpid()}
    print(json.dumps(doc), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
