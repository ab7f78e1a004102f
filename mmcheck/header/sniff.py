"""Name what a file is when it is not GGUF, so the error tells the user what to do."""

from __future__ import annotations

import struct

#: the first bytes of a Git LFS pointer file (git-lfs spec: ``version https://git-lfs.github.com/spec/v1``)
LFS_PREFIX = b"version https://git-lfs"


def is_lfs_pointer(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a Git LFS pointer (a small text file, not the model)."""
    return head.startswith(LFS_PREFIX)


def describe_non_gguf(head: bytes, size: int) -> str:
    """One sentence for a file whose first bytes (``head``) are not the GGUF magic."""
    if is_lfs_pointer(head):
        return "this is a Git LFS pointer, not the model; run `git lfs pull` to fetch the real file"
    if size < 4:
        return f"file is only {size} bytes long, too short to be GGUF"
    magic = head[:4]
    if magic == b"PK\x03\x04":
        return "this is a zip archive (a PyTorch checkpoint or a zipped model?), not GGUF; unzip or convert it"
    if magic[:2] == b"\x1f\x8b":
        return "this is a gzip-compressed file, not GGUF; decompress it first"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "this is a tar archive, not GGUF; extract it first"
    if magic in (b"lmgg", b"fmgg", b"tjgg", b"ggml", b"ggmf", b"ggjt"):
        return "this is a legacy GGML/GGJT file (pre-2023); re-convert it to GGUF"
    if magic == b"FUGG":
        return "GGUF magic is byte-swapped (corrupt or written by a broken tool)"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "this is a Python pickle (a PyTorch .bin checkpoint?), not GGUF; convert it with llama.cpp's converter"
    if len(head) >= 9:
        (n,) = struct.unpack_from("<Q", head, 0)
        if 2 <= n < size and head[8:9] == b"{":
            return "this is a safetensors file, not GGUF; convert it with llama.cpp's convert_hf_to_gguf.py"
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "this is an HTML page (a failed download?), not GGUF"
    if stripped.startswith(b"{") or stripped.startswith(b"["):
        return "this is a JSON/text file, not GGUF"
    return f"not a GGUF file (magic bytes {magic!r}, expected b'GGUF')"
