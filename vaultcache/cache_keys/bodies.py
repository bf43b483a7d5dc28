"""Body normalisation for keys: canonical JSON, sorted forms, a fixed multipart boundary."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any, Final

from vaultcache.cache_keys.fields import Credential, lowered_names
from vaultcache.cache_keys.urls import split_query

__all__ = [
    "MULTIPART_BOUNDARY",
    "NotJSON",
    "body_parts",
    "dump_json",
    "is_form",
    "is_json",
    "load_json",
    "multipart_boundary",
    "normalize_body",
]


MULTIPART_BOUNDARY: Final = b"vaultcache-boundary"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    """Whether `content_type` is JSON (``application/json`` or ``*+json``)."""
    media_type = _media_type(content_type)
    return media_type == "application/json" or media_type.endswith("+json")


def is_form(content_type: str | None) -> bool:
    """Whether `content_type` is an URL-encoded form."""
    return _media_type(content_type) == "application/x-www-form-urlencoded"


def multipart_boundary(content_type: str | None) -> bytes | None:
    """The boundary of a multipart `content_type`, or None."""
    if not _media_type(content_type).startswith("multipart/"):
        return None
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "boundary" and value.strip().strip('"'):
            return value.strip().strip('"').encode("latin-1", "replace")
    return None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # which of two values a server reads is its choice
        raise ValueError("duplicate key")
    return result


class NotJSON(Exception):
    """The bytes given to :func:`load_json` are not JSON (or have duplicate keys)."""


def load_json(data: bytes) -> Any:
    """`data` parsed as JSON; NotJSON when it is not, or has a duplicate key."""
    try:
        return json.loads(data, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as error:
        raise NotJSON from error


def dump_json(value: Any, *, canonical: bool) -> bytes:
    """`value` as compact ASCII JSON; `canonical` sorts the keys."""
    if canonical:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")


def _strip_json(
    value: Any, names: frozenset[str], found: list[Credential], dropped: frozenset[str]
) -> Any:
    """`value` without the credential fields (at any depth), which are added to `found`,
    and without the fields named in `dropped`."""
    if isinstance(value, dict):
        kept = {}
        for name, item in value.items():
            if name.lower() in names:
                found.append(("json", name.lower(), dump_json(item, canonical=True).decode()))
            elif name.lower() not in dropped:
                kept[name] = _strip_json(item, names, found, dropped)
        return kept
    if isinstance(value, list):
        return [_strip_json(item, names, found, dropped) for item in value]
    return value


def _as_bytes(body: object) -> bytes | None:
    """The body as bytes; None when it is a stream or file that cannot be read here."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8", "surrogatepass")
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    return None


def _json_parts(
    data: bytes, names: frozenset[str], dropped: frozenset[str]
) -> tuple[bytes, bytes, list[Credential]]:
    credentials: list[Credential] = []
    try:
        stripped = _strip_json(load_json(data), names, credentials, dropped)
        canonical = dump_json(stripped, canonical=True)
    except (NotJSON, RecursionError):  # not JSON, or nested too deep to walk
        return b"raw", data, []
    return b"json", canonical, credentials


def body_parts(
    body: object,
    content_type: str | None,
    names: frozenset[str],
    dropped: frozenset[str] = frozenset(),
) -> tuple[bytes, bytes, list[Credential]]:
    """(kind, canonical bytes, credentials) of a request body."""
    data = _as_bytes(body)
    if data is None:
        # Reading a stream would consume it. A key that no other request can have means
        # such a request is never answered with another one's response.
        return b"stream", secrets.token_bytes(16), []
    if not data:
        return b"empty", b"", []
    if is_json(content_type):
        return _json_parts(data, names, dropped)
    if is_form(content_type):
        elements, credentials = split_query(data.decode("latin-1"), names, dropped)
        return b"form", "&".join(elements).encode("utf-8", "surrogatepass"), credentials
    boundary = multipart_boundary(content_type)
    if boundary is not None:  # requests picks a random boundary for every upload
        return b"multipart", data.replace(b"--" + boundary, b"--" + MULTIPART_BOUNDARY), []
    return b"raw", data, []


def normalize_body(
    body: object,
    content_type: str | None = None,
    *,
    ignored_parameters: Iterable[str] | None = None,
) -> bytes:
    """The body as a key sees it: equivalent bodies give the same bytes.

    JSON bodies (``application/json``, ``*+json``) are re-encoded with sorted keys and no
    spaces; form bodies are sorted like a query string; a multipart body gets a fixed
    boundary. Fields named in `ignored_parameters` are left out of JSON and form bodies (at
    any depth in JSON). A JSON body that does not parse, or has duplicate keys, is used as
    is. Multipart fields are not inspected for credentials.
    """
    return body_parts(body, content_type, lowered_names(ignored_parameters))[1]
