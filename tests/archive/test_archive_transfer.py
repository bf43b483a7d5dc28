"""Export and import: a portable archive of entries as stored, checked before any write."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vaultcache import generate_key
from vaultcache.archive import (
    ARCHIVE_FORMAT,
    ArchiveError,
    export_archive,
    import_archive,
    read_manifest,
)
from vaultcache.crypto_keys import Key
from vaultcache.models import CachedResponse
from vaultcache.session import CachedSession

SessionFactory = Callable[..., CachedSession]
PATHS = (
    "/page/alpha",
    "/page/beta?size=5000",
    "/page/squeezed?gzip=1&size=2000",
    "/bin/blob?size=70000",
    "/hop/target",
)


def _fill_from_origin(session: CachedSession, origin: Any, tag: str) -> dict[str, Any]:
    """Fetch every path (tagged, so each test has its own URLs); url -> first response."""
    responses = {}
    for path in PATHS:
        url = origin.url(path.replace("/", f"/{tag}-", 2).replace(f"/{tag}-", "/", 1))
        responses[url] = session.request("GET", url, timeout=10)
        assert not responses[url].from_cache
    return responses


def _contents(storage: Any) -> dict[str, bytes]:
    return {key: storage[key] for key in storage}


def _small_archive(
    make_session: SessionFactory, tmp_path: Path, key: str, *, name: str = "small"
) -> tuple[CachedSession, Path]:
    session = make_session(name, [key])
    from_archive = tmp_path / f"{name}.tar"
    for index in range(3):
        session.cache.save_response(_response(index))
    session.cache.redirects["0" * 32] = session.cache.storage.__iter__().__next__()
    export_archive(session.cache, from_archive)
    return session, from_archive


def _response(index: int, body: bytes = b"") -> Any:
    from vaultcache.models import CachedResponse

    return CachedResponse(
        url=f"https://example.org/{index}",
        status_code=200,
        reason="OK",
        content=body or f"body {index}".encode() * 50,
        cache_key=hashlib.sha256(str(index).encode()).hexdigest()[:32],
    )


def test_round_trip_sqlite_filesystem_sqlite_is_byte_for_byte(
    make_session: SessionFactory, origin: Any, tmp_path: Path, old_key: str
) -> None:
    source = make_session("source", [old_key])
    originals = _fill_from_origin(source, origin, "trip")
    assert len(source.cache.redirect_storage) == 2
    hits = origin.total_hits()

    first = export_archive(source.cache, tmp_path / "first.tar")
    middle = make_session("middle", [old_key], backend="filesystem")
    imported = import_archive(middle.cache, tmp_path / "first.tar")
    export_archive(middle.cache, tmp_path / "second.tar")
    final = make_session("final", [old_key])
    import_archive(final.cache, tmp_path / "second.tar")

    assert (imported.responses, imported.redirects, imported.skipped) == (5, 2, ())
    assert first.manifest.counts.responses == 5
    for copy in (middle.cache, final.cache):
        assert _contents(copy.storage) == _contents(source.cache.storage)
        assert _contents(copy.redirect_storage) == _contents(source.cache.redirect_storage)
    reader = make_session("final", [old_key])
    for url, original in originals.items():
        served = reader.request("GET", url, timeout=10)
        assert served.from_cache, url
        assert served.status_code == original.status_code
        assert served.content == original.content
        served_headers = dict(served.headers)
        assert served_headers.pop("Age").isdigit()  # added to every reply from a cache
        assert served_headers == dict(original.headers)
        assert served.url == original.url
    via_redirect = reader.request("GET", origin.url("/redirect/trip-target"), timeout=10)
    assert via_redirect.from_cache
    assert via_redirect.content == originals[origin.url("/hop/trip-target")].content
    assert origin.total_hits() == hits  # not one request reached the origin


def test_manifest_and_members(make_session: SessionFactory, tmp_path: Path, old_key: str) -> None:
    session, archive = _small_archive(make_session, tmp_path, old_key)
    manifest = read_manifest(archive)

    assert manifest.format == ARCHIVE_FORMAT
    assert manifest.format_version == 2
    assert manifest.serializer.spec == session.cache.serializer.spec
    assert manifest.key_ids == {Key.from_text(old_key).hex_id: 3}
    assert (manifest.counts.responses, manifest.counts.redirects) == (3, 1)
    assert manifest.counts.chunks == 0  # small bodies are stored inline
    assert manifest.created.endswith("Z")
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        names = [member.name for member in members]
        data = {m.name: tar.extractfile(m).read() for m in members}  # type: ignore[union-attr]
    assert names[-3:] == ["SHA256SUMS", "manifest.json", "manifest.json.sha256"]
    assert all(member.mode == 0o600 and member.isreg() for member in members)
    assert sorted(names[:-3]) == sorted(
        [f"responses/{key}" for key in session.cache.storage] + [f"redirects/{'0' * 32}"]
    )
    for name in names[:-3]:  # entries as stored, byte for byte
        kind, key = name.split("/")
        storage = session.cache.storage if kind == "responses" else session.cache.redirect_storage
        assert data[name] == storage[key]
    # The checksum files are in `sha256sum -c` format.
    for line in data["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(data[name]).hexdigest() == digest
    digest, name = data["manifest.json.sha256"].decode().split()
    assert (name, digest) == ("manifest.json", hashlib.sha256(data["manifest.json"]).hexdigest())
    assert json.loads(data["manifest.json"])["checksums"]["sha256"] == (
        hashlib.sha256(data["SHA256SUMS"]).hexdigest()
    )


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _member_offset(path: Path, name: str) -> int:
    with tarfile.open(path) as tar:
        return tar.getmember(name).offset_data


def _corrupt_entry(path: Path) -> None:
    with tarfile.open(path) as tar:
        first = tar.getmembers()[0]
    _flip(path, first.offset_data + first.size // 2)


def _corrupt_sums(path: Path) -> None:
    # Another hex digit, so the line stays well formed and only the checksum is wrong.
    offset = _member_offset(path, "SHA256SUMS") + 3
    data = bytearray(path.read_bytes())
    data[offset] = ord("0") if data[offset] != ord("0") else ord("1")
    path.write_bytes(bytes(data))


def _corrupt_manifest(path: Path) -> None:
    _flip(path, _member_offset(path, "manifest.json") + 20)


def _corrupt_header(path: Path) -> None:
    with tarfile.open(path) as tar:
        second = tar.getmembers()[1]
    _flip(path, second.offset + 10)  # its name: the header checksum fails


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_corrupt_entry, r"responses/[0-9a-f]{32} is damaged"),
        (_corrupt_sums, "is damaged: its SHA-256 does not match"),  # which one is wrong?
        (_corrupt_manifest, "manifest.json does not match its checksum"),
        (_corrupt_header, "does not end with SHA256SUMS"),
        (_truncate, "not a usable vaultcache archive"),
        (_garbage, "not a usable vaultcache archive"),
        (_empty, "not a usable vaultcache archive"),
    ],
)
def test_a_damaged_archive_is_refused_before_anything_is_written(
    make_session: SessionFactory,
    tmp_path: Path,
    old_key: str,
    damage: Callable[[Path], None],
    message: str,
) -> None:
    _, archive = _small_archive(make_session, tmp_path, old_key)
    damage(archive)
    target = make_session("target", [old_key])

    with pytest.raises(ArchiveError, match=message) as caught:
        import_archive(target.cache, archive)

    assert caught.value.path == str(archive)
    assert len(target.cache.storage) == 0
    assert len(target.cache.redirect_storage) == 0


def test_an_archive_of_another_pipeline_is_imported_and_read(
    make_session: SessionFactory, tmp_path: Path, old_key: str
) -> None:
    source, archive = _small_archive(make_session, tmp_path, old_key)
    target = make_session("other-spec", [old_key], serializer="signed+zstd+fernet")

    report = import_archive(target.cache, archive)

    assert (report.responses, report.skipped) == (3, ())
    for key in source.cache.storage:
        assert target.cache.get_response(key) == source.cache.get_response(key)


def test_a_chunked_body_travels_in_the_archive(
    make_session: SessionFactory, tmp_path: Path, old_key: str
) -> None:
    source = make_session("big-source", [old_key])
    body = bytes(range(256)) * 9000  # 2.2 MiB: three chunks
    source.cache.save_response(
        CachedResponse(url="https://example.org/big", content=body, cache_key="ab" * 16)
    )
    export_archive(source.cache, tmp_path / "big.tar")
    target = make_session("big-target", [old_key])

    report = import_archive(target.cache, tmp_path / "big.tar")

    assert (report.responses, report.chunks) == (1, 3)
    assert read_manifest(tmp_path / "big.tar").counts.chunks == 3
    assert target.cache.get_response("ab" * 16).content == body


def test_entries_the_importing_cache_cannot_read_are_skipped_and_reported(
    make_session: SessionFactory, tmp_path: Path, old_key: str, new_key: str
) -> None:
    early = make_session("partial", [old_key])
    early.cache.save_response(_response(1))
    late = make_session("partial", [new_key, old_key])
    late.cache.save_response(_response(2))
    late.cache.redirect_storage["ab" * 16] = b"https://not-a-key.example/"
    export_archive(late.cache, tmp_path / "partial.tar")
    target = make_session("target", [new_key])  # the old key was retired here

    report = import_archive(target.cache, tmp_path / "partial.tar")

    assert (report.responses, report.redirects) == (1, 0)
    skipped = {entry.kind: entry for entry in report.skipped}
    assert skipped["responses"].key == _response(1).cache_key
    assert skipped["responses"].key_id == Key.from_text(old_key).hex_id
    assert "not in your key ring" in skipped["responses"].reason
    assert skipped["redirects"].reason == "redirect target is not a cache key"
    assert list(target.cache.storage) == [_response(2).cache_key]


def test_files_are_created_0600_and_never_overwritten_without_force(
    make_session: SessionFactory, tmp_path: Path, old_key: str
) -> None:
    session, _ = _small_archive(make_session, tmp_path, old_key)
    archive = tmp_path / "fresh.tar"
    previous = os.umask(0)
    try:
        export_archive(session.cache, archive)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    archive.write_bytes(b"keep me")
    with pytest.raises(ArchiveError, match=r"already exists.*--force"):
        export_archive(session.cache, archive)
    assert archive.read_bytes() == b"keep me"

    archive.chmod(0o644)
    export_archive(session.cache, archive, force=True)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert read_manifest(archive).counts.responses == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_failed_export_leaves_nothing_behind(
    make_session: SessionFactory, tmp_path: Path, old_key: str
) -> None:
    session, _ = _small_archive(make_session, tmp_path, old_key)
    archive = tmp_path / "broken.tar"

    def fail(items: Any, total: int | None, label: str) -> Any:
        raise OSError(28, "No space left on device")

    with pytest.raises(ArchiveError, match="No space left"):
        export_archive(session.cache, archive, progress=fail)
    assert not archive.exists()
    with pytest.raises(ArchiveError, match="does not exist"):
        import_archive(session.cache, archive)
    with pytest.raises(ArchiveError, match="cannot create"):
        export_archive(session.cache, tmp_path / "no-such-dir" / "x.tar")


def test_keys_that_could_hold_urls_never_become_member_names(
    make_session: SessionFactory, tmp_path: Path, old_key: str
) -> None:
    session = make_session("urls", [old_key])
    response = _response(7)
    response.cache_key = "https://example.org/private/path"
    session.cache.save_response(response)
    session.cache.save_response(_response(8))

    report = export_archive(session.cache, tmp_path / "urls.tar")

    assert report.not_exported == 1
    assert report.manifest.counts.responses == 1
    raw = (tmp_path / "urls.tar").read_bytes()
    assert b"example.org" not in raw
    assert b"private" not in raw


def test_an_archive_from_a_newer_format_asks_for_an_upgrade(
    make_session: SessionFactory, tmp_path: Path, old_key: str
) -> None:
    _, archive = _small_archive(make_session, tmp_path, old_key)
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    manifest = json.loads(members[-2][1])
    manifest["format_version"] = 99
    manifest_bytes = json.dumps(manifest).encode()
    sums = f"{hashlib.sha256(manifest_bytes).hexdigest()}  manifest.json\n".encode()
    members[-2:] = [(members[-2][0], manifest_bytes), (members[-1][0], sums)]
    newer = tmp_path / "newer.tar"
    with tarfile.open(newer, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    with pytest.raises(ArchiveError, match=r"format version 99.*upgrade vaultcache"):
        import_archive(make_session("t", [old_key]).cache, newer)


def test_a_stranger_key_cannot_be_used_to_smuggle_entries(
    make_session: SessionFactory, tmp_path: Path, old_key: str
) -> None:
    """An archive is no way around authentication: entries are checked as the cache reads."""
    _, archive = _small_archive(make_session, tmp_path, generate_key(), name="stranger")
    report = import_archive(make_session("mine", [old_key]).cache, archive)
    assert report.responses == 0
    assert len(report.skipped) == 3


def test_an_empty_cache_and_long_keys_round_trip(
    make_session: SessionFactory, tmp_path: Path, old_key: str
) -> None:
    source = make_session("edge", [old_key])
    export_archive(source.cache, tmp_path / "empty.tar")
    target = make_session("edge-target", [old_key])
    assert import_archive(target.cache, tmp_path / "empty.tar").responses == 0

    long_key = "0123456789abcdef" * 8  # 128 hex digits: a pax header carries the name
    response = _response(5)
    response.cache_key = long_key
    source.cache.save_response(response)
    export_archive(source.cache, tmp_path / "long.tar")
    assert import_archive(target.cache, tmp_path / "long.tar").responses == 1
    assert target.cache.storage[long_key] == source.cache.storage[long_key]


def test_walking_the_cache_is_not_use_and_imports_respect_retention(
    make_session: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    old_key: str,
) -> None:
    from vaultcache.retention import Retention

    source, archive = _small_archive(make_session, tmp_path, old_key)
    storage = source.cache.storage
    storage.track_access = True
    noted: list[str] = []
    monkeypatch.setattr(storage, "note_access", noted.append)
    export_archive(source.cache, tmp_path / "again.tar")
    assert noted == []  # an export does not make every entry "recently used"
    assert storage.track_access is True

    target = make_session("bounded", [old_key])
    target.cache.retention = Retention(max_entries=2)
    report = import_archive(target.cache, archive)
    assert (report.responses, report.evicted) == (3, 1)
    assert len(target.cache.storage) == 2
