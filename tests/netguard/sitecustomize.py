"""Loaded by every subprocess the remote tests start (via PYTHONPATH): refuse any connection that is
not to 127.0.0.1, so no test can reach beyond the loopback hub even by mistake."""

from __future__ import annotations

import socket

_connect = socket.socket.connect


def _loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        return address[0] in ("127.0.0.1", "localhost")
    return not isinstance(address, tuple)  # unix sockets


def _guarded_connect(self: socket.socket, address: object) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
        raise ConnectionRefusedError(f"netguard: tests may only connect to 127.0.0.1, not {address!r}")
    _connect(self, address)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]

_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    if host not in (None, "127.0.0.1", "localhost", b"127.0.0.1", b"localhost"):
        raise socket.gaierror(f"netguard: tests may not resolve {host!r}")
    return _getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
