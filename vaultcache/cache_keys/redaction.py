"""What is stored of a request: the same request with each credential value REDACTED."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import requests
from requests.structures import CaseInsensitiveDict

from vaultcache.cache_keys.bodies import NotJSON, dump_json, is_form, is_json, load_json
from vaultcache.cache_keys.fields import (
    DEFAULT_CREDENTIAL_PARAMETERS,
    RequestLike,
    as_prepared,
    as_text,
    header_value,
    lowered_names,
)

__all__ = ["REDACTED", "redact_body", "redact_headers", "redact_request", "redact_url"]


REDACTED: Final = "REDACTED"


def _redact_query(query: str, names: frozenset[str]) -> str:
    elements = query.split("&")
    for index, element in enumerate(elements):
        name, equals, _ = element.partition("=")
        if equals and unquote_plus(name).lower() in names:
            elements[index] = f"{name}={REDACTED}"
    return "&".join(elements)


def redact_url(url: str, names: Iterable[str] | None = DEFAULT_CREDENTIAL_PARAMETERS) -> str:
    """`url` with the values of credential query parameters and any userinfo redacted.

    Everything else (order, encoding, fragment) is left as it was.
    """
    names_set = lowered_names(names)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    _, at, hostport = parts.netloc.rpartition("@")
    netloc = f"{REDACTED}@{hostport}" if at else parts.netloc
    query = _redact_query(parts.query, names_set) if names_set else parts.query
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact_headers(
    headers: Mapping[str, str], names: Iterable[str] | None = DEFAULT_CREDENTIAL_PARAMETERS
) -> CaseInsensitiveDict[str]:
    """A copy of `headers` with the values of credential headers replaced by REDACTED."""
    names_set = lowered_names(names)
    return CaseInsensitiveDict(
        {
            name: REDACTED if as_text(name).lower() in names_set else value
            for name, value in headers.items()
        }
    )


def _redact_json(value: Any, names: frozenset[str]) -> tuple[Any, bool]:
    if isinstance(value, dict):
        changed = False
        result = {}
        for name, item in value.items():
            if name.lower() in names:
                result[name], changed = REDACTED, True
            else:
                result[name], item_changed = _redact_json(item, names)
                changed = changed or item_changed
        return result, changed
    if isinstance(value, list):
        items = [_redact_json(item, names) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    return value, False


def _redact_bytes(data: bytes, content_type: str | None, names: frozenset[str]) -> bytes:
    if is_json(content_type):
        try:
            redacted, changed = _redact_json(load_json(data), names)
            return dump_json(redacted, canonical=False) if changed else data
        except (NotJSON, RecursionError):
            return data
    if is_form(content_type):
        return _redact_query(data.decode("latin-1"), names).encode("latin-1")
    return data


def redact_body(
    body: Any, content_type: str | None, names: Iterable[str] | None = DEFAULT_CREDENTIAL_PARAMETERS
) -> Any:
    """`body` with credential fields of a JSON or form body replaced by REDACTED.

    Returns the same type it was given (bytes or str); any other body, or one with nothing
    to redact, is returned unchanged. A redacted JSON body is re-encoded compactly, in its
    original key order. Multipart bodies are not inspected.
    """
    names_set = lowered_names(names)
    if not names_set or not isinstance(body, bytes | str) or not body:
        return body
    if isinstance(body, str):
        data = body.encode("utf-8", "surrogatepass")
        redacted = _redact_bytes(data, content_type, names_set)
        return body if redacted == data else redacted.decode("utf-8", "surrogatepass")
    return _redact_bytes(body, content_type, names_set)


def redact_request(
    request: RequestLike | requests.Request,
    names: Iterable[str] | None = DEFAULT_CREDENTIAL_PARAMETERS,
) -> requests.PreparedRequest:
    """A new PreparedRequest like `request`, with the value of every field in `names` REDACTED.

    Every stored response's request is redacted so (:mod:`vaultcache.redaction`), with the
    session's credential and ignored parameters both. URL query and userinfo,
    headers, and JSON / form body fields are redacted (regardless of ``share_credentials``:
    it shares responses, it does not store secrets); Content-Length is updated when the body
    changes. The original request is not modified.
    """
    source = as_prepared(request)
    # A new object rather than a copy: a copy would carry the cookie jar along.
    redacted = requests.PreparedRequest()
    redacted.method = source.method
    names_set = lowered_names(names)
    headers = CaseInsensitiveDict(dict(source.headers))
    redacted.url = redact_url(source.url or "", names_set)
    redacted.headers = redact_headers(headers, names_set)
    body = redact_body(source.body, header_value(headers, "content-type"), names_set)
    redacted.body = body
    if body is not source.body and "Content-Length" in redacted.headers:
        length = len(body.encode("utf-8") if isinstance(body, str) else body)
        redacted.headers["Content-Length"] = str(length)
    return redacted
