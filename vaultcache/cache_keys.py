"""Cache keys: which requests share a stored response, and what of a request is stored.

:func:`create_key` turns a request into a 32-hex-digit key: a SHA-256 (truncated to 128 bits)
over a length-prefixed encoding of the method, the normalised URL, the normalised body, the
headers the caller asked to match, and one digest per credential. The encoding starts with
:data:`KEY_VERSION`, so keys stay the same across releases until that version changes.

Credentials (:data:`DEFAULT_CREDENTIAL_PARAMETERS`, matched case-insensitively as header names,
query parameters and form or JSON body fields, plus any userinfo in the URL) never enter the
key as plain text. Each one is mixed in as an HMAC-SHA256 of its location, name and value
under the caller's `secret`, so two users with different tokens get different keys without
their tokens being recoverable from a key by guessing. ``share_credentials=True`` leaves them
out entirely, so responses are shared across users: an explicit, documented opt-in.

Ignored parameters (``ignored_parameters``, none by default: a cache-buster ``t=``, a request
id) are left out of the key altogether, as in requests-cache, so requests that differ only in
them share a response. A name that is in both lists is a credential: a secret must never be
merely ignored, or users would be served each other's responses.

The redact_* functions give what is stored with a response: the same request with each
credential value replaced by :data:`REDACTED`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import requests
from requests.structures import CaseInsensitiveDict

__all__ = [
    "DEFAULT_CREDENTIAL_PARAMETERS",
    "KEY_VERSION",
    "REDACTED",
    "VOLATILE_HEADERS",
    "RequestLike",
    "create_key",
    "normalize_body",
    "normalize_url",
    "redact_body",
    "redact_headers",
    "redact_request",
    "redact_url",
]

KEY_VERSION: Final = b"vaultcache-key-v1"
"""The first field of every key's encoding; changing it changes every key."""

REDACTED: Final = "REDACTED"

DEFAULT_CREDENTIAL_PARAMETERS: Final[tuple[str, ...]] = (
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "X-API-Key",
    "api_key",
    "api-key",
    "apikey",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
    "password",
    "signature",
    "sig",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Goog-Signature",
)
"""Credential names: headers, query parameters and body fields, matched case-insensitively."""

VOLATILE_HEADERS: Final = frozenset(
    {
        # Hop-by-hop and framing: they describe the connection, not the resource.
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
        # Cache control and the conditions the cache itself adds when revalidating.
        "cache-control",
        "pragma",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "if-range",
        # Different on every request by design.
        "date",
        "traceparent",
        "tracestate",
        "x-request-id",
        "x-correlation-id",
        "x-amzn-trace-id",
    }
)
"""Headers that ``match_headers=True`` leaves out of the key."""

_CREDENTIAL_PREFIX: Final = b"vaultcache-credential-v1\x00"
_MULTIPART_BOUNDARY: Final = b"vaultcache-boundary"
_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters left as they are in a path or query component (RFC 3986 §3.3, §3.4): unreserved,
# sub-delims, ":", "@", "/", "?". Anything else is percent-encoded as UTF-8.
_KEEP: Final = _UNRESERVED | frozenset("!$&'()*+,;=:@/?")
_PERCENT_OR_OTHER: Final = re.compile(r"%([0-9A-Fa-f]{2})|[^" + re.escape("".join(_KEEP)) + "]")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}

Credential = tuple[str, str, str]  # (location, lowercase name, value)


class RequestLike(Protocol):
    """What a key needs of a request: a PreparedRequest, a CachedRequest, or the like."""

    @property
    def method(self) -> str | None: ...

    @property
    def url(self) -> str | None: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def body(self) -> object: ...


def _names(names: Iterable[str] | None) -> frozenset[str]:
    if names is None:
        return frozenset()
    if isinstance(names, str):  # one name, not its characters
        names = (names,)
    if isinstance(names, tuple):
        return _lowered(names)  # the common case, on every request: computed once
    return frozenset(name.lower() for name in names)


