"""KeyringKeySource: vaultcache keys kept in the operating system's keyring.

The keys live in one keyring entry, found by a service name and a user name (by default
``vaultcache`` and ``keys``), as text: one key per line, primary first, the same form as a
vaultcache key file. The ``keyring`` package picks the store: macOS Keychain, Windows
Credential Manager, the Secret Service (GNOME Keyring, KWallet) on Linux, or whatever
``keyring`` is configured to use.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

import keyring
import keyring.errors

from vaultcache.plugin import ConfigError, KeyRing, KeyRingError

__all__ = [
    "DEFAULT_SERVICE",
    "DEFAULT_USERNAME",
    "KeyringKeySource",
    "keyring_errors",
    "parse_options",
]

DEFAULT_SERVICE = "vaultcache"
DEFAULT_USERNAME = "keys"
_OPTIONS = ("service", "username")
# Printable, no line breaks: the names appear in messages and in keyring tools' listings.
_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,200}\Z")


class KeyringKeySource:
    """Loads the key ring stored under (`service`, `username`) in the OS keyring."""

    def __init__(self, service: str = DEFAULT_SERVICE, username: str = DEFAULT_USERNAME) -> None:
        self.service = _check_name("service", service)
        self.username = _check_name("username", username)

    def load(self) -> list[str] | None:
        """The keys as text, primary first; None when the keyring holds no such entry.

        Raises KeyRingError when the keyring cannot be read or the entry holds no valid
        key; the message names the entry, never its contents.
        """
        with keyring_errors(self.service, self.username, "read"):
            text = keyring.get_password(self.service, self.username)
        if text is None or not text.strip():
            return None
        self.parse(text)  # refuse a damaged entry here, naming it
        return _lines(text)

    def parse(self, text: str) -> KeyRing:
        """`text` (one key per line) as a KeyRing; KeyRingError naming the entry if invalid."""
        try:
            return KeyRing.from_text(text)
        except KeyRingError as exc:
            # The core's message says which position is bad, never the key itself.
            raise KeyRingError(f"{self.describe()}: {exc}") from None

    def describe(self) -> str:
        """The entry, as messages name it."""
        return f"keyring entry (service {self.service!r}, username {self.username!r})"

    def __repr__(self) -> str:
        return f"KeyringKeySource(service={self.service!r}, username={self.username!r})"


def parse_options(options: Mapping[str, Any]) -> KeyringKeySource:
    """A source from the ``[keys.keyring]`` options; ConfigError naming a bad one."""
    for name in options:
        if name not in _OPTIONS:
            raise ConfigError(
                f"unknown option for key source 'keyring' (known: {', '.join(_OPTIONS)})",
                key=f"keys.keyring.{name}",
            )
    return KeyringKeySource(
        options.get("service", DEFAULT_SERVICE), options.get("username", DEFAULT_USERNAME)
    )


@contextlib.contextmanager
def keyring_errors(service: str, username: str, action: str) -> Iterator[None]:
    """Turn the keyring package's errors into KeyRingErrors that name the entry."""
    try:
        yield
    except keyring.errors.NoKeyringError:
        raise KeyRingError(
            f"cannot {action} keyring entry (service {service!r}, username {username!r}): "
            "no usable keyring backend on this system; install one (see the keyring "
            "package's docs) or use another key source"
        ) from None
    except keyring.errors.KeyringError as exc:
        raise KeyRingError(
            f"cannot {action} keyring entry (service {service!r}, username {username!r}): "
            f"{type(exc).__name__}; is the keyring unlocked?"
        ) from None


def _check_name(option: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ConfigError(
            "expected 1 to 200 printable characters",
            key=f"keys.keyring.{option}",
            expected="string",
        )
    return value


def _lines(text: str) -> list[str]:
    """The keys in `text`, as KeyRing.from_text reads them (commas and '#' comments too)."""
    stripped = (line.split("#", 1)[0] for line in text.splitlines())
    return [part.strip() for line in stripped for part in line.split(",") if part.strip()]
