"""Recognising key material in text, so that no message ever quotes it."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

__all__ = ["KEY_MATERIAL_HINT", "looks_like_key", "quotes_key"]

_KEY_TEXT: Final = re.compile(r"[A-Za-z0-9_+/-]{43}=?")

#: Why a setting that holds key material is refused, and where keys go instead.
KEY_MATERIAL_HINT: Final = (
    "this looks like key material (not shown); keys go in VAULTCACHE_KEYS or a key file "
    "named by VAULTCACHE_KEY_FILE"
)


def looks_like_key(text: str) -> bool:
    """True when `text` holds a 32-byte base64 token, the text form of a vaultcache key.

    Tokens are separated by whitespace, commas and semicolons. Case is ignored in effect (a
    lowercased key still decodes to 32 bytes).
    """
    for token in re.split(r"[\s,;]+", text):
        if _KEY_TEXT.fullmatch(token):
            raw = token.rstrip("=").replace("+", "-").replace("/", "_") + "="
            try:
                if len(base64.urlsafe_b64decode(raw)) == 32:
                    return True
            except (binascii.Error, ValueError):
                continue
    return False


def quotes_key(message: str) -> bool:
    """True when `message` holds key material anywhere, quoted or joined with ``+``."""
    return looks_like_key(message) or looks_like_key(re.sub(r"[+'\"()]", " ", message))
