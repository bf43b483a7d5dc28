"""URL normalisation for keys (RFC 3986 §6.2.2-3), with credentials split out of the query."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from vaultcache.cache_keys.fields import Credential, lowered_names

__all__ = ["normalize_url", "split_query", "split_url"]


_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


# Characters left as they are in a path or query component (RFC 3986 §3.3, §3.4): unreserved,
# sub-delims, ":", "@", "/", "?". Anything else is percent-encoded as UTF-8.
_KEEP: Final = _UNRESERVED | frozenset("!$&'()*+,;=:@/?")


_PERCENT_OR_OTHER: Final = re.compile(r"%([0-9A-Fa-f]{2})|[^" + re.escape("".join(_KEEP)) + "]")


_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


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


def split_query(
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


def split_url(
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
    query, query_credentials = split_query(parts.query, names, dropped)
    normalized = urlunsplit((scheme, hostport, path, "&".join(query), ""))
    return normalized, credentials + query_credentials


def normalize_url(url: str, *, ignored_parameters: Iterable[str] | None = None) -> str:
    """The URL as a key sees it; equivalent URLs give the same text (RFC 3986 §6.2.2-3).

    Scheme and host are lowercased, default ports dropped, percent-encoding normalised, dot
    segments removed, an empty path made "/", query parameters sorted by name (repeated
    names keep their relative order; empty elements dropped), and the fragment and any
    userinfo removed. Parameters named in `ignored_parameters` are left out.
    """
    return split_url(url, lowered_names(ignored_parameters))[0]
