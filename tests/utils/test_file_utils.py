"""get_file: cache lookup, verified atomic downloads, offline errors, safe extraction."""
import hashlib
import io
import os
import tarfile
import urllib.error
import urllib.request
import zipfile

import pytest

from cornu.utils.file_utils import get_file, hash_file, validate_file

PAYLOAD = b"cornu test payload\n" * 1000


@pytest.fixture
def source(tmp_path):
    """A file:// origin serving PAYLOAD, and its sha256."""
    src = tmp_path / "server" / "payload.bin"
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    return src.as_uri(), hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything tries to fetch a URL."""
    def refuse(*args, **kwargs):
        raise AssertionError("get_file tried to download")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def leftovers(directory):
    return [n for n in os.listdir(directory) if n.endswith(".part")]


def test_download_verifies_and_places_file(home, source):
    origin, digest = source
    path = get_file("data.bin", origin=origin, file_hash=digest)
    assert path == str(home / "datasets" / "data.bin")
    with open(path, "rb") as f:
        assert f.read() == PAYLOAD
    assert leftovers(home / "datasets") == []


def test_md5_hash_detected_by_length(home, source):
    origin, _ = source
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    path = get_file("data.bin", origin=origin, file_hash=md5)
    assert validate_file(path, md5) and hash_file(path, "md5") == md5


def test_deprecated_md5_hash_argument_checks_download(home, source):
    origin, _ = source
    with pytest.raises(ValueError, match="0" * 32):
        get_file("data.bin", origin=origin, md5_hash="0" * 32)
    assert not (home / "datasets" / "data.bin").exists()


def test_hash_mismatch_leaves_nothing(home, source):
    origin, digest = source
    wrong = "f" * 64
    with pytest.raises(ValueError) as err:
        get_file("data.bin", origin=origin, file_hash=wrong)
    assert wrong in str(err.value) and digest in str(err.value)
    assert os.listdir(home / "datasets") == []


def test_cached_file_used_as_is_without_download(home, no_network):
    cached = home / "datasets" / "data.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"repacked copy")
    path = get_file("data.bin", origin="https://example.invalid/data.bin", file_hash="a" * 64)
    assert path == str(cached)
    assert cached.read_bytes() == b"repacked copy"


def test_second_call_hits_cache(home, source, monkeypatch):
    origin, digest = source
    first = get_file("data.bin", origin=origin, file_hash=digest)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("re-downloaded"))
    assert get_file("data.bin", origin=origin, file_hash=digest) == first


def test_force_download_replaces_cached_file(home, source):
    origin, digest = source
    cached = home / "datasets" / "data.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"stale")
    path = get_file("data.bin", origin=origin, file_hash=digest, force_download=True)
    assert open(path, "rb").read() == PAYLOAD


def test_offline_error_names_cache_path(home, monkeypatch):
    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("no route to host")
    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    origin = "https://example.invalid/data.bin"
    with pytest.raises(Exception, match="URL fetch failure on") as err:
        get_file("data.bin", origin=origin)
    assert origin in str(err.value)
    assert str(home / "datasets" / "data.bin") in str(err.value)
    assert os.listdir(home / "datasets") == []


def test_interrupted_download_leaves_no_partial_file(home, monkeypatch):
    class Broken(io.BytesIO):
        headers = {}

        def read(self, n=-1):
            if self.tell() >= 10:
                raise ConnectionResetError("connection reset")
            return super().read(5)

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Broken(PAYLOAD))
    with pytest.raises(Exception, match="URL fetch failure"):
        get_file("data.bin", origin="https://example.invalid/data.bin")
    assert os.listdir(home / "datasets") == []


def test_fname_defaults_to_origin_basename(home, source):
    origin, _ = source
    assert get_file(origin=origin) == str(home / "datasets" / "payload.bin")


def test_fname_with_a_directory_is_refused_and_cache_dir_is_used(tmp_path, home, no_network):
    for fname in (str(tmp_path / "elsewhere" / "given.bin"), "sub/given.bin"):
        with pytest.raises(ValueError, match="Paths are no longer accepted"):
            get_file(fname, origin="https://example.invalid/x")
    cached = tmp_path / "cd" / "sub" / "f.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"y")
    found = get_file("f.bin", origin="https://example.invalid/f.bin", cache_dir=tmp_path / "cd", cache_subdir="sub")
    assert found == str(cached)


def test_unwritable_cache_falls_back_to_tmp(tmp_path, home, source):
    origin, digest = source
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"a file, so no directory can be made under it")
    path = get_file("data.bin", origin=origin, file_hash=digest, cache_dir=blocker)
    assert path == str(tmp_path / "tmp" / ".keras" / "datasets" / "data.bin")


def test_bad_arguments(home):
    with pytest.raises(ValueError, match="origin"):
        get_file("missing.bin")
    with pytest.raises(ValueError, match="hash_algorithm"):
        get_file("x.bin", origin="https://example.invalid/x.bin", file_hash="0" * 64, hash_algorithm="sha1")
    with pytest.raises(ValueError, match="abc"):
        get_file("x.bin", origin="https://example.invalid/x.bin", file_hash="abc")


def make_tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_extract_tar_named_directory(home, tmp_path):
    archive = tmp_path / "a.tar.gz"
    make_tar(archive, {"inner/hello.txt": b"hi"})
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    path = get_file("stuff", origin=archive.as_uri(), extract=True, file_hash=digest)
    assert path == str(home / "datasets" / "stuff")
    assert open(os.path.join(path, "inner", "hello.txt"), "rb").read() == b"hi"
    assert (home / "datasets" / "stuff_archive").is_file()


def test_untar_and_zip_with_extension(home, tmp_path):
    archive = tmp_path / "z.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("d/f.txt", "zipped")
    path = get_file("z.zip", origin=archive.as_uri(), extract=True)
    assert path == str(home / "datasets" / "z_extracted")
    assert open(os.path.join(path, "d", "f.txt")).read() == "zipped"
    tgz = tmp_path / "t.tgz"
    make_tar(tgz, {"g.txt": b"tarred"})
    path = get_file("t", origin=tgz.as_uri(), untar=True)
    assert open(os.path.join(path, "g.txt"), "rb").read() == b"tarred"


def test_tar_path_traversal_refused(home, tmp_path):
    archive = tmp_path / "evil.tar.gz"
    make_tar(archive, {"ok.txt": b"fine", "../escaped.txt": b"evil"})
    with pytest.raises(ValueError, match="escaped.txt"):
        get_file("evil", origin=archive.as_uri(), extract=True)
    assert not (home / "datasets" / "escaped.txt").exists()
    assert not (home / "datasets" / "evil").exists()


def test_tar_symlink_refused(home, tmp_path):
    archive = tmp_path / "link.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(ValueError, match="link"):
        get_file("link", origin=archive.as_uri(), extract=True)


def test_zip_path_traversal_refused(home, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../escaped.txt", "evil")
    with pytest.raises(ValueError, match="escaped.txt"):
        get_file("evil.zip", origin=archive.as_uri(), extract=True)
    assert not (home / "escaped.txt").exists()


def test_non_archive_extract_raises(home, source):
    origin, _ = source
    with pytest.raises(ValueError, match="Could not extract"):
        get_file("plain", origin=origin, extract=True)
    assert not (home / "datasets" / "plain").exists()


def test_tmp_fallback_ignored_when_cache_is_writable(tmp_path, home, monkeypatch):
    planted = tmp_path / "tmp" / ".keras" / "datasets" / "data.bin"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"planted by someone else")

    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("offline")
    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    with pytest.raises(Exception, match=str(home / "datasets" / "data.bin")):
        get_file("data.bin", origin="https://example.invalid/data.bin")


def test_extracting_without_fname_uses_the_origin_name_as_the_directory(home, tmp_path):
    member = tmp_path / "inner.txt"
    member.write_bytes(b"inside")
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(member, arcname="folder/inner.txt")
    path = get_file(origin=archive.as_uri(), extract=True)
    assert path == str(home / "datasets" / "pack.zip") and os.path.isdir(path)
    assert (home / "datasets" / "pack.zip_archive").is_file()
    assert (home / "datasets" / "pack.zip" / "folder" / "inner.txt").read_bytes() == b"inside"
    named = get_file("pack.zip", origin=archive.as_uri(), extract=True, cache_dir=tmp_path / "other")
    assert named == str(tmp_path / "other" / "datasets" / "pack_extracted")
