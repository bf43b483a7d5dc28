"""UNPICKLING LIVES HERE, AND ONLY HERE. Read this before calling it.

requests-cache stores entries as pickles that nothing authenticates: anyone who could write
the cache file chose what unpickling it does. :func:`load_trusted_pickle` is the one place
vaultcache unpickles, and it is only called by ``vaultcache import --from-requests-cache
PATH --trust-local-pickles``: the flag is the user saying the file is theirs and nobody
else could have written it.

Even then the unpickler is restricted: it resolves no global at all (no class, no function),
so a pickle can build only plain containers, strings, bytes and numbers; one that names any
global is refused with :class:`PickleRefused`. requests-cache 1.x's default serializer
(cattrs-unstructured dicts, then pickle) needs nothing more.
"""

from __future__ import annotations

import io
import pickle
from typing import Any, NoReturn

__all__ = ["PickleRefused", "load_trusted_pickle"]


class PickleRefused(ValueError):
    """A pickle that needs a global (a class or function) to load; not loaded."""


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> NoReturn:
        # The names are not shown: they are chosen by whoever wrote the file.
        raise PickleRefused("the pickle names a class or function; refused")


def load_trusted_pickle(data: bytes) -> Any:
    """Unpickle `data`, which the user vouched for, allowing plain data only."""
    try:
        return _NoGlobals(io.BytesIO(data)).load()
    except PickleRefused:
        raise
    except Exception as exc:  # any malformed pickle, as one error type
        raise PickleRefused(f"not a readable pickle ({type(exc).__name__})") from None
