"""Download-and-cache of data files (``keras.utils.get_file``).

Files land in ``$KERAS_HOME`` (or ``~/.keras``) under ``cache_subdir``. A file
already in the cache is used as is, so offline users can place one there by
hand. Downloads stream into a temp file beside the target, are hash-checked,
then moved into place with ``os.replace``: a partial or corrupt download
never sits in the cache.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from typing import Any

_CHUNK_SIZE = 1 << 16
_TIMEOUT_S = 60
_HASH_LENGTHS = {32: "md5", 64: "sha256"}


def keras_home() -> str:
    """Cache root: ``$KERAS_HOME`` if set, else ``~/.keras``."""
    return os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))


def resolve_hash_algorithm(file_hash: str, algorithm: str = "auto") -> str:
    """Return ``"md5"`` or ``"sha256"``; ``"auto"`` picks by the hash's length."""
    if algorithm not in ("auto", "md5", "sha256"):
        raise ValueError(
            f"Unknown hash_algorithm {algorithm!r}. Expected one of 'auto', 'md5', 'sha256'."
        )
    if algorithm != "auto":
        return algorithm
    if len(file_hash) not in _HASH_LENGTHS:
        raise ValueError(
            f"Cannot infer the hash algorithm of file_hash={file_hash!r}: expected a "
            "32-character md5 or a 64-character sha256 hex digest."
        )
    return _HASH_LENGTHS[len(file_hash)]


def hash_file(fpath: str, algorithm: str = "sha256", chunk_size: int = _CHUNK_SIZE) -> str:
    """Hex digest (``"sha256"`` or ``"md5"``) of the file at ``fpath``."""
    hasher = hashlib.new(algorithm)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str, file_hash: str, algorithm: str = "auto") -> bool:
    """Whether the file at ``fpath`` has the hex digest ``file_hash``."""
    algorithm = resolve_hash_algorithm(file_hash, algorithm)
    return hash_file(fpath, algorithm) == file_hash.lower()


def get_file(
    fname: str | os.PathLike | None = None,
    origin: str | None = None,
    untar: bool = False,
    md5_hash: str | None = None,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format: str | list | None = "auto",
    cache_dir: str | os.PathLike | None = None,
    force_download: bool = False,
) -> str:
    """Download ``origin`` into the cache unless it is already there; return its path.

    The file goes to ``cache_dir/cache_subdir/fname`` (``fname`` is a bare file
    name, as in Keras; it defaults to the origin's). ``file_hash`` (sha256 or
    md5) checks a fresh download. With ``extract=True`` (or the deprecated
    ``untar=True``) the archive is unpacked and the extraction directory is
    returned instead.
    """
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if file_hash is not None:
        hash_algorithm = resolve_hash_algorithm(file_hash, hash_algorithm)
    named = fname is not None and bool(os.fspath(fname))
    fname = _resolve_fname(fname, origin)
    extract = extract or untar
    if untar:
        archive_format = "tar"

    if not force_download:
        cached = _find_cached(cache_dir, cache_subdir, fname, extract, archive_format, named)
        if cached is not None:
            return cached
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    datadir = _writable_dir(cache_dir, cache_subdir)
    target, extraction_dir = _targets(datadir, fname, extract, named)
    _download(origin, target, file_hash, hash_algorithm)
    return _extract(target, extraction_dir, archive_format, replace=True) if extract else target


def get_file_at(path: str | os.PathLike, **kwargs: Any) -> str:
    """``get_file`` for the datasets' ``path`` argument, which may also name a directory (a cornu extension).

    A bare name goes to the cache as in Keras; a path with a directory is used where it is (downloaded
    there when missing), since ``get_file`` itself refuses directories in ``fname`` as Keras does.
    """
    path = os.path.expanduser(os.fspath(path))
    head, name = os.path.split(path)
    if not head:
        return get_file(path, **kwargs)
    return get_file(name, cache_dir=head, cache_subdir="", **kwargs)


