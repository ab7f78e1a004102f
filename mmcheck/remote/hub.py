"""Hugging Face Hub files the way their users have the Hub set up, through ``huggingface_hub``.

``huggingface_hub`` supplies what must match the rest of a user's tools: the ``hf://`` syntax and
its revision forms (``parse_hf_uri``: ``hf://ORG/REPO@REV/PATH``, ``@refs/pr/1`` or
``@refs%2Fpr%2F1``, ``hf://datasets/...``), the endpoint (``HF_ENDPOINT``), the token
(``HF_TOKEN``, or the file ``hf auth login`` / ``huggingface-cli login`` writes), offline mode
(``HF_HUB_OFFLINE``) and the resolve URL of a file (``hf_hub_url``). The requests themselves go
through mmcheck's own client (``mmcheck.remote.http``), which follows the Hub's redirect to its
CDN the way ``huggingface_hub`` does (the token is sent to the Hub only, never to the CDN), and
which bounds every wait by the ``--timeout``.

This module imports ``huggingface_hub`` at the top: it is imported only for ``hf://`` paths and
Hub URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from huggingface_hub import __version__ as hf_version
from huggingface_hub import constants, get_token, hf_hub_url
from huggingface_hub.errors import HfUriError
from huggingface_hub.utils._hf_uris import parse_hf_uri

from mmcheck import __version__
from mmcheck.errors import RemoteError
from mmcheck.remote import Transfer
from mmcheck.remote.http import Client, describe_status, normalize_etag

_COMMIT = re.compile(r"[0-9a-f]{40}")
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def endpoint() -> str:
    """The Hub's base URL (``HF_ENDPOINT``, default https://huggingface.co)."""
    return str(constants.ENDPOINT).rstrip("/")


def offline() -> bool:
    """``HF_HUB_OFFLINE`` is set: no request may reach the Hub."""
    return bool(constants.is_offline_mode())


def request_headers() -> dict[str, str]:
    """The Hub's headers for mmcheck: user agent and, when the user has a token (``get_token``:
    ``HF_TOKEN``, else the login token file) and ``HF_HUB_DISABLE_IMPLICIT_TOKEN`` is not set,
    authorization. (Not ``build_hf_headers``: building its user agent fetches an agent registry
    from the Hub, a request outside mmcheck's timeout and counters.)"""
    headers = {"user-agent": f"mmcheck/{__version__}; hf_hub/{hf_version}"}
    token = None if constants.HF_HUB_DISABLE_IMPLICIT_TOKEN else get_token()
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


def token_in(headers: dict[str, str]) -> bool:
    """Whether ``headers`` carry a token."""
    return any(k.lower() == "authorization" for k in headers)


@dataclass(frozen=True)
class HubFile:
    """A file (or folder) in a Hub repository, with the revision as the user gave it."""

    display: str  # how the user spelled it
    repo_type: str  # model | dataset | space
    repo_id: str  # ORG/NAME
    revision: str | None  # None: the default branch
    path: str  # path in the repository ('' for its root)

    @property
    def rev(self) -> str:
        """The revision (``main`` when none was given)."""
        return self.revision or constants.DEFAULT_REVISION

    @property
    def pinned(self) -> bool:
        """The revision is a full commit hash: the file can never change."""
        return bool(_COMMIT.fullmatch(self.rev))

    @property
    def label(self) -> str:
        """``ORG/REPO`` (``datasets/ORG/REPO`` for a dataset), for messages."""
        prefix = constants.REPO_TYPES_URL_PREFIXES.get(self.repo_type, "")
        return f"{prefix}{self.repo_id}"

    def resolve_url(self) -> str:
        """``{endpoint}/ORG/REPO/resolve/REV/PATH``: the file's bytes (redirects to the CDN)."""
        url = hf_hub_url(self.repo_id, self.path, repo_type=self.repo_type, revision=self.rev, endpoint=endpoint())
        return str(url)

    def api_url(self, route: str) -> str:
        """``{endpoint}/api/{type}s/ORG/REPO/{route}/{REV}``."""
        return f"{endpoint()}/api/{self.repo_type}s/{self.repo_id}/{route}/{quote(self.rev, safe='')}"

    def web_url(self) -> str:
        """The repository's page (where a gated repository's conditions are accepted)."""
        return f"{endpoint()}/{self.label}"

    def uri(self, path: str) -> str:
        """The ``hf://`` spelling of another path in the same repository and revision."""
        prefix = constants.REPO_TYPES_URL_PREFIXES.get(self.repo_type, "")
        rev = f"@{self.revision}" if self.revision is not None else ""
        return f"hf://{prefix}{self.repo_id}{rev}/{path}" if path else f"hf://{prefix}{self.repo_id}{rev}"


