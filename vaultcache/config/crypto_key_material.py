"""Key material is refused: found by name or by shape, anywhere in a file or an override."""

from __future__ import annotations

from typing import Any, Final

from vaultcache.config.problems import quote_key
from vaultcache.crypto_key_text import looks_like_key
from vaultcache.errors import ConfigError

__all__ = ["KeyMaterialFound", "key_material_error", "looks_like_key", "refuse_key_material"]

_SECRET_NAMES: Final = frozenset(
    {"key", "keys", "secret", "secrets", "primary", "primary_key", "private_key", "key_material"}
)


class KeyMaterialFound(Exception):
    """Key material at `path`, a dotted key of the table (its value is never kept)."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(path)


def refuse_key_material(table: dict[str, Any]) -> None:
    """Raise KeyMaterialFound at the first key-like name or value (iteratively: no depth limit)."""
    stack: list[tuple[str, object, bool]] = [("", table, False)]
    while stack:
        path, value, secret_names = stack.pop()
        if isinstance(value, str) and looks_like_key(value):
            raise KeyMaterialFound(path)
        children: list[tuple[str, object]] = []
        if isinstance(value, dict):
            for name, child in value.items():
                if looks_like_key(name):
                    raise KeyMaterialFound(f"{path}.<redacted>" if path else "<redacted>")
                child_path = f"{path}.{quote_key(name)}" if path else quote_key(name)
                if secret_names and name.lower() in _SECRET_NAMES:
                    raise KeyMaterialFound(child_path)
                children.append((child_path, child))
        elif isinstance(value, list):
            children = [(f"{path}[{i}]", child) for i, child in enumerate(value)]
        for child_path, child in reversed(children):
            stack.append((child_path, child, _holds_secret_names(child_path)))


def _holds_secret_names(path: str) -> bool:
    """[keys] itself, and each [serializer.<stage>] table: a key there would be a secret."""
    return path == "keys" or (path.startswith("serializer.") and path.count(".") == 1)


def key_material_error(file: str | None, key: str) -> ConfigError:
    """The ConfigError for key material at `key` of `file`: what to do, and the value unsaid."""
    return ConfigError(
        "this looks like key material, which vaultcache never reads from a config file "
        "(the value is not shown). Remove it, and consider the key exposed if the file "
        "was shared; give keys in VAULTCACHE_KEYS or in a key file named by "
        "VAULTCACHE_KEY_FILE (mode 0600), or let [keys] sources find them",
        file=file,
        key=key,
        expected="no key material",
    )
