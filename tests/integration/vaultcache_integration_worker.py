"""The body of each spawned process in the shared-sqlite test (a module, so spawn can import it).

Not a test module: ``test_integration_concurrency.py`` puts this directory on ``sys.path``
before starting processes, and spawned children inherit that path.
"""

from __future__ import annotations

from vaultcache.session import CachedSession


def fetch_many(
    cache_path: str, key: str, base_url: str, paths: list[str], rounds: int, offset: int
) -> dict[str, object]:
    """Request `rounds` URLs (cycling through `paths`) through a CachedSession of our own.

    Every tenth request forces a refresh, so processes also write while others read.
    Returns counts and a list of problems (empty when every body was right).
    """
    problems: list[str] = []
    from_cache = 0
    session = CachedSession(cache_path, keys=[key])
    try:
        for number in range(rounds):
            path = paths[(number + offset) % len(paths)]
            size = 500 + 100 * paths.index(path)
            response = session.get(
                f"{base_url}{path}?size={size}", force_refresh=number % 10 == 9, timeout=30
            )
            from_cache += bool(response.from_cache)
            document = response.json()
            if response.status_code != 200 or document.get("path") != path:
                problems.append(f"{path}: got {response.status_code} {document.get('path')}")
            elif len(response.content) != size:
                problems.append(f"{path}: body of {len(response.content)} bytes, not {size}")
    except Exception as error:  # reported to the parent, which fails the test
        problems.append(f"{type(error).__name__}: {error}")
    finally:
        session.close()
    return {"problems": problems, "from_cache": from_cache, "requests": rounds}
