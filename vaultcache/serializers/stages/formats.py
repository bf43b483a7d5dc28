"""Format stages: ``msgpack`` (default), ``json``, ``yaml``, ``pickle``, ``bson``, ``toml``.

A format stage turns a CachedResponse into bytes through its preconf converter and back. Each
decoder is one that cannot run code: yaml uses ``safe_load``, and ``pickle`` reads with an
unpickler that refuses every global (the converter's plain data needs none), on top of the
spec builder's rule that ``pickle`` must sit behind an authenticating stage.
"""

from __future__ import annotations

import importlib
import io
import json
import pickle
import tomllib
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import msgpack

from vaultcache.errors import DecodeError, EncodeError
from vaultcache.hookspecs import hookimpl
from vaultcache.models import CachedResponse
from vaultcache.registry import StageRegistrar
from vaultcache.serializers import preconf
from vaultcache.serializers.preconf import CattrStage
from vaultcache.serializers.stages.options import reject_options

__all__ = ["FormatStage"]

VAULTCACHE_PLUGIN_API = 1  # the hook-spec version this plugin is written for


class FormatStage:
    """A converter plus an encoding, used as the first stage of a built pipeline."""

    kind = "format"
    is_binary = True

    def __init__(
        self,
        name: str,
        converter: CattrStage,
        encode: Callable[[Any], bytes],
        decode: Callable[[bytes], Any],
    ) -> None:
        self.name = name
        self._converter = converter
        self._encode = encode
        self._decode = decode

    def dumps(self, value: Any) -> bytes:
        """Unstructure, then encode; only CachedResponses (what loads gives back) are taken.

        Plain data (a dict shaped like an entry, say) is an EncodeError: loads would refuse it.
        """
        if not isinstance(value, CachedResponse):
            raise EncodeError(
                f"format {self.name!r} stores CachedResponses, not {type(value).__name__}",
                stage=self.name,
            )
        return self._encode(self._converter.dumps(value))

    def loads(self, data: bytes) -> Any:
        """Decode, then structure; DecodeError when the entry does not hold a response."""
        try:
            value = self._decode(data)
            # The converter passes non-mappings through unchanged; a format stage returns
            # responses only, so a list or a number read from the store is not handed back.
            if isinstance(value, Mapping):
                return self._converter.loads(value)
        except DecodeError:
            raise
        except Exception:  # each decoder has its own errors; the stage raises one kind
            # from None: a decoder's message may quote bytes of the entry.
            raise DecodeError(
                f"stage {self.name!r}: entry is not valid {self.name}", stage=self.name
            ) from None
        raise DecodeError(f"stage {self.name!r}: entry does not hold a response", stage=self.name)

    def __repr__(self) -> str:
        return f"FormatStage({self.name})"


class _NoGlobalsUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> NoReturn:
        raise pickle.UnpicklingError("vaultcache entries never contain pickled objects")


def _pickle_loads(data: bytes) -> Any:
    return _NoGlobalsUnpickler(io.BytesIO(data)).load()


def _pickle_dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _msgpack_dumps(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def _msgpack_loads(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False)


def _json_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _yaml_dumps(value: Any) -> bytes:
    yaml = importlib.import_module("yaml")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(value, Dumper=dumper, allow_unicode=True).encode("utf-8")  # type: ignore[no-any-return]


def _yaml_loads(data: bytes) -> Any:
    yaml = importlib.import_module("yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(data, Loader=loader)


def _bson_dumps(value: Any) -> bytes:
    return importlib.import_module("bson").encode(value)  # type: ignore[no-any-return]


def _bson_loads(data: bytes) -> Any:
    return importlib.import_module("bson").decode(data)


def _toml_dumps(value: Any) -> bytes:
    return importlib.import_module("tomli_w").dumps(value).encode("utf-8")  # type: ignore[no-any-return]


def _toml_loads(data: bytes) -> Any:
    return tomllib.loads(data.decode("utf-8"))


_FORMATS: dict[str, tuple[CattrStage, Callable[[Any], bytes], Callable[[bytes], Any]]] = {
    "msgpack": (preconf.msgpack_converter, _msgpack_dumps, _msgpack_loads),
    "json": (preconf.json_converter, _json_dumps, json.loads),
    "yaml": (preconf.yaml_converter, _yaml_dumps, _yaml_loads),
    "pickle": (preconf.pickle_converter, _pickle_dumps, _pickle_loads),
    "bson": (preconf.bson_converter, _bson_dumps, _bson_loads),
    "toml": (preconf.toml_converter, _toml_dumps, _toml_loads),
}


def format_stage(name: str) -> FormatStage:
    """The built-in format stage called `name`."""
    converter, encode, decode = _FORMATS[name]
    return FormatStage(name, converter, encode, decode)


def _factory(name: str) -> Callable[[dict[str, Any], Any], FormatStage]:
    def build(options: dict[str, Any], keys: Any) -> FormatStage:
        reject_options(name, options)
        return format_stage(name)

    return build


@hookimpl
def vaultcache_register_stages(registry: StageRegistrar) -> None:
    """Register the built-in format stages."""
    registry.add(
        "msgpack",
        _factory("msgpack"),
        kind="format",
        description="MessagePack (the default encoding)",
    )
    registry.add("json", _factory("json"), kind="format", description="JSON, bodies as base64")
    registry.add(
        "yaml",
        _factory("yaml"),
        kind="format",
        description="YAML (safe loader)",
        requires=("yaml",),
        extra="yaml",
    )
    registry.add(
        "pickle",
        _factory("pickle"),
        kind="format",
        description="pickle of plain data; only behind signing or encryption",
        requires_authentication=True,
    )
    registry.add(
        "bson",
        _factory("bson"),
        kind="format",
        description="BSON (from pymongo)",
        requires=("bson",),
        extra="bson",
    )
    registry.add(
        "toml",
        _factory("toml"),
        kind="format",
        description="TOML, bodies as base64",
        requires=("tomli_w",),
        extra="toml",
    )
