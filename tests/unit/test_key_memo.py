"""KeyFunction remembers recent keys by a digest of every input, and nothing else."""

from __future__ import annotations

import io

import requests

from vaultcache import cache_keys
from vaultcache.cache_key_function import MEMO_SIZE, KeyFunction, unverified
from vaultcache.policy.settings import CacheSettings

URL = "https://example.org/api?q=1"


def _request(**headers: str) -> requests.PreparedRequest:
    return requests.Request("GET", URL, headers=headers).prepare()


def test_a_request_seen_again_gets_its_remembered_key() -> None:
    keys = KeyFunction(CacheSettings(), (b"s" * 32,))
    first = keys(_request(Authorization="Bearer a"))
    assert len(keys.memo._keys) == 1
    assert keys(_request(Authorization="Bearer a")) == first
    assert first == cache_keys.create_key(_request(Authorization="Bearer a"), secret=b"s" * 32)


def test_the_memo_keeps_digests_not_credentials() -> None:
    keys = KeyFunction(CacheSettings(), (b"s" * 32,))
    keys(_request(Authorization="Bearer secret-token"))
    (digest,) = keys.memo._keys
    assert len(digest) == 16
    assert b"secret-token" not in digest


def test_every_input_of_a_key_separates_remembered_keys() -> None:
    keys = KeyFunction(CacheSettings(), (b"s" * 32, b"t" * 32))
    base = keys(_request(Authorization="Bearer a"))
    assert keys(_request(Authorization="Bearer b")) != base
    assert keys(_request(Authorization="Bearer a"), secret=b"t" * 32) != base
    with unverified(True):
        assert keys(_request(Authorization="Bearer a")) != base
    assert keys(_request(Authorization="Bearer a", Accept="x"), vary=("accept",)) != keys(
        _request(Authorization="Bearer a", Accept="y"), vary=("accept",)
    )
    keys.settings.share_credentials = True  # settings changed after keys were remembered
    assert keys(_request(Authorization="Bearer a")) == keys(_request(Authorization="Bearer b"))


def test_a_streamed_body_is_never_remembered() -> None:
    keys = KeyFunction()
    request = requests.Request("POST", URL, data=io.BytesIO(b"body")).prepare()
    assert keys(request) != keys(request)  # a stream's key is random: never reused
    assert not keys.memo._keys


def test_the_memo_is_bounded() -> None:
    keys = KeyFunction()
    for index in range(MEMO_SIZE + 5):
        keys(requests.Request("GET", f"{URL}&n={index}").prepare())
    assert len(keys.memo._keys) <= MEMO_SIZE
