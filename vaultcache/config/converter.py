"""The cattrs converter that structures a TOML table into Settings, with a hook for every type."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, get_args

import attrs
import cattrs
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn, override

from vaultcache.config.problems import wrong
from vaultcache.config.schema import TOML_NAME, file_keys
from vaultcache.config.table_checks import OPTION_TABLE_CHECKS, refuse_session_keywords
from vaultcache.config.value_checks import VALUE_CHECKS
from vaultcache.config.value_types import BackendOptions, Headers, Text

__all__ = ["converter", "is_tuple"]

converter = cattrs.Converter(forbid_extra_keys=True)


def is_tuple(annotation: Any) -> bool:
    """Whether `annotation` is a ``tuple[...]`` type."""
    return getattr(annotation, "__origin__", None) is tuple


def _is_mapping(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) in (dict, Mapping)


def _items(value: list[Any], item_type: Any) -> Iterator[Any]:
    """Each item structured as `item_type`; errors carry the index, as cattrs' do."""
    errors: list[Exception] = []
    for index, item in enumerate(value):
        try:
            yield converter.structure(item, item_type)
        except Exception as exc:
            exc.add_note(IterableValidationNote(f"@ index {index}", index, item_type))
            errors.append(exc)
    if errors:
        raise IterableValidationError("while structuring an array", errors, tuple)


def _headers(value: object) -> tuple[str, ...] | bool:
    if isinstance(value, bool):
        return value
    if not isinstance(value, list):
        raise wrong("true, false, or an array of header names", value)
    return tuple(_items(value, Text))


def _tuple_hook(annotation: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
    item_type = get_args(annotation)[0]

    def structure(value: object, _: object) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise wrong("an array", value)
        return tuple(_items(value, item_type))

    return structure


def _mapping_hook(annotation: Any) -> Callable[[Any, Any], dict[str, Any]]:
    value_type = get_args(annotation)[1]

    def structure(value: object, _: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise wrong("a table", value)
        if value_type is Any:
            return dict(value)
        result: dict[str, Any] = {}
        errors: list[Exception] = []
        for name, item in value.items():
            try:
                result[name] = converter.structure(item, value_type)
            except Exception as exc:
                exc.add_note(IterableValidationNote(f"@ key {name!r}", name, value_type))
                errors.append(exc)
        if errors:
            raise IterableValidationError("while structuring a table", errors, dict)
        return result

    return structure


def _class_hook(cl: type) -> Callable[[Any, Any], Any]:
    overrides = {
        field.name: override(omit=True)
        for field in attrs.fields(cl)
        if field.metadata.get(TOML_NAME, field.name) != field.name
    }
    generated: Callable[[Mapping[str, Any], Any], Any] = make_dict_structure_fn(
        cl,
        converter,
        **overrides,  # type: ignore[arg-type]
    )
    check = OPTION_TABLE_CHECKS.get(cl)
    own_keys = frozenset(file_keys(cl))

    def structure(value: object, _: object) -> Any:
        if not isinstance(value, dict):
            raise wrong("a table", value)
        if check is None:
            return generated(value, cl)
        # Every other table under [serializer] or [keys] holds one stage's or source's options.
        own = {k: v for k, v in value.items() if k in own_keys or not isinstance(v, dict)}
        structured = generated(own, cl)
        tables = {k.lower(): v for k, v in value.items() if k not in own}
        check(structured, tables)
        return attrs.evolve(structured, options=tables)

    return structure


def _backend_options(value: object, annotation: object) -> dict[str, Any]:
    options = _mapping_hook(Mapping[str, Any])(value, annotation)
    refuse_session_keywords(options)
    return options


def _same(annotation: object) -> Callable[[Any], bool]:
    return lambda candidate: bool(candidate == annotation)


def _ignoring_type(function: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    return lambda value, _: function(value)


def _register() -> None:
    checks = {**VALUE_CHECKS, Headers: _headers}
    for annotation, function in checks.items():
        if isinstance(annotation, type):  # classes dispatch before predicates do
            converter.register_structure_hook(annotation, _ignoring_type(function))
        else:
            converter.register_structure_hook_func(_same(annotation), _ignoring_type(function))
    converter.register_structure_hook_factory(is_tuple, _tuple_hook)
    converter.register_structure_hook_factory(_is_mapping, _mapping_hook)
    converter.register_structure_hook_factory(attrs.has, _class_hook)
    converter.register_structure_hook_func(_same(BackendOptions), _backend_options)


_register()
