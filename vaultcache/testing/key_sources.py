"""The key-source contract: the tests every key source passes, built-in or from a plugin.

Subclass :class:`KeySourceContract` in a test module (the subclass name must start with
``Test``), name the source as registered, and say where its keys live: the ``options``
fixture gives the options of a source that holds no keys yet, kept apart for one test, and
:meth:`KeySourceContract.store` puts keys where a source built with them reads them::

    import keyring
    import pytest

    from vaultcache.testing import KeySourceContract

    class TestKeyringSource(KeySourceContract):
        source_name = "keyring"

        @pytest.fixture
        def options(self, file_keyring):
            return {"service": "vaultcache-tests"}

        def store(self, options, keys):
            keyring.set_password(options["service"], "keys", "\\n".join(keys))

The source is built by name through the plugin registry, so the tests also prove the plugin is
installed and its entry point loads. They check that an empty source holds no keys, that
stored keys load primary first (directly and through ``vaultcache.load_key_ring``), that an
invalid key is a ``KeyRingError`` which never shows it, that ``describe()`` and ``hint()``
never show a key, and that an unknown option is a ``ConfigError`` naming
``keys.<name>.<option>``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from vaultcache.crypto_key_sources import KeySource, load_key_ring
from vaultcache.crypto_keys import KeyRing, generate_key
from vaultcache.errors import ConfigError, KeyRingError
from vaultcache.registry import Registration, get_registry

__all__ = ["KeySourceContract"]

#: Text shaped like a secret but not a key: a source must refuse it without echoing it.
_NOT_A_KEY = "not-a-key-but-perhaps-a-password"


class KeySourceContract:
    """Base class of the key-source contract tests; set :attr:`source_name`, give
    ``options`` and :meth:`store`.

    Not collected itself (no ``Test`` prefix).
    """

    #: The name the key source is registered under.
    source_name: ClassVar[str]

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        """Options of a source that holds no keys yet, isolated to this test; override."""
        raise NotImplementedError(f"{type(self).__name__} must override the options fixture")

    def store(self, options: dict[str, Any], keys: list[str]) -> None:
        """Put `keys` (text, primary first) where a source built with `options` reads them."""
        raise NotImplementedError(f"{type(self).__name__} must implement store()")

    def make_source(self, options: dict[str, Any]) -> KeySource:
        """Build the source; by default through the process-wide registry, by name."""
        registration = get_registry().key_source(self.source_name)
        registration.ensure_available()
        source: KeySource = registration.factory(dict(options))
        return source

    @property
    def registration(self) -> Registration:
        """The source's registration."""
        return get_registry().key_source(self.source_name)

    def load_ring(self, options: dict[str, Any]) -> KeyRing:
        """The ring ``vaultcache.load_key_ring`` reads from this source alone."""
        return load_key_ring(sources=[self.source_name], options={self.source_name: options})

    # -- the tests ------------------------------------------------------------------------------

    def test_is_registered_with_a_description(self) -> None:
        assert self.registration.description

    def test_an_empty_source_holds_no_keys(self, options: dict[str, Any]) -> None:
        try:
            found = self.make_source(options).load()
        except KeyRingError:
            found = None  # a source may report a store it cannot find, as the file source does
        assert found is None
        with pytest.raises(KeyRingError):
            self.load_ring(options)

    def test_stored_keys_load_primary_first(self, options: dict[str, Any]) -> None:
        keys = [generate_key(), generate_key(), generate_key()]
        self.store(options, keys)
        assert self.make_source(options).load() == keys
        ring = self.load_ring(options)
        assert ring == KeyRing(keys)
        assert ring.primary == KeyRing(keys[:1]).primary

    def test_one_key(self, options: dict[str, Any]) -> None:
        key = generate_key()
        self.store(options, [key])
        assert self.make_source(options).load() == [key]
        assert self.load_ring(options) == KeyRing([key])

    def test_loading_twice_gives_the_same_keys(self, options: dict[str, Any]) -> None:
        keys = [generate_key(), generate_key()]
        self.store(options, keys)
        source = self.make_source(options)
        assert source.load() == keys
        assert source.load() == keys

    def test_keys_stored_after_building_are_read(self, options: dict[str, Any]) -> None:
        source = self.make_source(options)
        keys = [generate_key()]
        self.store(options, keys)
        assert source.load() == keys

    def test_an_invalid_key_is_refused_without_showing_it(self, options: dict[str, Any]) -> None:
        self.store(options, [generate_key(), _NOT_A_KEY])
        with pytest.raises(KeyRingError) as caught:
            self.load_ring(options)
        assert _NOT_A_KEY not in str(caught.value)

    def test_descriptions_never_show_keys(self, options: dict[str, Any]) -> None:
        keys = [generate_key(), generate_key()]
        self.store(options, keys)
        source = self.make_source(options)
        shown = [repr(source), str(source)]
        for method in ("describe", "hint"):
            function = getattr(source, method, None)
            if callable(function):
                text = function()
                assert isinstance(text, str)
                assert text
                shown.append(text)
        for key in keys:
            assert not any(key in text for text in shown), "a key is shown"

    def test_unknown_options_are_config_errors(self, options: dict[str, Any]) -> None:
        with pytest.raises(ConfigError) as caught:
            self.make_source({**options, "no_such_option": "x"})
        assert caught.value.key == f"keys.{self.source_name}.no_such_option"
