"""The stage contract of vaultcache.testing, run against every built-in stage.

Plugin packages run the same tests against their stages; running them here proves the
contract against real stages (and keeps it honest: what it demands, the built-ins do).
"""

from __future__ import annotations

from typing import Any, ClassVar

from vaultcache.testing import StageContract


class TestMsgpack(StageContract):
    stage_name = "msgpack"


class TestJson(StageContract):
    stage_name = "json"


class TestYaml(StageContract):
    stage_name = "yaml"


class TestPickle(StageContract):
    stage_name = "pickle"


class TestBson(StageContract):
    stage_name = "bson"


class TestToml(StageContract):
    stage_name = "toml"


class TestZstd(StageContract):
    stage_name = "zstd"
    stage_options: ClassVar[dict[str, Any]] = {"level": 3}


class TestGzip(StageContract):
    stage_name = "gzip"


class TestZlib(StageContract):
    stage_name = "zlib"


class TestBz2(StageContract):
    stage_name = "bz2"
    stage_options: ClassVar[dict[str, Any]] = {"level": 9}


class TestLzma(StageContract):
    stage_name = "lzma"


class TestSigned(StageContract):
    stage_name = "signed"


class TestFernet(StageContract):
    stage_name = "fernet"


class TestAesgcm(StageContract):
    stage_name = "aesgcm"
