from typing import Any

def walk(
    data: Any, start: int, count: int, avail: int, big_endian: bool, every: int, /
) -> tuple[int, list[int]] | None: ...
