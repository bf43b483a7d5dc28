"""Helpers shared by the adversarial suite and its subprocesses (not a test module)."""

from __future__ import annotations

import hashlib
import random
from urllib.parse import parse_qs, urlsplit

__all__ = ["BODY_MARKER", "body_for", "check_response", "flip"]

#: In every body the test origin sends: it must never show in logs or error messages.
BODY_MARKER = "plaintext-marker-5e1f"


def body_for(path: str) -> bytes:
    """The body the test origin sends for `path` (with its query).

    It names the path and a digest of path and query (so a query's secrets never show in
    it), padded to a length that depends on both (plus ``pad`` from the query): a wrong or
    torn body cannot pass.
    """
    digest = hashlib.sha256(path.encode()).hexdigest()
    pad = parse_qs(urlsplit(path).query).get("pad", ["0"])[0]
    size = 50 + int(digest[:4], 16) % 3000 + min(int(pad) if pad.isdigit() else 0, 10**6)
    text = f"path={urlsplit(path).path};digest={digest};{BODY_MARKER};"
    # Incompressible, so stored entries are as large as the bodies and writes take time.
    return text.encode() + random.Random(digest).randbytes(size)


def check_response(url: str, status: int, content: bytes) -> str | None:
    """None when a response is the right one for `url`, else what is wrong with it."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if status != 200:
        return f"{path}: status {status}"
    if content != body_for(path):
        return f"{path}: wrong body {content[:60]!r}"
    return None


def flip(data: bytes, position: int, bit: int = 0) -> bytes:
    """`data` with one bit flipped."""
    tampered = bytearray(data)
    tampered[position] ^= 1 << bit
    return bytes(tampered)
