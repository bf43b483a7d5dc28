"""Preconfigured cattrs converters: CachedResponse <-> plain data each encoding can hold.

Each converter is also a stage (``dumps``/``loads``), so it can open a hand-built pipeline::

    SerializerPipeline([json_converter, json, utf8_encoder, Stage(gzip, "compress", "decompress")])

The stored layout is written out field by field below rather than derived from the class, so
it stays the same across releases whatever the model grows internally. Encodings differ only
in leaves: ``bytes`` stay bytes where the encoding has them (msgpack, pickle, bson, yaml) and
become base64 text in JSON and TOML; times are ISO 8601 text; durations are float seconds;
TOML, which has no null, leaves out fields that are None.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import cattrs
from requests.structures import CaseInsensitiveDict

from vaultcache.errors import DecodeError, EncodeError
from vaultcache.models import CachedRequest, CachedResponse
from vaultcache.models.response import MAX_HEADER_FIELDS, MAX_REDIRECT_KEYS, HeaderFields
from vaultcache.serializers.pipeline import Stage

__all__ = [
    "CattrStage",
    "bson_converter",
    "json_converter",
    "make_converter",
    "msgpack_converter",
    "pickle_converter",
    "toml_converter",
    "utf8_encoder",
    "yaml_converter",
]

#: Deepest redirect history accepted when reading an entry.
MAX_HISTORY = 30


class CattrStage:
    """First stage of a pipeline: unstructure a CachedResponse on dumps, structure on loads.

    Symmetric: ``dumps`` takes CachedResponses only (EncodeError for anything else) and
    ``loads`` gives CachedResponses only (DecodeError for what is not a mapping).
    """

    is_binary = False

    def __init__(self, converter: cattrs.Converter, name: str) -> None:
        self.converter = converter
        self.name = name

    def dumps(self, value: Any) -> Any:
        """A CachedResponse as plain data; EncodeError for anything else."""
        if not isinstance(value, CachedResponse):
            raise EncodeError(
                f"stage {self.name!r} stores CachedResponses, not {type(value).__name__}",
                stage=self.name,
            )
        return self.converter.unstructure(value)

    def loads(self, value: Any) -> Any:
        """Plain data back into a CachedResponse; DecodeError for what is not a mapping."""
        if not isinstance(value, Mapping):
            raise DecodeError(
                f"stage {self.name!r}: entry does not hold a response", stage=self.name
            )
        return self.converter.structure(value, CachedResponse)

    def __repr__(self) -> str:
        return f"CattrStage({self.name})"


def make_converter(*, binary: bool = True, omit_none: bool = False) -> cattrs.Converter:
    """A converter for the cached models; `binary` keeps bytes native, else base64 text."""
    converter = cattrs.Converter()
    if binary:
        converter.register_structure_hook(bytes, _structure_bytes)
    else:
        converter.register_unstructure_hook(bytes, _b64encode)
        converter.register_structure_hook(bytes, _b64decode)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(timedelta, timedelta.total_seconds)
    converter.register_structure_hook(timedelta, _structure_timedelta)
    # The *_func forms match the class exactly and skip cattrs' type-hint resolution, which
    # cannot see the hints CachedResponse inherits from requests.Response.
    converter.register_unstructure_hook_func(
        _is(CachedRequest), _request_unstructurer(converter, omit_none)
    )
    converter.register_structure_hook_func(_is(CachedRequest), _request_structurer(converter))
    converter.register_unstructure_hook_func(
        _is(CachedResponse), _response_unstructurer(converter, omit_none)
    )
    converter.register_structure_hook_func(_is(CachedResponse), _response_structurer(converter))
    return converter


def _is(cls: type) -> Callable[[Any], bool]:
    return lambda candidate: candidate is cls


def _request_unstructurer(
    converter: cattrs.Converter, omit_none: bool
) -> Callable[[CachedRequest], dict[str, Any]]:
    def unstructure(request: CachedRequest) -> dict[str, Any]:
        data = {
            "method": request.method,
            "url": request.url,
            "headers": dict(request.headers),
            "body": converter.unstructure(request.body),
        }
        return _drop_none(data) if omit_none else data

    return unstructure


def _request_structurer(converter: cattrs.Converter) -> Callable[[Any, Any], CachedRequest]:
    load_bytes = converter.get_structure_hook(bytes)

    def structure(data: Any, _: Any) -> CachedRequest:
        data = _mapping(data, "request")
        body = data.get("body")
        return CachedRequest(
            method=_text(data.get("method", "GET"), "request.method"),
            url=_text(data.get("url", ""), "request.url"),
            headers=_structure_headers(data.get("headers", {})),
            body=None if body is None else load_bytes(body, bytes),
        )

    return structure


def _response_unstructurer(
    converter: cattrs.Converter, omit_none: bool
) -> Callable[[CachedResponse], dict[str, Any]]:
    def unstructure(response: CachedResponse, nested: bool = False) -> dict[str, Any]:
        # Redirects are stored one level deep, as the structurer accepts them. requests gives
        # each redirect the redirects before it as its own history, which only repeats the
        # outer list, so a redirect's own history is left out rather than written unreadable.
        history = [] if nested else [unstructure(item, nested=True) for item in response.history]
        data = {
            "url": response.url,
            "status_code": response.status_code,
            "reason": response.reason,
            "headers": dict(response.headers),
            "content": converter.unstructure(response.content),
            "encoding": response.encoding,
            "elapsed": converter.unstructure(response.elapsed),
            "created_at": converter.unstructure(response.created_at),
            "expires": converter.unstructure(response.expires),
            "request": converter.unstructure(response.request),
            "history": history,
            "cache_key": response.cache_key,
            "variant_group": response.variant_group,
            "redirect_keys": list(response.redirect_keys),
            "redirect_chain": list(response.redirect_chain),
            "header_fields": _unstructure_fields(response),
        }
        return _drop_none(data) if omit_none else data

    return unstructure


def _response_structurer(converter: cattrs.Converter) -> Callable[[Any, Any], CachedResponse]:
    # Leaf hooks are looked up once: this runs on every cache hit.
    load_bytes = converter.get_structure_hook(bytes)
    load_datetime = converter.get_structure_hook(datetime)
    load_timedelta = converter.get_structure_hook(timedelta)
    load_request = converter.get_structure_hook(CachedRequest)

    def structure(data: Any, _: Any, depth: int = 0) -> CachedResponse:
        data = _mapping(data, "response")
        history = data.get("history", [])
        if not isinstance(history, list) or len(history) > MAX_HISTORY or depth > 1:
            raise ValueError("response history is malformed")
        status_code = data.get("status_code")
        if isinstance(status_code, bool) or not isinstance(status_code, int):
            raise ValueError("status_code must be an integer")
        expires = data.get("expires")
        encoding = data.get("encoding")
        group = data.get("variant_group")
        return CachedResponse(
            url=_text(data.get("url", ""), "url"),
            status_code=status_code,
            reason=_text(data.get("reason", ""), "reason"),
            headers=_structure_headers(data.get("headers", {})),
            content=b"" if data.get("content") is None else load_bytes(data["content"], bytes),
            encoding=None if encoding is None else _text(encoding, "encoding"),
            elapsed=load_timedelta(data.get("elapsed", 0), timedelta),
            created_at=load_datetime(data["created_at"], datetime),
            expires=None if expires is None else load_datetime(expires, datetime),
            request=load_request(data.get("request", {}), CachedRequest),
            history=[structure(item, None, depth + 1) for item in history],
            cache_key=_text(data.get("cache_key", ""), "cache_key"),
            variant_group=None if group is None else _text(group, "variant_group"),
            redirect_keys=_texts(data.get("redirect_keys", []), "redirect_keys"),
            redirect_chain=_texts(
                data.get("redirect_chain", []), "redirect_chain", MAX_HISTORY + 1
            ),
            **_structure_fields(data.get("header_fields")),
        )

    return structure


def _texts(value: Any, what: str, limit: int = MAX_REDIRECT_KEYS) -> list[str]:
    if not isinstance(value, list) or len(value) > limit:
        raise ValueError(f"{what} must be a list of at most {limit} strings")
    return [_text(item, what) for item in value]


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if type(value) is not dict and not isinstance(value, Mapping):  # dict first: it is fast
        raise TypeError(f"{what} must be a mapping")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be text")
    return value


def _structure_headers(value: Any) -> CaseInsensitiveDict[str]:
    headers = _mapping(value, "headers")
    if not all(type(k) is str and type(v) is str for k, v in headers.items()):
        raise TypeError("header names and values must be text")
    return CaseInsensitiveDict(headers)


def _unstructure_fields(response: CachedResponse) -> list[list[str]]:
    """The header fields as [name, value] pairs, in order (stored even when ``headers`` has
    the same: some encodings, as yaml's, do not keep the order of a mapping's keys)."""
    fields = response.header_fields
    if len(fields) > MAX_HEADER_FIELDS:
        raise ValueError(f"a response may have at most {MAX_HEADER_FIELDS} header fields")
    return [[name, value] for name, value in fields]


def _structure_fields(value: Any) -> dict[str, HeaderFields]:
    """``header_fields=`` for CachedResponse; nothing for entries written without them, which
    CachedResponse then derives from ``headers``."""
    if value is None:
        return {}
    if not isinstance(value, list) or len(value) > MAX_HEADER_FIELDS:
        raise ValueError(f"header_fields must be a list of at most {MAX_HEADER_FIELDS} fields")
    fields = []
    for field in value:
        if not isinstance(field, list | tuple) or len(field) != 2:
            raise ValueError("a header field must be a [name, value] pair")
        name, text = field
        if type(name) is not str or type(text) is not str:
            raise TypeError("header names and values must be text")
        fields.append((name, text))
    return {"header_fields": fields}


def _structure_bytes(value: Any, _: Any) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise TypeError("expected bytes")
    return bytes(value)


def _b64encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _b64decode(value: Any, _: Any) -> bytes:
    try:
        return base64.b64decode(_text(value, "body"), validate=True)
    except binascii.Error:
        raise ValueError("body is not valid base64") from None


def _structure_datetime(value: Any, _: Any) -> datetime:
    return datetime.fromisoformat(_text(value, "timestamp"))


def _structure_timedelta(value: Any, _: Any) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("duration must be a number")
    return timedelta(seconds=value)


json_converter = CattrStage(make_converter(binary=False), "json_converter")
msgpack_converter = CattrStage(make_converter(), "msgpack_converter")
yaml_converter = CattrStage(make_converter(), "yaml_converter")
bson_converter = CattrStage(make_converter(), "bson_converter")
toml_converter = CattrStage(make_converter(binary=False, omit_none=True), "toml_converter")
pickle_converter = CattrStage(make_converter(), "pickle_converter")
#: str <-> UTF-8 bytes, for text encodings (json, yaml, toml) ahead of a bytes stage.
utf8_encoder = Stage(dumps=str.encode, loads=bytes.decode, name="utf8", is_binary=True)
