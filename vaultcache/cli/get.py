"""``vaultcache get URL``: fetch through the configured cache, like curl.

The body goes to stdout as bytes; ``-i`` first prints the status line and headers, plus an
``X-Vaultcache: hit|miss|revalidated`` line that only shows where the response came from
(it is never sent to the origin). An ``--only-if-cached`` miss also says "not in the cache"
on stderr. The exit status is 0 for 1xx-3xx, 1 for 4xx and 5xx (an
``--only-if-cached`` miss is a 504) and for network errors, 2 for bad usage or settings.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

import requests

from vaultcache.cli.common import add_cache_arguments
from vaultcache.cli.opening import open_session
from vaultcache.models import AnyResponse
from vaultcache.policy.settings import RFC9111_MODES

__all__ = ["add_parser", "head", "source"]

DEFAULT_TIMEOUT = 30.0


def add_parser(commands: Any) -> None:
    """Add the ``get`` subcommand."""
    parser = commands.add_parser(
        "get", help="fetch a URL through the cache; the body goes to stdout"
    )
    parser.add_argument("url", metavar="URL")
    add_cache_arguments(parser)
    parser.add_argument(
        "--serializer",
        metavar="SPEC",
        help="spec that new entries are written with (any spec that wrote an entry reads it)",
    )
    parser.add_argument(
        "-i", "--include", action="store_true", help="print the status line and headers first"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--refresh", action="store_true", help="revalidate a stored response with the origin"
    )
    mode.add_argument(
        "--force-refresh", action="store_true", help="fetch from the origin, ignoring the cache"
    )
    mode.add_argument(
        "--only-if-cached",
        action="store_true",
        help="never contact the origin; a miss is a 504 (exit status 1)",
    )
    parser.add_argument(
        "--rfc9111",
        choices=RFC9111_MODES,
        help="HTTP caching as RFC 9111's private or shared cache (default: the config's)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"network timeout (default {DEFAULT_TIMEOUT:g})",
    )
    parser.set_defaults(run=_run)


def source(response: AnyResponse) -> str:
    """Where a response came from: ``hit``, ``miss`` or ``revalidated``."""
    if getattr(response, "revalidated", False):
        return "revalidated"
    return "hit" if getattr(response, "from_cache", False) else "miss"


def head(response: AnyResponse) -> bytes:
    """The status line and headers as ``-i`` prints them (CRLF line ends, blank line last)."""
    lines = [f"HTTP/1.1 {response.status_code} {response.reason or ''}".rstrip()]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    lines.append(f"X-Vaultcache: {source(response)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def _run(args: argparse.Namespace) -> int:
    problem = _check_url(args.url)
    if problem:
        print(f"vaultcache: error: {problem}", file=sys.stderr)
        return 2
    session = open_session(args)
    try:
        response = session.request(
            "GET",
            args.url,
            timeout=args.timeout,
            refresh=args.refresh,
            force_refresh=args.force_refresh,
            only_if_cached=args.only_if_cached,
        )
        body = response.content
    except requests.RequestException as exc:
        print(f"vaultcache: error: {_describe(exc, args.url)}", file=sys.stderr)
        return 1
    finally:
        session.close()
    if args.only_if_cached and source(response) == "miss":
        print(
            f"vaultcache: not in the cache: {args.url} (--only-if-cached: the origin was not "
            "contacted; answered 504)",
            file=sys.stderr,
        )
    out = sys.stdout.buffer
    if args.include:
        out.write(head(response))
    out.write(body)
    out.flush()
    return 1 if response.status_code >= 400 else 0


def _check_url(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        return f"URL {url!r} must start with http:// or https://"
    if not parts.hostname:
        return f"URL {url!r} has no host"
    return None


def _describe(exc: requests.RequestException, url: str) -> str:
    """One line for a failed fetch: what failed and the underlying OS reason, no traceback."""
    parts = urlsplit(url)
    where = parts.hostname or "?"
    if parts.port:
        where += f":{parts.port}"
    if isinstance(exc, requests.Timeout):
        what = f"timed out talking to {where}"
    elif isinstance(exc, requests.ConnectionError):
        what = f"could not connect to {where}"
    else:
        what = f"request to {where} failed ({type(exc).__name__})"
    reason = _os_reason(exc)
    return f"{what}: {reason}" if reason else what


def _os_reason(exc: BaseException) -> str | None:
    """The first operating-system error (such as "Connection refused") behind `exc`."""
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror)
        if isinstance(current, BaseException):
            pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
            pending += [arg for arg in current.args if isinstance(arg, BaseException)]
    return None
