"""The writer process of the crash-safety test (run as a script; not a test module).

``python crash_writer.py BACKEND CACHE KEY BASE_URL SEED``: fetches twenty URLs (bodies of a
few bytes to 400 KiB) through a CachedSession, then rewrites their entries through its cache
as fast as it can, until it is killed; now and then it fetches one again instead. Prints
``ready`` once the session is open.
"""

from __future__ import annotations

import random
import sys

from vaultcache.session import CachedSession


def main(backend: str, cache: str, key: str, base_url: str, seed: str) -> None:
    """Write until killed."""
    rng = random.Random(seed)
    session = CachedSession(cache, backend=backend, keys=[key])
    print("ready", flush=True)
    pads = (0, 1000, 50_000, 400_000)
    urls = [f"{base_url}/crash/{number}?pad={pads[number % 4]}" for number in range(20)]
    keys = [session.get(url, timeout=10).cache_key for url in urls]
    stored = [session.cache.get_response(key) for key in keys]
    for response in stored:  # in memory: the stored chunks change under the rewrites
        response.load_body()
    while True:
        number = rng.randrange(len(urls))
        if rng.random() < 0.05:
            session.get(urls[number], force_refresh=True, timeout=10)
        else:  # the same response again, freshly encrypted: a full rewrite of its entry
            session.cache.save_response(stored[number])


if __name__ == "__main__":
    main(*sys.argv[1:])
