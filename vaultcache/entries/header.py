"""The entry header: one line of ASCII that says how an entry was written.

::

    vaultcache/2 spec=msgpack+zstd+aesgcm key=1a2b3c4d5e6f7081 entry=<32 hex> body=inline\\n

``spec`` is the canonical spec of the pipeline that wrote the entry, ``key`` the id of the key
it was written under (``-`` when the spec has no signing or encryption stage), ``entry`` a
random id that binds the body's chunks to this entry, and ``body`` where the body is:
``inline`` (inside the metadata record), ``chunks/N/SIZE`` (N chunk records in the cache's
chunk storage, SIZE bytes in all) or ``packed/N/SIZE`` (the N chunk records follow the
metadata record in the same stored value). docs/format.md gives the whole format.

The header is read before anything is authenticated, so parsing is strict and bounded, and
the header only chooses which pipeline and key to *try*: the records that follow authenticate
it (it is part of every record's associated data), so nothing decoded from an entry was
steered by a header that does not verify.
"""

from __future__ import annotations

import functools
import re
import secrets
from typing import Final, Literal

import attrs

from vaultcache.errors import DecodeError, OldFormatError

__all__ = [
    "FORMAT_VERSION",
    "MAX_HEADER_SIZE",
    "BodyLayout",
    "EntryHeader",
    "parse_header",
    "peek_header",
    "peek_key_id",
]

FORMAT_VERSION: Final = 2
MAGIC: Final = b"vaultcache/"
#: The longest header line accepted (the newline included).
MAX_HEADER_SIZE: Final = 1024
#: The most chunks one body may have (4 GiB bodies need 4096 of 1 MiB).
MAX_CHUNKS: Final = 1 << 24
_MAX_BODY_SIZE: Final = 1 << 50
ENTRY_ID_SIZE: Final = 16

_V1_MAGIC = b"VC\x01"
_CURRENT = b"vaultcache/%d " % FORMAT_VERSION
_STAGE = (
    r"[a-z0-9][a-z0-9_-]{0,63}(?:\([a-z0-9_]+=[A-Za-z0-9._-]+(?:,[a-z0-9_]+=[A-Za-z0-9._-]+)*\))?"
)
_SPEC = re.compile(rf"{_STAGE}(?:\+{_STAGE}){{0,15}}")
_LINE = re.compile(
    rb"vaultcache/2 spec=(?P<spec>[!-~]{1,512}) key=(?P<key>-|[0-9a-f]{16}) "
    rb"entry=(?P<entry>[0-9a-f]{32}) "
    rb"body=(?P<body>inline|(?:chunks|packed)/[0-9]{1,8}/[0-9]{1,16})\n"
)

Mode = Literal["inline", "chunks", "packed"]


@attrs.frozen
class BodyLayout:
    """Where an entry's body is: in the metadata record, or in `count` chunks of `size` bytes."""

    mode: Mode = "inline"
    count: int = 0
    size: int = 0

    def __str__(self) -> str:
        return "inline" if self.mode == "inline" else f"{self.mode}/{self.count}/{self.size}"


@attrs.frozen
class EntryHeader:
    """The header of one entry (see the module docstring)."""

    spec: str
    key_id: str | None
    entry_id: str = attrs.field(factory=lambda: secrets.token_hex(ENTRY_ID_SIZE))
    body: BodyLayout = BodyLayout()

    def encode(self) -> bytes:
        """The header line, newline included."""
        return self.identity() + f" body={self.body}\n".encode("ascii")

    def identity(self) -> bytes:
        """The part of the line that a body chunk's associated data includes.

        Everything but the body layout, which a streamed write only knows at its end.
        """
        key = self.key_id or "-"
        text = f"vaultcache/{FORMAT_VERSION} spec={self.spec} key={key} entry={self.entry_id}"
        return text.encode("ascii")

    def with_body(self, body: BodyLayout) -> EntryHeader:
        """The same header describing another body layout."""
        return attrs.evolve(self, body=body)


def parse_header(data: bytes | memoryview) -> tuple[EntryHeader, int]:
    """The header at the start of `data`, and the offset of what follows it.

    Raises OldFormatError for an entry in another format version (kept: another release may
    read it) and DecodeError for a header that no version could have written.
    """
    head = bytes(data[:MAX_HEADER_SIZE])
    if not (head.startswith(_CURRENT) or _CURRENT.startswith(head)):
        version = head[len(MAGIC) : len(MAGIC) + 1]
        if head.startswith(MAGIC) and version.isdigit():
            raise OldFormatError(int(version))
        raise OldFormatError(1 if head.startswith(_V1_MAGIC) else None)
    end = head.find(b"\n")
    return _parse_line(head[: end + 1]), end + 1


@functools.lru_cache(maxsize=1024)
def _parse_line(line: bytes) -> EntryHeader:
    """One header line, newline included; remembered, as hot entries are read again and again
    (a header is immutable, and one that does not parse raises every time)."""
    match = _LINE.fullmatch(line) if len(line) > 1 else None
    if match is None:  # written by this version, then cut short or altered
        raise DecodeError("entry header is malformed")
    spec = match["spec"].decode("ascii")
    if not _SPEC.fullmatch(spec):
        raise DecodeError("entry header names a malformed spec")
    key = match["key"].decode("ascii")
    return EntryHeader(
        spec=spec,
        key_id=None if key == "-" else key,
        entry_id=match["entry"].decode("ascii"),
        body=_layout(match["body"].decode("ascii")),
    )


def _layout(text: str) -> BodyLayout:
    if text == "inline":
        return BodyLayout()
    mode, count, size = text.split("/")
    chunks, total = int(count), int(size)
    if not 0 < chunks <= MAX_CHUNKS or total > _MAX_BODY_SIZE:
        raise DecodeError("entry header describes an impossible body")
    return BodyLayout("chunks" if mode == "chunks" else "packed", chunks, total)


def peek_header(data: bytes | None) -> EntryHeader | None:
    """The (unverified) header of an entry; None without a readable one.

    For listing, counting and finding an entry's chunks only: what it says is trusted once
    the entry has been read back.
    """
    if data is None:
        return None
    try:
        return parse_header(data)[0]
    except (OldFormatError, DecodeError):
        return None


def peek_key_id(data: bytes) -> str | None:
    """The key id an entry's (unverified) header names; None without one or any header."""
    header = peek_header(data)
    return None if header is None else header.key_id
