"""Sealed zstd dictionaries kept in a cache's own storage.

A dictionary is stored in the cache's chunk storage under ``dictionary/<id>`` (a key no body
chunk can have: chunk keys have two slashes) as one header line and one record::

    vaultcache-dictionary/1 spec=<SPEC> key=<KEY-ID> id=<ID> size=<SIZE>\\n  sealed-record

The record is the dictionary passed through every stage of the cache's serializer but the
format stage, as a body chunk is, sealed with the context ``line 0x00 "dictionary"``: the
dictionary is encrypted when entries are (it is made of their plaintext) and authenticated
with its id, so a dictionary that was altered or stored under another id never decodes
anything. ``dictionary/current`` holds the id new entries are written with.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Final

from vaultcache.entries.header import EntryHeader
from vaultcache.entries.records import RecordCodec
from vaultcache.errors import (
    DamagedDictionaryError,
    DecodeError,
    EntryError,
    ForeignEntryError,
    IntegrityError,
    MissingDictionaryError,
    TrainingError,
)
from vaultcache.serializers.pipeline import SerializerPipeline
from vaultcache.serializers.zstd_dictionary import ZstdDictionary

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage
    from vaultcache.crypto_keys import Key
    from vaultcache.entries.reader import ReaderPolicy

__all__ = [
    "MAX_DICTIONARY_SIZE",
    "DictionaryStore",
    "dictionary_key",
    "is_dictionary_id",
    "split_dictionary_key",
    "takes_dictionary",
    "with_dictionary",
]

logger = logging.getLogger(__name__)

#: The largest dictionary stored or read: 1 MiB (zstd's own trainer writes ~110 KiB).
MAX_DICTIONARY_SIZE: Final = 1 << 20
#: Seconds a store trusts what it read of ``dictionary/current`` (another process may train).
CURRENT_REFRESH: Final = 10.0
PREFIX: Final = "dictionary/"
CURRENT_KEY: Final = PREFIX + "current"
_ID = re.compile(r"[0-9a-f]{16}\Z")
_LINE = re.compile(
    rb"vaultcache-dictionary/1 spec=(?P<spec>[!-~]{1,512}) key=(?P<key>[0-9a-f]{16}) "
    rb"id=(?P<id>[0-9a-f]{16}) size=(?P<size>[0-9]{1,8})\n"
)
_MAX_LINE = 640
_MAX_STORED = 2 * MAX_DICTIONARY_SIZE


def is_dictionary_id(text: str) -> bool:
    """True for a well-formed dictionary id (16 lower-case hex digits)."""
    return bool(_ID.match(text))


def dictionary_key(dictionary_id: str) -> str:
    """The storage key of dictionary `dictionary_id`."""
    return PREFIX + dictionary_id


def split_dictionary_key(key: str) -> str | None:
    """The dictionary id of a storage key; None for any other key."""
    rest = key.removeprefix(PREFIX)
    return rest if rest != key and is_dictionary_id(rest) else None


def takes_dictionary(pipeline: SerializerPipeline) -> bool:
    """True when a stage of `pipeline` can compress with a dictionary (``zstd``)."""
    return any(_takes_dictionary(stage) for stage in pipeline.stages)


def _takes_dictionary(stage: object) -> bool:
    return callable(getattr(stage, "with_dictionary", None))


def with_dictionary(
    pipeline: SerializerPipeline, dictionary: ZstdDictionary | None
) -> SerializerPipeline:
    """`pipeline` with `dictionary` in its zstd stage; `pipeline` itself without one."""
    if not takes_dictionary(pipeline):
        return pipeline
    stages = [
        stage.with_dictionary(dictionary) if _takes_dictionary(stage) else stage
        for stage in pipeline.stages
    ]
    return SerializerPipeline(stages, is_binary=pipeline.is_binary)


def _context(line: bytes) -> bytes:
    return line + b"\x00dictionary"


class DictionaryStore:
    """The dictionaries of one cache: added, loaded (each opened once) and the current one.

    `policy` gives the reader policy of the cache, whose serializer seals new dictionaries
    and whose rules (installed stages, keys in the ring) open stored ones.
    """

    def __init__(self, storage: BaseStorage, policy: Callable[[], ReaderPolicy]) -> None:
        self.storage = storage
        self._policy = policy
        self._loaded: dict[str, ZstdDictionary] = {}
        self._current: tuple[float, str | None] | None = None
        #: The last pipeline given to writing_pipeline, the current id, and what it gave.
        self._writing: tuple[SerializerPipeline, str, SerializerPipeline] | None = None
        self._lock = threading.Lock()

    def add(self, data: bytes) -> ZstdDictionary:
        """Seal and store `data` as a new dictionary (not yet the current one)."""
        if not 0 < len(data) <= MAX_DICTIONARY_SIZE:
            raise TrainingError(f"a dictionary holds 1 to {MAX_DICTIONARY_SIZE} bytes")
        dictionary = ZstdDictionary(secrets.token_hex(8), bytes(data))
        self._store(dictionary)
        return dictionary

    def reseal(self) -> int:
        """Seal again, under the primary key, every dictionary another key sealed (before
        that key is retired); returns how many. Those that cannot be read stay as they are."""
        ids = list(self.ids())
        primary = self._sealing()[1].hex_id if ids else ""
        count = 0
        for dictionary_id in ids:
            stored = self.storage.get(dictionary_key(dictionary_id)) or b""
            match = _LINE.match(stored[:_MAX_LINE])
            if match is None or match["key"].decode() == primary:
                continue
            try:
                self._store(self.load(dictionary_id))
            except EntryError as exc:
                logger.warning("zstd dictionary %s not sealed again: %s", dictionary_id, exc)
                continue
            count += 1
        return count

    def _sealing(self) -> tuple[SerializerPipeline, Key]:
        pipeline = self._policy().pipeline
        ring = pipeline.key_ring if pipeline.authenticates else None
        if ring is None or not pipeline.chunkable or pipeline.unsealed:
            raise TrainingError(
                f"the serializer {pipeline.spec!r} does not sign or encrypt, so a dictionary "
                "(made of cached bodies) could not be stored authenticated; use a spec such "
                "as 'zstd+aesgcm'"
            )
        if "(dict=" in pipeline.spec:
            raise TrainingError("the serializer already names a dictionary")
        return pipeline, ring.primary

    def _store(self, dictionary: ZstdDictionary) -> None:
        pipeline, key = self._sealing()
        line = (
            f"vaultcache-dictionary/1 spec={pipeline.spec} key={key.hex_id} "
            f"id={dictionary.id} size={len(dictionary.data)}\n"
        ).encode("ascii")
        record = RecordCodec(pipeline, key).seal_chunk(dictionary.data, _context(line))
        self.storage[dictionary_key(dictionary.id)] = line + record
        with self._lock:
            self._loaded[dictionary.id] = dictionary

    def load(self, dictionary_id: str) -> ZstdDictionary:
        """The dictionary `dictionary_id`, authenticated.

        Raises MissingDictionaryError, DamagedDictionaryError, or another ForeignEntryError
        (a key that is not in the ring): the entries that name it are kept.
        """
        if not is_dictionary_id(dictionary_id):
            raise DecodeError("entry header names a malformed dictionary id")
        loaded = self._loaded.get(dictionary_id)
        if loaded is not None:
            return loaded
        stored = self.storage.get(dictionary_key(dictionary_id))
        if stored is None:
            raise MissingDictionaryError(dictionary_id)
        dictionary = ZstdDictionary(dictionary_id, self._open(dictionary_id, stored))
        with self._lock:
            self._loaded[dictionary_id] = dictionary
        return dictionary

    def _open(self, dictionary_id: str, stored: bytes) -> bytes:
        end = stored.find(b"\n", 0, _MAX_LINE) + 1
        match = _LINE.fullmatch(stored[:end]) if end and len(stored) <= _MAX_STORED else None
        if match is None or match["id"].decode() != dictionary_id or b"(dict=" in match["spec"]:
            raise DamagedDictionaryError(dictionary_id)
        header = EntryHeader(match["spec"].decode("ascii"), match["key"].decode("ascii"))
        try:
            codec = self._policy().codec_for(header)
            if codec.key is None:
                raise IntegrityError("dictionary")
            data = codec.open_chunk(memoryview(stored)[end:], _context(stored[:end]))
        except ForeignEntryError:
            raise
        except EntryError:
            raise DamagedDictionaryError(dictionary_id) from None
        if len(data) != int(match["size"]) or len(data) > MAX_DICTIONARY_SIZE:
            raise DamagedDictionaryError(dictionary_id)
        return data

    def restore(self, dictionary_id: str, stored: bytes) -> bool:
        """Store `stored`, dictionary `dictionary_id` as another cache stored it (an import),
        unless an authentic copy is here already; True when it was written.

        Raises what :meth:`load` raises when `stored` does not open here.
        """
        data = self._open(dictionary_id, stored)
        try:
            self.load(dictionary_id)
        except EntryError:  # missing, or damaged here: the archive's copy replaces it
            self.storage[dictionary_key(dictionary_id)] = stored
            with self._lock:
                self._loaded[dictionary_id] = ZstdDictionary(dictionary_id, data)
            return True
        return False

    def forget(self, dictionary_ids: Iterable[str]) -> None:
        """Drop what this store holds in memory of dictionaries deleted from its storage."""
        with self._lock:
            for dictionary_id in dictionary_ids:
                self._loaded.pop(dictionary_id, None)

    def ids(self) -> Iterator[str]:
        """The ids of the stored dictionaries (a scan of the storage's keys)."""
        for key in list(self.storage):
            dictionary_id = split_dictionary_key(key)
            if dictionary_id is not None:
                yield dictionary_id

    def current_id(self) -> str | None:
        """The id new entries are written with; None before any training."""
        now = time.monotonic()
        cached = self._current
        if cached is not None and now - cached[0] < CURRENT_REFRESH:
            return cached[1]
        stored = self.storage.get(CURRENT_KEY)
        text = stored.decode("ascii", "replace") if stored is not None else ""
        current = text if is_dictionary_id(text) else None
        self._current = (now, current)
        return current

    def set_current(self, dictionary_id: str) -> None:
        """Write new entries with dictionary `dictionary_id` (which must be stored)."""
        self.load(dictionary_id)
        self.storage[CURRENT_KEY] = dictionary_id.encode("ascii")
        self._current = (time.monotonic(), dictionary_id)

    def writing_pipeline(self, pipeline: SerializerPipeline) -> SerializerPipeline:
        """`pipeline` with the current dictionary; as it is when there is none or it cannot
        be used (logged: entries are then written without one)."""
        current = self.current_id()
        if current is None or not takes_dictionary(pipeline):
            return pipeline
        last = self._writing
        if last is not None and last[0] is pipeline and last[1] == current:
            return last[2]
        try:
            built = with_dictionary(pipeline, self.load(current))
        except EntryError as exc:  # logged once per pipeline and id
            logger.warning("not writing with zstd dictionary %s: %s", current, exc)
            built = pipeline
        self._writing = (pipeline, current, built)
        return built
