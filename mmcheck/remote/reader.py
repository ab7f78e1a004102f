"""Reading a remote file's header: header cache first, then range requests.

For an ``hf://`` path (or a Hub URL):

1. cache: a path pinned to a commit, or offline mode (``HF_HUB_OFFLINE``), uses the newest cached
   entry for its resolve URL with no request at all; otherwise, when an entry exists, the file's
   current ETag comes from the Hub's paths-info API (one request per repository and revision, for
   every file of a pair or a listing at once — see ``prepare``) and the entry stored under it is used;
2. on a miss: ``GET`` the resolve URL with ``Range`` (the Hub answers 302 to its CDN with the
   file's size and ETag in ``X-Linked-*``), then range requests straight to the CDN.

For an ``http(s)://`` URL: when an entry exists, one ``HEAD`` gives the ``ETag`` (or
``Last-Modified``); on a miss, range requests to the URL.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from mmcheck.errors import GGUFError, LFSPointerError, RemoteError
from mmcheck.header.model import GGUFHeader
from mmcheck.header.reader import NeedBytes, _parse, parse_source
from mmcheck.header.sniff import is_lfs_pointer
from mmcheck.header.source import ByteSource, RemotePath, is_remote
from mmcheck.remote import Transfer, new_transfer, settings
from mmcheck.remote import cache as header_cache
from mmcheck.remote.http import Client, describe_status, normalize_etag, shared_client
from mmcheck.remote.source import RemoteSource

#: resolve URL -> what a listing or paths-info said about it (None: the file does not exist)
_known: dict[str, Any] = {}
_known_lock = threading.Lock()


def _client() -> Client:
    return shared_client(settings())


def _hub_of(url: str) -> Any:
    """The ``HubFile`` of a Hub path or URL (imports huggingface_hub), or None for any other URL."""
    if not url.startswith("hf://") and not _maybe_hub_url(url):
        return None
    from mmcheck.remote import hub

    return hub.parse(url)


def _maybe_hub_url(url: str) -> bool:
    """A cheap test, before importing huggingface_hub, of whether ``url`` may be on the Hub."""
    import os
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    if host in ("huggingface.co", "hf.co") or host.endswith(".huggingface.co"):
        return True
    endpoint = os.environ.get("HF_ENDPOINT", "").rstrip("/")
    return bool(endpoint) and url.startswith(endpoint + "/")


# ------------------------------------------------------------------------------------------------


def read(path: str | RemotePath) -> GGUFHeader:
    """The header of a remote file (see the module doc). Raises ``GGUFError``/``RemoteError``."""
    rp = path if isinstance(path, RemotePath) else RemotePath(str(path))
    transfer = new_transfer(str(rp))
    try:
        hub_file = _hub_of(rp.url)
        if hub_file is not None:
            return _read_hub(rp, hub_file, transfer)
        return _read_url(rp, transfer)
    except RemoteError as e:
        if e.url is None:
            e.url = str(rp)
        raise


def _read_hub(rp: RemotePath, f: Any, transfer: Transfer) -> GGUFHeader:
    from mmcheck.remote import hub

    s = settings()
    if not f.path:
        raise RemoteError("names a repository, not a file: add the file's path (hf://ORG/REPO/FILE.gguf)")
    url = f.resolve_url()
    offline = hub.offline()
    known: Any = _known.get(url, ...)
    if known is None:
        raise RemoteError(f"no file {f.path} in {f.label} at revision {f.rev}")
    if s.cache:
        entry = None
        if offline or f.pinned:
            entry = header_cache.latest(url)
        else:
            if known is ... and header_cache.has(url):
                _prepare_hub([f])
                known = _known.get(url, ...)
                if known is None:
                    raise RemoteError(f"no file {f.path} in {f.label} at revision {f.rev}")
            if known is not ... and known.etag:
                entry = header_cache.lookup(url, known.etag)
        if entry is not None:
            header = _from_cache(rp, entry, transfer, url=url, headers=None if offline else hub.request_headers,
                                 hub_repo=f.label, offline=offline)  # fmt: skip
            if header is not None:
                transfer.cache = "offline" if offline else "hit"
                return header
        transfer.cache = "offline" if offline else "miss"
    else:
        transfer.cache = "off"
    if offline:
        raise RemoteError(
            "HF_HUB_OFFLINE is set and this file's header is not in mmcheck's cache; "
            "run once online (or unset HF_HUB_OFFLINE)"
        )
    src = RemoteSource(
        rp,
        url=url,
        client=_client(),
        transfer=transfer,
        settings=s,
        headers=hub.request_headers(),
        hub_repo=f.label,
        size=known.size if known is not ... else None,
        validator=known.etag if known is not ... else None,
    )
    header = _fetch(src)
    if s.cache and src.validator is not None and src.header_bytes is not None:
        header_cache.store(url, src.validator, src.size, src.header_bytes, s.cache_max_bytes)
    return header


def _read_url(rp: RemotePath, transfer: Transfer) -> GGUFHeader:
    s = settings()
    url = rp.url
    client = _client()
    if s.cache:
        transfer.cache = "miss"
        if header_cache.has(url):
            resp = client.request("HEAD", url, transfer=transfer)
            if resp.status < 300:
                validator = _validator(resp)
                resp.close()
                entry = header_cache.lookup(url, validator) if validator else None
                if entry is not None:
                    header = _from_cache(rp, entry, transfer, url=url, headers=None, hub_repo=None, offline=False)
                    if header is not None:
                        transfer.cache = "hit"
                        return header
            elif resp.status not in (405, 501):  # HEAD not allowed: fall through to a range read
                raise RemoteError(describe_status(resp))
            else:
                resp.discard()
    else:
        transfer.cache = "off"
    src = RemoteSource(rp, url=url, client=client, transfer=transfer, settings=s)
    header = _fetch(src)
    if s.cache and src.validator is not None and src.header_bytes is not None:
        header_cache.store(url, src.validator, src.size, src.header_bytes, s.cache_max_bytes)
    return header


def _validator(resp: Any) -> str | None:
    etag = normalize_etag(resp.header("ETag"))
    if etag:
        return "etag:" + etag
    lm, size = resp.header("Last-Modified"), resp.content_length
    return f"lm:{lm}:{size}" if lm and size is not None else None


def _fetch(src: RemoteSource) -> GGUFHeader:
    """Probe, sniff, parse (extending as the parser asks), attach the source to the header."""
    head = src.open()
    if is_lfs_pointer(head):
        src.close()
        raise LFSPointerError(
            "the server sent a Git LFS pointer, not the model: use the file's resolve URL "
            "(hf://ORG/REPO/FILE, or .../resolve/REV/FILE), or `git lfs pull` a clone"
        )
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        src.close()
        raise RemoteError("the server sent an HTML page, not the file (an error, login or rate-limit page?)")
    try:
        header = parse_source(src)
    finally:
        src.close()
    return header._replace(source=src)


class _Cached(ByteSource):
    def __init__(self, path: RemotePath, size: int, data: bytes) -> None:
        self.path = path
        self.size = size
        self._data = data

    def view(self) -> tuple[Any, int]:
        return self._data, len(self._data)


def _from_cache(
    rp: RemotePath,
    entry: header_cache.Entry,
    transfer: Transfer,
    *,
    url: str,
    headers: Any,
    hub_repo: str | None,
    offline: bool,
) -> GGUFHeader | None:
    """Parse a cached header; attach a source that fetches tensor data only if asked."""
    try:
        header = _parse(rp, entry.header, len(entry.header), entry.size)
    except (NeedBytes, GGUFError):
        header_cache.drop(entry)  # damaged: fetch again
        return None
    src = RemoteSource(
        rp,
        url=url,
        client=_client(),
        transfer=transfer,
        settings=settings(),
        headers=headers() if callable(headers) else None,
        hub_repo=hub_repo,
        size=entry.size,
        validator=entry.validator if hub_repo is not None else None,
    )
    if hub_repo is None and entry.validator and entry.validator.startswith("etag:"):
        src.data_etag = entry.validator[5:]
    if offline:
        src.data_unavailable = "offline (HF_HUB_OFFLINE): tensor data is not cached"
    transfer.header_bytes = 0
    return header._replace(source=src)


# ------------------------------------------------------------------------------------------------
# Batched metadata and listings
# ------------------------------------------------------------------------------------------------


def prepare(paths: list[Any]) -> None:
    """Validate the cached headers of several Hub files with one paths-info request per repository."""
    s = settings()
    if not s.cache:
        return
    files = []
    for p in paths:
        url = str(p)
        if not is_remote(url):
            continue
        try:
            f = _hub_of(url)
        except RemoteError:
            continue  # reported when the file is read
        if f is None or not f.path or f.pinned:
            continue
        if f.resolve_url() in _known or not header_cache.has(f.resolve_url()):
            continue
        files.append(f)
    if files:
        from mmcheck.remote import hub

        if not hub.offline():
            _prepare_hub(files)


def _prepare_hub(files: list[Any]) -> None:
    from mmcheck.remote import hub

    groups: dict[tuple[str, str, str], list[Any]] = {}
    for f in files:
        groups.setdefault((f.repo_type, f.repo_id, f.rev), []).append(f)
    for group in groups.values():
        first = group[0]
        transfer = new_transfer(first.uri("") + " (paths-info)", kind="listing")
        try:
            info = hub.paths_info(_client(), first, sorted({f.path for f in group}), transfer)
        except RemoteError as e:
            if e.url is None:
                e.url = first.display
            raise
        with _known_lock:
            for f in group:
                _known[f.resolve_url()] = info.get(f.path)


def list_gguf(root: str | RemotePath, *, recursive: bool) -> list[RemotePath]:
    """The ``*.gguf`` files under an ``hf://`` folder (and its subfolders with ``recursive``)."""
    rp = root if isinstance(root, RemotePath) else RemotePath(str(root))
    try:
        f = _hub_of(rp.url)
        if f is None:
            raise RemoteError("cannot list a folder of a plain URL: name the files, or use hf://ORG/REPO")
        from mmcheck.remote import hub

        if hub.offline():
            raise RemoteError("cannot list a repository with HF_HUB_OFFLINE set: name the files instead")
        transfer = new_transfer(rp.url, kind="listing")
        entries = hub.list_tree(_client(), f, recursive=recursive, transfer=transfer)
    except RemoteError as e:
        if e.url is None:
            e.url = str(rp)
        raise
    out = []
    with _known_lock:
        for entry in entries:
            if not entry.path.lower().endswith(".gguf"):
                continue
            child = replace(f, display=f.uri(entry.path), path=entry.path)
            _known[child.resolve_url()] = entry
            out.append(RemotePath(child.display))
    return sorted(out)


__all__ = ["list_gguf", "prepare", "read"]
