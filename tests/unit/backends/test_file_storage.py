"""FileStorage: the contract, file names, tampered and damaged files, crash leftovers."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultcache.backends.base import BackendError
from vaultcache.backends.filesystem import FileStorage
from vaultcache.errors import ConfigError
from vaultcache.testing import ODD_KEYS, StorageContract, StorageFactory


class TestFileStorage(StorageContract):
    persistent = True
    multiprocess = True
    thread_rounds = 50  # every write is fsynced

    def storage_args(self, tmp_path: Path) -> StorageFactory:
        return FileStorage, (str(tmp_path / "cache"),)


class TestFileStorageWithExtension(StorageContract):
    thread_rounds = 20

    def storage_args(self, tmp_path: Path) -> StorageFactory:
        return functools.partial(FileStorage, extension=".bin"), (str(tmp_path / "cache"),)


@pytest.fixture
def files(tmp_path: Path) -> FileStorage:
    """A FileStorage outside the contract classes (whose fixture is named `storage`)."""
    return FileStorage(tmp_path / "cache")


def entry_file(storage: FileStorage, key: str) -> Path:
    return storage.cache_dir / hashlib.sha256(key.encode()).hexdigest()


LOCK_FILE = ".vaultcache.lock"


def listing(directory: Path) -> list[str]:
    """The directory's names, without the lock file every writer creates."""
    return sorted(name for name in os.listdir(directory) if name != LOCK_FILE)


def test_file_names_never_contain_the_key(files: FileStorage) -> None:
    keys = [*ODD_KEYS.values(), "GET https://example.com/?token=hunter2", "plainkey"]
    for key in keys:
        files[key] = b"value"
    names = listing(files.cache_dir)
    assert len(names) == len(keys)
    for name in names:
        assert len(name) == 64
        assert all(char in "0123456789abcdef" for char in name)
    assert not any("hunter2" in name or "plainkey" in name for name in names)
    assert sorted(files) == sorted(keys)


def test_extension_is_appended(tmp_path: Path) -> None:
    storage = FileStorage(tmp_path / "cache", extension=".bin")
    storage["key"] = b"value"
    assert [name.endswith(".bin") for name in listing(storage.cache_dir)] == [True]


@pytest.mark.parametrize("extension", ["bin", "./x", ".a/b", ".", ".toolongextension1", 1])
def test_bad_extension_is_a_config_error(tmp_path: Path, extension: object) -> None:
    with pytest.raises(ConfigError) as caught:
        FileStorage(tmp_path / "cache", extension=extension)  # type: ignore[arg-type]
    assert caught.value.key == "backend.filesystem.extension"


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_022")
def test_files_and_directories_are_private(tmp_path: Path) -> None:
    storage = FileStorage(tmp_path / "a" / "b")
    storage["key"] = b"value"
    for directory in (tmp_path / "a", tmp_path / "a" / "b"):
        assert oct(stat.S_IMODE(directory.stat().st_mode)) == oct(0o700)
    assert oct(stat.S_IMODE(entry_file(storage, "key").stat().st_mode)) == oct(0o600)


def test_file_with_another_key_is_missing(
    files: FileStorage, caplog: pytest.LogCaptureFixture
) -> None:
    files["victim"] = b"victim's value"
    files["attacker"] = b"attacker's value"
    # Move one entry onto another's name, as someone with write access could.
    shutil.copyfile(entry_file(files, "attacker"), entry_file(files, "victim"))
    with caplog.at_level(logging.WARNING):
        with pytest.raises(KeyError):
            files["victim"]
        assert "victim" not in files
        assert files.get("victim") is None
        assert files.size_of("victim") is None
    assert "holds another key" in caplog.text
    assert "victim" not in caplog.text
    assert "attacker" not in caplog.text
    assert sorted(files) == ["attacker"]  # the misnamed copy is not listed