def parse(path: str) -> HubFile | None:
    """The Hub file an ``hf://`` path or a Hub web URL names; None for a URL that is not the Hub's.

    Raises ``RemoteError`` for a malformed ``hf://`` path (and for buckets, which mmcheck does not read).
    """
    try:
        uri = parse_hf_uri(path, endpoint=endpoint())
    except HfUriError as e:
        if path.startswith("hf://"):
            raise RemoteError(
                f"not a valid hf:// path ({_first_line(e)}); expected hf://ORG/REPO[@REVISION]/PATH"
            ) from None
        return None
    if uri.type == "bucket":
        raise RemoteError("Hugging Face buckets are not supported; use a model or dataset repository")
    return HubFile(path, uri.type, uri.id, uri.revision, uri.path_in_repo)


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def access_hint(repo: str, token_sent: bool, *, gated: bool = False) -> str:
    """What to run when the Hub refuses access."""
    page = f"{endpoint()}/{repo}"
    if gated:
        if token_sent:
            return f"your token has no access yet: accept the conditions at {page}, then run again"
        return f"accept the conditions at {page}, then log in with `hf auth login` (or set HF_TOKEN)"
    if token_sent:
        return "check the name, and that your token (HF_TOKEN or `hf auth login`) can read it"
    return "check the name; for a private repository log in with `hf auth login` (or set HF_TOKEN)"


# ------------------------------------------------------------------------------------------------
# Metadata: paths-info and tree listings
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A file in a listing: its path in the repository, size and validator (the Hub's ETag:
    the LFS sha256, or the git blob id for files stored in git)."""

    path: str
    size: int
    etag: str | None
    lfs: bool


def _entry(item: dict[str, Any]) -> Entry | None:
    if item.get("type") != "file" or not isinstance(item.get("path"), str):
        return None
    lfs = item.get("lfs") if isinstance(item.get("lfs"), dict) else None
    etag = (lfs or {}).get("oid") or item.get("oid")
    size = item.get("size")
    if not isinstance(size, int):
        size = (lfs or {}).get("size")
    if not isinstance(size, int):
        return None
    return Entry(item["path"], size, normalize_etag(etag) if isinstance(etag, str) else None, lfs is not None)


def _json(client: Client, method: str, url: str, hub: HubFile, transfer: Transfer, body: bytes | None = None) -> Any:
    headers = request_headers()
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    resp = client.request(method, url, headers, transfer=transfer, body=body)
    if resp.status != 200:
        raise RemoteError(describe_status(resp, hub_repo=hub.label, token_sent=token_in(headers)), url=hub.display)
    length = resp.content_length
    data = resp.read_exact(length) if length is not None else _read_all(resp)
    resp.close()
    import json

    try:
        return json.loads(data), resp.header("Link")
    except ValueError:
        raise RemoteError(f"the Hub's API answered with something that is not JSON ({url})", url=hub.display) from None


def _read_all(resp: Any, limit: int = 64 << 20) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = resp.read(1 << 20)
        if not chunk:
            return b"".join(parts)
        total += len(chunk)
        if total > limit:
            raise RemoteError("the Hub's API answer is larger than 64 MiB")
        parts.append(chunk)


def paths_info(client: Client, hub: HubFile, paths: list[str], transfer: Transfer) -> dict[str, Entry]:
    """Size and validator of ``paths`` (files of one repository and revision), in one request."""
    body = urlencode([("paths", p) for p in paths] + [("expand", "False")]).encode()
    data, _ = _json(client, "POST", hub.api_url("paths-info"), hub, transfer, body)
    out = {}
    for item in data if isinstance(data, list) else []:
        e = _entry(item) if isinstance(item, dict) else None
        if e is not None:
            out[e.path] = e
    return out


def list_tree(client: Client, hub: HubFile, *, recursive: bool, transfer: Transfer) -> list[Entry]:
    """The files under ``hub.path`` (every level with ``recursive``), following the API's pages."""
    sub = "/" + quote(hub.path, safe="") if hub.path else ""
    url: str | None = hub.api_url("tree") + sub + "?" + urlencode({"recursive": str(recursive), "expand": "False"})
    out: list[Entry] = []
    pages = 0
    while url is not None and pages < 1000:
        data, link = _json(client, "GET", url, hub, transfer)
        for item in data if isinstance(data, list) else []:
            e = _entry(item) if isinstance(item, dict) else None
            if e is not None:
                out.append(e)
        m = _LINK_NEXT.search(link or "")
        url = m.group(1) if m else None
        pages += 1
    return out


__all__ = [
    "Entry",
    "HubFile",
    "access_hint",
    "endpoint",
    "list_tree",
    "offline",
    "parse",
    "paths_info",
    "request_headers",
    "token_in",
]