def _resolve_fname(fname, origin: str | None) -> str:
    if fname is not None:
        fname = os.fspath(fname)
    if fname:
        if os.path.basename(fname) != fname:
            raise ValueError(
                "Paths are no longer accepted as the `fname` argument. To specify the file's parent directory, "
                f"use the `cache_dir` argument. Received: fname={fname}"
            )
        return fname
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    name = os.path.basename(urllib.parse.urlsplit(origin).path)
    if not name:
        raise ValueError(
            f"Can't parse the file name from origin={origin!r}. Please specify `fname`."
        )
    return name


def _find_cached(cache_dir, cache_subdir: str, fname: str, extract: bool, archive_format, named: bool = True):
    """Path of the cached file (or extraction directory), used as is; ``None`` if absent."""
    for datadir in _candidate_dirs(cache_dir, cache_subdir):
        target, extraction_dir = _targets(datadir, fname, extract, named)
        if extract and _is_nonempty_dir(extraction_dir):
            return extraction_dir
        if os.path.isfile(target):
            return _extract(target, extraction_dir, archive_format) if extract else target
    return None


def _candidate_dirs(cache_dir, cache_subdir: str) -> list[str]:
    """Cache directories, best first: the configured one, plus the temp fallback
    only when the configured one cannot be written (as Keras does)."""
    base = os.path.expanduser(os.fspath(cache_dir)) if cache_dir is not None else keras_home()
    primary = os.path.join(base, cache_subdir)
    if _is_writable_dir(primary):
        return [primary]
    return [primary, os.path.join(tempfile.gettempdir(), ".keras", cache_subdir)]


def _is_writable_dir(path: str) -> bool:
    """Whether ``path`` is a writable directory, or could be created as one."""
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.path.isdir(path) and os.access(path, os.W_OK)


def _writable_dir(cache_dir, cache_subdir: str) -> str:
    """First candidate cache directory that is writable."""
    candidates = _candidate_dirs(cache_dir, cache_subdir)
    for path in candidates:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return path
    raise OSError(f"None of the cache directories {candidates} is writable.")


def _targets(datadir: str, fname: str, extract: bool, named: bool = True) -> tuple[str, str | None]:
    """(download path, extraction directory) for ``fname`` in ``datadir``.

    When extracting, a given name with an extension is the archive's own name
    and the files go to ``<stem>_extracted``; a name without one, or one taken
    from the origin, is the extraction directory and the archive is stored as
    ``<name>_archive`` (Keras's layout).
    """
    path = os.path.join(datadir, fname)
    if not extract:
        return path, None
    head, base = os.path.split(path)
    if named and "." in base:
        return path, os.path.join(head, base[: base.find(".")] + "_extracted")
    return path + "_archive", path


def _is_nonempty_dir(path: str | None) -> bool:
    return path is not None and os.path.isdir(path) and bool(os.listdir(path))


def _download(origin: str, target: str, file_hash: str | None, algorithm: str) -> None:
    """Stream ``origin`` into a temp file beside ``target``, check it, move it into place."""
    directory = os.path.dirname(target) or "."
    os.makedirs(directory, exist_ok=True)
    hasher = hashlib.new(algorithm) if file_hash is not None else None
    print(f"Downloading data from {origin}")
    prefix = f".{os.path.basename(target)}."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                _stream(origin, out, hasher)
            except urllib.error.HTTPError as e:
                raise Exception(_fetch_failure(origin, f"{e.code} -- {e.reason}", target)) from e
            except urllib.error.URLError as e:
                raise Exception(_fetch_failure(origin, f"{e.errno} -- {e.reason}", target)) from e
            except (OSError, http.client.HTTPException) as e:
                raise Exception(_fetch_failure(origin, f"{type(e).__name__} -- {e}", target)) from e
        if hasher is not None and hasher.hexdigest() != file_hash.lower():
            raise ValueError(
                f"Incomplete or corrupted file downloaded from {origin}: expected {algorithm} "
                f"hash {file_hash}, got {hasher.hexdigest()}. Nothing was written to {target}."
            )
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _stream(origin: str, out, hasher) -> None:
    """Copy the body of ``origin`` into ``out`` chunk by chunk, feeding ``hasher`` if any."""
    with urllib.request.urlopen(origin, timeout=_TIMEOUT_S) as response:
        progbar = _progbar(response.headers.get("Content-Length"))
        done = 0
        for chunk in iter(lambda: response.read(_CHUNK_SIZE), b""):
            out.write(chunk)
            if hasher is not None:
                hasher.update(chunk)
            done += len(chunk)
            if progbar is not None:
                progbar.update(done)