@functools.lru_cache(maxsize=64)
def _lowered(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name.lower() for name in names)


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return value if isinstance(value, str) else str(value)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if isinstance(headers, CaseInsensitiveDict):
        value = headers.get(name)
        return None if value is None else _text(value)
    found = [_text(value) for key, value in headers.items() if _text(key).lower() == name]
    return ", ".join(found) if found else None


# -- URLs -----------------------------------------------------------------------------------


def _normalize_percent(component: str) -> str:
    """Uppercase percent-escapes, decode unreserved ones, encode what may not appear as is.

    Syntax-based normalisation of RFC 3986 §6.2.2.1-2: the result is equivalent to the input.
    """

    def replace(match: re.Match[str]) -> str:
        escaped = match[1]
        if escaped is None:
            return "".join(f"%{byte:02X}" for byte in match[0].encode("utf-8", "surrogatepass"))
        char = chr(int(escaped, 16))
        return char if char in _UNRESERVED else f"%{escaped.upper()}"

    return _PERCENT_OR_OTHER.sub(replace, component)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 (urllib3 does the same before sending)."""
    output: list[str] = []
    for segment in path.split("/")[1:] if path.startswith("/") else path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = path.endswith(("/.", "/..")) or path in {".", ".."}
    result = "/".join(output) + ("/" if trailing and output else "")
    return "/" + result if path.startswith("/") else result


def _split_query(
    query: str, names: frozenset[str], dropped: frozenset[str] = frozenset()
) -> tuple[list[str], list[Credential]]:
    """Normalised ``name=value`` elements (sorted by name, stable) and the credentials.

    Elements named in `dropped` (ignored parameters) are left out.
    """
    kept: list[tuple[str, str]] = []
    credentials: list[Credential] = []
    for element in query.split("&"):
        if not element:
            continue
        name, equals, value = element.partition("=")
        lowered = unquote_plus(name).lower() if names or dropped else ""
        if names and lowered in names:
            credentials.append(("query", lowered, _normalize_percent(value)))
        elif dropped and lowered in dropped:
            continue
        else:
            kept.append((_normalize_percent(name), equals + _normalize_percent(value)))
    kept.sort(key=lambda pair: pair[0])  # a stable sort: repeated names keep their order
    return [name + rest for name, rest in kept], credentials


def _authority(netloc: str, scheme: str) -> tuple[str, str]:
    """(lowercase host and non-default port, userinfo) of a URL's authority."""
    userinfo, _, hostport = netloc.rpartition("@")
    hostport = hostport.lower()
    host, colon, port = hostport.rpartition(":")
    if colon and "]" not in port and port.isascii() and port.isdigit() and len(port) < 10:
        hostport = host if int(port) == _DEFAULT_PORTS.get(scheme) else f"{host}:{int(port)}"
    elif colon and not port:
        hostport = host
    return hostport, userinfo