@pytest.mark.parametrize(
    "content",
    [b"", b"VCF1", b"XXXX\x00\x00\x00\x03key", b"VCF1\x00\x00\xff\xffke", b"not ours at all"],
    ids=["empty", "magic-only", "wrong-magic", "truncated-key", "garbage"],
)
def test_damaged_file_is_missing(
    files: FileStorage, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    files["key"] = b"value"
    entry_file(files, "key").write_bytes(content)
    with caplog.at_level(logging.WARNING), pytest.raises(KeyError):
        files["key"]
    assert "damaged" in caplog.text
    assert list(files) == []


def test_stray_temp_files_are_ignored_and_cleared(files: FileStorage) -> None:
    files["key"] = b"value"
    leftover = files.cache_dir / ".vaultcache-crashed.tmp"
    leftover.write_bytes(b"half a write")
    assert list(files) == ["key"]
    assert len(files) == 1
    files.clear()
    assert listing(files.cache_dir) == []


def test_clear_leaves_other_files_alone(files: FileStorage) -> None:
    (files.cache_dir / "README").write_text("not a cache entry")
    files["key"] = b"value"
    files.clear()
    assert listing(files.cache_dir) == ["README"]
    assert list(files) == []


def test_removed_directory_is_recreated(files: FileStorage) -> None:
    files["key"] = b"value"
    shutil.rmtree(files.cache_dir)
    assert list(files) == []
    assert len(files) == 0
    files["key"] = b"again"
    assert files["key"] == b"again"


def test_directory_path_that_is_a_file_is_a_backend_error(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file")
    with pytest.raises(BackendError) as caught:
        FileStorage(tmp_path / "cache")
    assert caught.value.path == str(tmp_path / "cache")


def test_no_temp_files_remain_after_writes(files: FileStorage) -> None:
    for number in range(20):
        files[f"key-{number}"] = b"value"
    assert not [name for name in listing(files.cache_dir) if name.startswith(".")]


@given(key=st.text(max_size=20), body=st.binary(max_size=200), with_header=st.booleans())
def test_any_file_content_reads_as_its_key_or_missing(
    key: str, body: bytes, with_header: bool
) -> None:
    """The header parser takes untrusted bytes: a miss or the right value, nothing else."""
    encoded = key.encode()
    header = b"VCF1" + len(encoded).to_bytes(4, "big") + encoded
    content = header + body if with_header else body
    with tempfile.TemporaryDirectory() as directory:
        storage = FileStorage(directory)
        entry_file(storage, key).write_bytes(content)
        if content.startswith(header):
            assert storage[key] == content[len(header) :]
            assert list(storage) == [key]
        else:
            assert key not in storage
            assert storage.get(key) is None
            assert list(storage) == []


# -- retention and compare-and-swap ----------------------------------------------------------


def test_lock_file_is_private_and_not_an_entry(files: FileStorage) -> None:
    files["key"] = b"value"
    lock = files.cache_dir / LOCK_FILE
    assert oct(stat.S_IMODE(lock.stat().st_mode)) == oct(0o600)
    assert list(files) == ["key"]
    assert len(files) == 1
    files.clear()
    assert lock.exists()  # kept: another process may hold it


def test_writes_set_exact_times(files: FileStorage) -> None:
    before = time.time_ns()
    files["key"] = b"value"
    after = time.time_ns()
    status = entry_file(files, "key").stat()
    assert status.st_mtime_ns == status.st_atime_ns
    assert before <= status.st_mtime_ns <= after


def test_reads_set_access_times_in_a_batch(files: FileStorage) -> None:
    files.track_access = True
    files["a"] = b"value"
    written = entry_file(files, "a").stat()
    assert files["a"] == b"value"
    assert entry_file(files, "a").stat().st_atime_ns == written.st_atime_ns  # nothing yet
    (noted,) = [entry for entry in files.entry_stats() if entry.key == "a"]
    assert noted.accessed is not None
    assert noted.accessed > written.st_mtime_ns / 1e9
    files["b"] = b"value"  # the next write stores the batch
    status = entry_file(files, "a").stat()
    assert status.st_atime_ns > written.st_atime_ns
    assert status.st_mtime_ns == written.st_mtime_ns  # the creation time is kept


def test_listing_and_lookups_are_not_uses(files: FileStorage) -> None:
    files["a"] = b"value"
    path = entry_file(files, "a")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # long ago; the ctime is now
    assert list(files) == ["a"]
    assert "a" in files
    assert files.size_of("a") == 5
    assert files["a"] == b"value"  # not tracked: not a use either
    assert path.stat().st_atime_ns == 1_000_000_000


def test_replace_keeps_the_times(files: FileStorage) -> None:
    files["a"] = b"value"
    os.utime(entry_file(files, "a"), ns=(2_000_000_000, 1_000_000_000))
    assert files.replace("a", b"value", b"re-encrypted")
    status = entry_file(files, "a").stat()
    assert (status.st_atime_ns, status.st_mtime_ns) == (2_000_000_000, 1_000_000_000)
    assert files["a"] == b"re-encrypted"


def test_replace_refuses_a_file_holding_another_key(files: FileStorage) -> None:
    files["victim"] = b"value"
    files["attacker"] = b"value"
    shutil.copyfile(entry_file(files, "attacker"), entry_file(files, "victim"))
    assert files.replace("victim", b"value", b"new") is False


@pytest.mark.skipif(sys.platform == "win32", reason="needs fcntl")
def test_writers_wait_while_the_lock_is_held_exclusively(files: FileStorage) -> None:
    import fcntl

    files["key"] = b"old"
    fd = os.open(files.cache_dir / LOCK_FILE, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as replace() or evict() in another process would
    done = threading.Event()

    def write() -> None:
        files["key"] = b"new"
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert not done.wait(0.3)
        assert files["key"] == b"old"  # readers do not wait
    finally:
        os.close(fd)
    writer.join(5)
    assert done.is_set()
    assert files["key"] == b"new"


def test_evict_without_a_directory(files: FileStorage) -> None:
    files["key"] = b"value"
    shutil.rmtree(files.cache_dir)
    assert files.evict(max_entries=1) == 0
    assert files.usage.snapshot().entries == 0


def test_evict_reads_no_entry_file(files: FileStorage) -> None:
    for number in range(4):
        files[f"key-{number}"] = b"value"
    entry_file(files, "key-0").write_bytes(b"damaged, but stat() does not care")
    os.utime(entry_file(files, "key-0"), ns=(1, 1))
    assert files.evict(max_entries=3) == 1
    assert sorted(files) == ["key-1", "key-2", "key-3"]


def test_close_stores_recorded_reads(files: FileStorage) -> None:
    files.track_access = True
    files["a"] = b"value"
    written = entry_file(files, "a").stat().st_atime_ns
    assert files["a"] == b"value"
    files.close()
    assert entry_file(files, "a").stat().st_atime_ns > written


def test_huge_key_length_in_a_header_allocates_nothing(
    files: FileStorage, caplog: pytest.LogCaptureFixture
) -> None:
    """A header claiming a 4 GiB key is damage, found before the key is read."""
    import tracemalloc

    files["key"] = b"value"
    entry_file(files, "key").write_bytes(b"VCF1\xff\xff\xff\xffkey")
    tracemalloc.start()
    try:
        with caplog.at_level(logging.WARNING):
            assert files.get("key") is None
        assert list(files) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "device-link", "directory"])
def test_entry_path_that_is_not_a_regular_file_is_missing(files: FileStorage, kind: str) -> None:
    """A FIFO (opening it would wait for a writer), a link to a device or a directory."""
    files["key"] = b"value"
    files["other"] = b"kept"
    path = entry_file(files, "key")
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device-link":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    assert files.get("key") is None
    assert "key" not in files
    assert files.size_of("key") is None
    assert list(files) == ["other"]
    assert [entry.key for entry in files.entry_stats()] == ["other"]
    if kind != "directory":
        files["key"] = b"again"
        assert files["key"] == b"again"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX lock file")
def test_lock_file_planted_as_a_link_is_not_followed(files: FileStorage, tmp_path: Path) -> None:
    """A link at the lock file's path must not make a write create a file elsewhere."""
    elsewhere = tmp_path / "created-elsewhere"
    lock = files.cache_dir / ".vaultcache.lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(elsewhere)
    with pytest.raises(BackendError):
        files["key"] = b"value"
    assert not elsewhere.exists()