def _progbar(content_length: str | None):
    """A ``Progbar`` over the download's byte count when its size is known."""
    if not content_length or not content_length.isdigit() or not sys.stdout.isatty():
        return None
    try:
        from cornu.utils.progbar import Progbar
    except ImportError:
        return None
    return Progbar(int(content_length))


def _fetch_failure(origin: str, detail: str, target: str) -> str:
    return (
        f"URL fetch failure on {origin}: {detail}. To work offline, download the file "
        f"yourself and place it at {target}"
    )


def _extract(archive: str, extraction_dir: str, archive_format, replace: bool = False) -> str:
    """Unpack ``archive`` into ``extraction_dir`` atomically; return ``extraction_dir``."""
    if not replace and _is_nonempty_dir(extraction_dir):
        return extraction_dir
    parent = os.path.dirname(extraction_dir) or "."
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(extraction_dir)}.")
    try:
        if not extract_archive(archive, staging, archive_format):
            raise ValueError(
                f"Could not extract {archive}: it is not an archive of format {archive_format!r}."
            )
        if os.path.isdir(extraction_dir):
            shutil.rmtree(extraction_dir)
        os.replace(staging, extraction_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return extraction_dir


def extract_archive(file_path: str, path: str = ".", archive_format="auto") -> bool:
    """Extract a tar (plain, gz, bz2, xz) or zip archive into ``path``.

    Returns ``True`` if ``file_path`` matched one of ``archive_format``
    (``"auto"`` means ``["tar", "zip"]``; ``None`` matches nothing). Members
    that would land outside ``path`` (absolute names, ``..``, links, devices)
    raise ``ValueError`` instead of being written.
    """
    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    for fmt in archive_format:
        if fmt == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                _safe_extract_tar(archive, path)
            return True
        if fmt == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                _safe_extract_zip(archive, path)
            return True
        if fmt not in ("tar", "zip"):
            raise ValueError(f"Unknown archive_format {fmt!r}. Expected 'tar', 'zip' or 'auto'.")
    return False


def _check_inside(root: str, member: str, archive_name: str) -> None:
    root = os.path.realpath(root)
    dest = os.path.realpath(os.path.join(root, member))
    if os.path.isabs(member) or os.path.commonpath([root, dest]) != root:
        raise ValueError(
            f"Refusing to extract {member!r} from {archive_name}: it points outside {root}."
        )


def _safe_extract_tar(archive: tarfile.TarFile, path: str) -> None:
    for member in archive.getmembers():
        _check_inside(path, member.name, archive.name)
        if not (member.isfile() or member.isdir()):
            raise ValueError(
                f"Refusing to extract {member.name!r} from {archive.name}: only regular "
                "files and directories are allowed (no links or devices)."
            )
    if hasattr(tarfile, "data_filter"):
        archive.extractall(path, filter="data")
    else:
        archive.extractall(path)


def _safe_extract_zip(archive: zipfile.ZipFile, path: str) -> None:
    for name in archive.namelist():
        _check_inside(path, name, archive.filename)
    archive.extractall(path)
