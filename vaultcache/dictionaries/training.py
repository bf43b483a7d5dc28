"""Training a zstd dictionary from a sample of a cache's stored responses."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Final, Protocol

import attrs

from vaultcache.backends.base import BaseStorage
from vaultcache.dictionaries.store import DictionaryStore, takes_dictionary
from vaultcache.entries import INLINE_LIMIT
from vaultcache.errors import ConfigError, ConfigTypeError, EntryError, TrainingError
from vaultcache.models import CachedResponse

if TYPE_CHECKING:
    from vaultcache.serializers.pipeline import SerializerPipeline

__all__ = [
    "DEFAULT_DICTIONARY_SIZE",
    "DEFAULT_SAMPLES",
    "TrainableCache",
    "TrainingReport",
    "check_train_after",
    "train",
]

#: Size of a trained dictionary: zstd's own default, 110 KiB.
DEFAULT_DICTIONARY_SIZE: Final = 110 * 1024
#: How many stored responses are read to train one.
DEFAULT_SAMPLES: Final = 1000
#: Fewer samples than this train nothing useful (and zstd's trainer may refuse them).
MIN_SAMPLES: Final = 8


class TrainableCache(Protocol):
    """What training reads of a :class:`~vaultcache.cache.BaseCache`."""

    storage: BaseStorage

    @property
    def serializer(self) -> Any:
        """The pipeline new entries are written with."""

    @property
    def dictionaries(self) -> DictionaryStore | None:
        """Where the cache keeps its dictionaries (None: it cannot hold any)."""

    def read_entry(self, key: str, data: bytes) -> CachedResponse:
        """The response in `data`, the stored head of `key`; raises EntryError."""


@attrs.frozen
class TrainingReport:
    """What :func:`train` did: the new dictionary's id and size, and how many responses
    (encoded records, `sample_bytes` in all) it learnt from."""

    dictionary_id: str
    size: int
    samples: int
    sample_bytes: int
    #: The dictionary new entries were written with before (it stays, for their entries).
    previous_id: str | None


def train(
    cache: TrainableCache,
    *,
    size: int = DEFAULT_DICTIONARY_SIZE,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = None,
) -> TrainingReport:
    """Train a dictionary on up to `samples` stored responses (those whose body is kept
    inline, at most 64 KiB: the small ones a dictionary helps), store it sealed, and write
    new entries with it.

    The samples are what the zstd stage compresses: each response's metadata record with its
    body, as the format stage encodes it, so the dictionary learns field names, header lines
    and URLs as well as the bodies' own repetition.

    Dictionaries trained before stay: the entries that name them read as before.
    Raises TrainingError when the cache cannot hold one or has too few responses.
    """
    store = _store(cache)
    # A sample, not a secret: which responses teach the dictionary needs no unpredictability.
    records = sample_records(cache, samples, random.Random(seed))  # noqa: S311
    if len(records) < MIN_SAMPLES:
        raise TrainingError(
            f"only {len(records)} stored responses with bodies of at most 64 KiB were "
            f"readable; a dictionary needs at least {MIN_SAMPLES} (a few hundred to be useful)"
        )
    import zstandard  # noqa: PLC0415 - loaded with the zstd stage, not by `import vaultcache`

    training: list[bytes | bytearray | memoryview] = [*records]
    try:
        trained = zstandard.train_dictionary(size, training)
    except zstandard.ZstdError as exc:
        raise TrainingError(
            f"zstd could not train a dictionary from these responses ({exc})"
        ) from None
    previous = store.current_id()
    dictionary = store.add(trained.as_bytes())
    store.set_current(dictionary.id)
    return TrainingReport(
        dictionary_id=dictionary.id,
        size=len(dictionary.data),
        samples=len(records),
        sample_bytes=sum(map(len, records)),
        previous_id=previous,
    )


def _store(cache: TrainableCache) -> DictionaryStore:
    store = cache.dictionaries
    if store is None:
        raise TrainingError(
            "this cache's backend has no chunk storage, where dictionaries are kept"
        )
    if not takes_dictionary(cache.serializer):
        raise TrainingError(
            f"the serializer {cache.serializer.spec!r} has no zstd stage to use a dictionary"
        )
    return store


def sample_records(cache: TrainableCache, count: int, rng: random.Random) -> list[bytes]:
    """Up to `count` stored responses picked at random, each as the zstd stage sees it: its
    metadata record as the format stage encodes it, with the body inline (at most 64 KiB)."""
    encode = cache.serializer.stages[0].dumps
    keys = list(cache.storage)
    rng.shuffle(keys)
    records: list[bytes] = []
    for key in keys:
        if len(records) >= count:
            break
        head = cache.storage.get(key)
        if head is None:
            continue
        try:
            response = cache.read_entry(key, head)
        except EntryError:
            continue  # damaged or foreign: left for reads and `verify` to report
        if response.body_loaded and len(response.content) <= INLINE_LIMIT:
            record = encode(response)
            records.append(record.encode() if isinstance(record, str) else bytes(record))
    return records


def check_train_after(value: object, pipeline: SerializerPipeline) -> int | None:
    """`value` as the number of writes without a dictionary after which a cache trains one.

    None turns automatic training off. ConfigError unless it is an integer of at least
    :data:`MIN_SAMPLES` (fewer train nothing) and `pipeline` has a stage that takes a
    dictionary (``zstd``).
    """
    key = "dictionary.train_after"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigTypeError(
            f"expected a number of writes, got {type(value).__name__}", key=key, expected="count"
        )
    if value < MIN_SAMPLES:
        raise ConfigError(
            f"{value} writes are too few to train a dictionary on: at least {MIN_SAMPLES}",
            key=key,
            expected=f"integer >= {MIN_SAMPLES}",
        )
    if not takes_dictionary(pipeline):
        raise ConfigError(
            f"serializer {pipeline.spec!r} has no stage that compresses with a dictionary: "
            "add zstd to it",
            key=key,
        )
    return value
