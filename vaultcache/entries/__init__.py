"""The entry format (version 2): how one cached response is stored. See docs/format.md.

An entry is a header line that names the pipeline and key that wrote it, a metadata record,
and the body, inline or in authenticated chunks. :mod:`~vaultcache.entries.header` parses the
line, :mod:`~vaultcache.entries.records` seals records, :mod:`~vaultcache.entries.reader`
decides which pipelines may read, :mod:`~vaultcache.entries.body` streams bodies and
:mod:`~vaultcache.entries.stored` puts the parts together.
"""

from vaultcache.entries.body import BodyWriter, ChunkedBody
from vaultcache.entries.header import (
    FORMAT_VERSION,
    BodyLayout,
    EntryHeader,
    parse_header,
    peek_header,
    peek_key_id,
)
from vaultcache.entries.reader import ReaderPolicy
from vaultcache.entries.records import CHUNK_SIZE, INLINE_LIMIT, RecordCodec
from vaultcache.entries.stored import (
    EntryWriter,
    chunk_key,
    chunk_keys,
    read_entry,
    split_chunk_key,
)

__all__ = [
    "CHUNK_SIZE",
    "FORMAT_VERSION",
    "INLINE_LIMIT",
    "BodyLayout",
    "BodyWriter",
    "ChunkedBody",
    "EntryHeader",
    "EntryWriter",
    "ReaderPolicy",
    "RecordCodec",
    "chunk_key",
    "chunk_keys",
    "parse_header",
    "peek_header",
    "peek_key_id",
    "read_entry",
    "split_chunk_key",
]
