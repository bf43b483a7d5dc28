"""A file-based keyring backend, so the tests never touch the real OS keyring."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest


class JsonFileKeyring(keyring.backend.KeyringBackend):
    """Passwords in a JSON file: {service: {username: password}}. For tests only."""

    priority = 1

    def __init__(self, path: Path) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.path = path

    def _read(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        data: dict[str, dict[str, str]] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        self.path.write_text(json.dumps(data), encoding="utf-8")

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._read()
        data.setdefault(service, {})[username] = password
        self._write(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        if username not in data.get(service, {}):
            raise keyring.errors.PasswordDeleteError("no such password")
        del data[service][username]
        self._write(data)


class LockedKeyring(JsonFileKeyring):
    """A keyring that refuses every read, as a locked one does."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[JsonFileKeyring]:
    """The process's keyring, replaced by a JSON file in tmp_path for one test."""
    previous = keyring.get_keyring()
    backend = JsonFileKeyring(tmp_path / "keyring.json")
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def locked_keyring(tmp_path: Path) -> Iterator[LockedKeyring]:
    """A keyring that cannot be read."""
    previous = keyring.get_keyring()
    backend = LockedKeyring(tmp_path / "locked.json")
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
