"""The writer process of the crash-safety test (run as a script; not a test module).

``python crash_writer.py BACKEND CACHE KEY BASE_URL SEED``: writes entries through a
CachedSession as fast as it can, overwriting the same twenty URLs with bodies of random
sizes, until it is killed. Prints ``ready`` once the session is open.
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
    while True:
        number = rng.randrange(20)
        pad = rng.choice((0, 1000, 50_000, 400_000))
        session.get(f"{base_url}/crash/{number}?pad={pad}", force_refresh=True, timeout=10)


if __name__ == "__main__":
    main(*sys.argv[1:])
