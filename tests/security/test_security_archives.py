"""Archives are untrusted input to ``vaultcache import``: damaged, foreign or forged ones.

Checksums detect damage (nothing is written); the entries' own authentication detects
forgery (forged entries are skipped and reported, the rest imported).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
from security_support import flip

from vaultcache.archive import ArchiveError, export_archive, import_archive

PATHS = [f"/archive/{number}" for number in range(3)]


@pytest.fixture
def exported(make_session: Any, origin: Any, tmp_path: Path) -> Path:
    """An archive of three responses and one redirect record."""
    session = make_session(cache_name=str(tmp_path / "source"))
    for path in PATHS:
        session.get(origin.url(path))
    session.get(origin.url("/redirect/redirect/archive/0"))
    target = tmp_path / "export.tar"
    export_archive(session.cache, target)
    return target


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {
            info.name: tar.extractfile(info).read()  # type: ignore[union-attr]
            for info in tar.getmembers()
        }


def _rewrite(path: Path, members: dict[str, bytes]) -> None:
    """Write `members` back, with SHA256SUMS and the manifest's checksums recomputed."""
    entries = {name: data for name, data in members.items() if "/" in name}
    sums = b"".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode() for name, data in entries.items()
    )
    manifest = json.loads(members["manifest.json"])
    manifest["checksums"]["sha256"] = hashlib.sha256(sums).hexdigest()
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    trailer = {
        "SHA256SUMS": sums,
        "manifest.json": manifest_bytes,
        "manifest.json.sha256": f"{hashlib.sha256(manifest_bytes).hexdigest()}  "
        "manifest.json\n".encode(),
    }
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in {**entries, **trailer}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _target(make_session: Any, tmp_path: Path) -> Any:
    return make_session(cache_name=str(tmp_path / "target"))


@pytest.mark.parametrize("damage", ["random", "truncated", "flipped", "empty"])
def test_damaged_archive_is_refused_and_writes_nothing(
    exported: Path, make_session: Any, tmp_path: Path, damage: str
) -> None:
    """Attack: hand over a damaged or garbage archive."""
    data = exported.read_bytes()
    exported.write_bytes(
        {
            "random": os.urandom(len(data)),
            "truncated": data[: len(data) // 2],
            "flipped": flip(data, 700),
            "empty": b"",
        }[damage]
    )
    target = _target(make_session, tmp_path)

    with pytest.raises(ArchiveError):
        import_archive(target.cache, exported)

    assert len(target.cache.storage) == len(target.cache.redirect_storage) == 0


def test_forged_entry_with_recomputed_checksums_is_skipped(
    exported: Path, make_session: Any, tmp_path: Path
) -> None:
    """Attack: change an entry and recompute every checksum so the archive looks intact."""
    members = _members(exported)
    forged = next(name for name in members if name.startswith("responses/"))
    members[forged] = flip(members[forged], len(members[forged]) // 2)
    _rewrite(exported, members)
    target = _target(make_session, tmp_path)

    report = import_archive(target.cache, exported)

    assert [entry.key for entry in report.skipped] == [forged.split("/")[1]]
    # Three exported (the redirected response is the one under its final URL's key), one forged.
    assert report.responses == 2
    assert forged.split("/")[1] not in target.cache.storage


def test_entry_renamed_to_another_key_in_an_archive_is_skipped(
    exported: Path, make_session: Any, tmp_path: Path
) -> None:
    """Attack: store entry A under key B's name in the archive."""
    members = _members(exported)
    first, second = [name for name in members if name.startswith("responses/")][:2]
    members[second] = members[first]
    _rewrite(exported, members)
    target = _target(make_session, tmp_path)

    report = import_archive(target.cache, exported)

    assert [entry.key for entry in report.skipped] == [second.split("/")[1]]


@pytest.mark.parametrize("name", ["../escape", "/abs/path", "responses/../../x", "README"])
def test_archive_member_outside_the_layout_is_refused(
    exported: Path, make_session: Any, tmp_path: Path, name: str
) -> None:
    """Attack: a member name that would escape a directory if it were extracted."""
    with tarfile.open(exported, "a") as tar:
        info = tarfile.TarInfo(name)
        info.size = 7
        tar.addfile(info, io.BytesIO(b"payload"))
    target = _target(make_session, tmp_path)

    with pytest.raises(ArchiveError):
        import_archive(target.cache, exported)
    assert not (tmp_path / "escape").exists()
    assert len(target.cache.storage) == 0
