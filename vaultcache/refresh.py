"""Background refreshes for stale-while-revalidate: at most one per cache key at a time."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["Refresher"]

logger = logging.getLogger(__name__)


class Refresher:
    """Runs refreshes in up to two background threads, started on first use."""

    def __init__(self) -> None:
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, cache_key: str, refresh: Callable[[], object]) -> None:
        """Run `refresh` in the background, in the caller's context, unless one for
        `cache_key` is running already. Its failure is logged (by type only), not raised."""
        with self._lock:
            if cache_key in self._running:
                return
            self._running.add(cache_key)
            if self._executor is None:
                self._executor = ThreadPoolExecutor(2, thread_name_prefix="vaultcache-refresh")
            executor = self._executor

        def run() -> None:
            try:
                refresh()
            except Exception as exc:
                # Only the type: requests' messages quote the URL, credentials in it included.
                logger.warning("background refresh of %s failed: %s", cache_key, type(exc).__name__)
            finally:
                with self._lock:
                    self._running.discard(cache_key)

        executor.submit(contextvars.copy_context().run, run)

    def shutdown(self) -> None:
        """Wait for the refreshes under way; start no more threads until the next submit."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