def _split_url(
    url: str, names: frozenset[str], dropped: frozenset[str] = frozenset()
) -> tuple[str, list[Credential]]:
    """The normalised URL without credentials, and the credentials found in it."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # not a URL requests could send; key it as it is
        return url.partition("#")[0], []
    scheme = parts.scheme.lower()
    hostport, userinfo = _authority(parts.netloc, scheme)
    credentials: list[Credential] = [("url", "userinfo", userinfo)] if userinfo else []
    path = _remove_dot_segments(_normalize_percent(parts.path))
    if hostport and not path.startswith("/"):
        path = "/" + path
    query, query_credentials = _split_query(parts.query, names, dropped)
    normalized = urlunsplit((scheme, hostport, path, "&".join(query), ""))
    return normalized, credentials + query_credentials


def normalize_url(url: str, *, ignored_parameters: Iterable[str] | None = None) -> str:
    """The URL as a key sees it; equivalent URLs give the same text (RFC 3986 §6.2.2-3).

    Scheme and host are lowercased, default ports dropped, percent-encoding normalised, dot
    segments removed, an empty path made "/", query parameters sorted by name (repeated
    names keep their relative order; empty elements dropped), and the fragment and any
    userinfo removed. Parameters named in `ignored_parameters` are left out.
    """
    return _split_url(url, _names(ignored_parameters))[0]


# -- bodies ---------------------------------------------------------------------------------


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(content_type: str | None) -> bool:
    media_type = _media_type(content_type)
    return media_type == "application/json" or media_type.endswith("+json")


def _is_form(content_type: str | None) -> bool:
    return _media_type(content_type) == "application/x-www-form-urlencoded"


def _boundary(content_type: str | None) -> bytes | None:
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


class _NotJSON(Exception):
    pass


def _load_json(data: bytes) -> Any:
    try:
        return json.loads(data, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as error:
        raise _NotJSON from error


def _dump_json(value: Any, *, canonical: bool) -> bytes:
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
                found.append(("json", name.lower(), _dump_json(item, canonical=True).decode()))
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
        stripped = _strip_json(_load_json(data), names, credentials, dropped)
        canonical = _dump_json(stripped, canonical=True)
    except (_NotJSON, RecursionError):  # not JSON, or nested too deep to walk
        return b"raw", data, []
    return b"json", canonical, credentials


def _body_parts(
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
    if _is_json(content_type):
        return _json_parts(data, names, dropped)
    if _is_form(content_type):
        elements, credentials = _split_query(data.decode("latin-1"), names, dropped)
        return b"form", "&".join(elements).encode("utf-8", "surrogatepass"), credentials
    boundary = _boundary(content_type)
    if boundary is not None:  # requests picks a random boundary for every upload
        return b"multipart", data.replace(b"--" + boundary, b"--" + _MULTIPART_BOUNDARY), []
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
    return _body_parts(body, content_type, _names(ignored_parameters))[1]


# -- headers and keys -----------------------------------------------------------------------


def _header_parts(
    headers: Mapping[str, str],
    match_headers: Iterable[str] | bool | None,
    names: frozenset[str],
    share_credentials: bool,
    *,
    shared: frozenset[str] = frozenset(),
    dropped: frozenset[str] = frozenset(),
) -> tuple[list[tuple[str, str]], list[Credential]]:
    """(matched headers, credentials) of a request's headers; `shared` credential headers
    count only when matched; `dropped` are never matched."""
    match_all = match_headers is True
    matched = frozenset() if isinstance(match_headers, bool | None) else _names(match_headers)
    parts: list[tuple[str, str]] = []
    credentials: list[Credential] = []
    for raw_name, raw_value in headers.items():
        name, value = _text(raw_name).lower(), _text(raw_value).strip()
        if name in names:
            # Named explicitly (as from a Vary header), a credential header always counts.
            if not (share_credentials or name in shared) or name in matched:
                credentials.append(("header", name, value))
        elif name in dropped:
            continue
        elif name in matched or (match_all and name not in VOLATILE_HEADERS):
            boundary = _boundary(value) if name == "content-type" else None
            if boundary is not None:
                value = value.replace(_text(boundary), _MULTIPART_BOUNDARY.decode())
            parts.append((name, value))
    return sorted(parts), credentials


def _encode(fields: Iterable[bytes | str]) -> bytes:
    """A length-prefixed concatenation: no two lists of fields encode the same."""
    chunks = []
    for field in fields:
        data = field.encode("utf-8", "surrogatepass") if isinstance(field, str) else field
        chunks.append(len(data).to_bytes(8, "big") + data)
    return b"".join(chunks)


def _credential_digest(credential: Credential, secret: bytes | None) -> bytes:
    message = _encode(credential)
    if secret is None:
        return hashlib.sha256(_CREDENTIAL_PREFIX + message).digest()
    return hmac.new(secret, message, hashlib.sha256).digest()


def _prepared(request: RequestLike | requests.Request) -> RequestLike:
    return request.prepare() if isinstance(request, requests.Request) else request


def create_key(
    request: RequestLike | requests.Request,
    *,
    match_headers: Iterable[str] | bool | None = None,
    credential_parameters: Iterable[str] | None = DEFAULT_CREDENTIAL_PARAMETERS,
    ignored_parameters: Iterable[str] | None = None,
    secret: bytes | None = None,
    share_credentials: bool = False,
    verify: object = True,
    shared_headers: Iterable[str] = (),
    **kwargs: object,
) -> str:
    """The cache key of a request: 32 hex digits, stable across processes and releases.

    The key covers the method, the normalised URL (:func:`normalize_url`), the normalised
    body (:func:`normalize_body`) and the headers in `match_headers`: a list of names
    (case-insensitive; a Vary header's names, for instance), True for every header except
    :data:`VOLATILE_HEADERS`, or None / False for none.

    Credentials named in `credential_parameters` (and URL userinfo) are kept out of the key's
    plain-text fields; each is mixed in as HMAC-SHA256 under `secret` (the session passes
    a key-ring subkey), so different users get different keys. Without a secret a
    domain-separated SHA-256 is used: still per-user, but a key then lets someone who
    knows the rest of the request test guesses of a weak credential offline.
    `share_credentials=True` leaves credentials out of the key altogether so users share
    responses; headers named in `match_headers` still count. `shared_headers` names credential
    headers left out in the same way while other credentials still count (a shared cache's
    ``Authorization``, RFC 9111 §3.5). ``verify=False`` (TLS not verified) gives a key of its
    own, as in requests-cache; any other `verify` (True, a CA bundle path) leaves the key as
    it is. `credential_parameters=None` treats nothing as a credential. Names in
    `ignored_parameters` (query parameters, form and JSON body fields, headers) are left out
    of the key entirely, unless they are also credentials. Other keyword arguments (the
    session's request options)
    are accepted and ignored, so this is a valid ``key_fn(request, **kwargs)``.

    A body that is a stream or file gets a random key: it cannot be read without being
    consumed, and its response must not answer any other request.
    """
    prepared = _prepared(request)
    names = _names(credential_parameters)
    dropped = _names(ignored_parameters) - names if ignored_parameters else frozenset()
    url, credentials = _split_url(prepared.url or "", names, dropped)
    content_type = _header(prepared.headers, "content-type")
    kind, body, body_credentials = _body_parts(prepared.body, content_type, names, dropped)
    headers, header_credentials = _header_parts(
        prepared.headers,
        match_headers,
        names,
        share_credentials,
        shared=_names(shared_headers),
        dropped=dropped,
    )
    credentials += body_credentials
    if share_credentials:
        credentials = []
    credentials += header_credentials
    fields: list[bytes | str] = [KEY_VERSION, "method", (prepared.method or "GET").upper()]
    fields += ["url", url, "body", kind, body]
    for name, value in headers:
        fields += ["header", name, value]
    for credential in sorted(credentials):
        fields += ["credential", _credential_digest(credential, secret)]
    if verify is False:
        fields += ["verify", "false"]
    return hashlib.sha256(_encode(fields)).hexdigest()[:32]


# -- redaction ------------------------------------------------------------------------------


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
    names_set = _names(names)
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
    names_set = _names(names)
    return CaseInsensitiveDict(
        {
            name: REDACTED if _text(name).lower() in names_set else value
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
    if _is_json(content_type):
        try:
            redacted, changed = _redact_json(_load_json(data), names)
            return _dump_json(redacted, canonical=False) if changed else data
        except (_NotJSON, RecursionError):
            return data
    if _is_form(content_type):
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
    names_set = _names(names)
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
    source = _prepared(request)
    # A new object rather than a copy: a copy would carry the cookie jar along.
    redacted = requests.PreparedRequest()
    redacted.method = source.method
    names_set = _names(names)
    headers = CaseInsensitiveDict(dict(source.headers))
    redacted.url = redact_url(source.url or "", names_set)
    redacted.headers = redact_headers(headers, names_set)
    body = redact_body(source.body, _header(headers, "content-type"), names_set)
    redacted.body = body
    if body is not source.body and "Content-Length" in redacted.headers:
        length = len(body.encode("utf-8") if isinstance(body, str) else body)
        redacted.headers["Content-Length"] = str(length)
    return redacted
