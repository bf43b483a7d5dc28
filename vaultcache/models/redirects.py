"""Where a stored redirect leads: ``CachedResponse.next``, as requests builds ``Response.next``."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests
from requests.sessions import SessionRedirectMixin

__all__ = ["redirect_target"]


def redirect_target(response: requests.Response) -> requests.PreparedRequest | None:
    """The request that following `response` would send, or None if it is not a redirect.

    Method rewriting is requests' (``rebuild_method``): a 303 becomes GET, and so do a 302
    and a 301 after a POST. Only method and URL are set: stored request headers are redacted.
    """
    location = SessionRedirectMixin().get_redirect_target(response)
    if location is None:
        return None
    method = (response.request.method or "GET").upper() if response.request else "GET"
    status = response.status_code
    if (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST"):
        method = "GET"
    if location.startswith("//"):  # scheme-relative, as requests resolves it
        location = f"{urlsplit(response.url).scheme}:{location}"
    return requests.Request(method, urljoin(response.url, location)).prepare()
