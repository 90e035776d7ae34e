"""nn.data: TensorDataset, Subset, random_split, DataLoader, collate, transforms and one_hot."""
import numpy as np
import pytest

import autograd as ag
from nn.data import (Compose, DataLoader, Dataset, MeanImageSubtraction, Normalize, OneHot, Standardize,
                     Subset, TensorDataset, ToTensor, default_collate, is_batchable, one_hot, random_split)


def make_dataset(n=10, features=3):
    x = np.arange(n * features, dtype=np.float32).reshape(n, features)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(ag.from_numpy(x), ag.from_numpy(y))


def epoch_order(loader):
    """The sample indices in the order one epoch visits them (labels are the indices)."""
    return np.concatenate([yb.numpy() for _, yb in loader])


class CountingDataset(TensorDataset):
    """A TensorDataset that counts per-sample accesses, to show the fast path never makes any."""

    def __init__(self, *tensors):
        super().__init__(*tensors)
        self.item_calls = 0

    def __getitem__(self, index):
        self.item_calls += 1
        return super().__getitem__(index)


class SquaresDataset(Dataset):
    """A generic dataset: no get_batch, samples of mixed kinds."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2, 2), i, dtype=np.float64), i * i, float(i) / 2


# -- TensorDataset, Subset, random_split -------------------------------------------------------

def test_tensor_dataset_items_are_rows_of_each_tensor():
    ds = make_dataset(5)
    x, y = ds[3]
    assert len(ds) == 5
    assert isinstance(x, ag.Tensor) and isinstance(y, ag.Tensor)
    np.testing.assert_array_equal(x.numpy(), [9, 10, 11])
    assert y.item() == 3 and y.dtype == np.int64


def test_tensor_dataset_accepts_numpy_arrays():
    ds = TensorDataset(np.zeros((4, 2)), np.ones(4))
    assert len(ds) == 4 and all(isinstance(t, ag.Tensor) for t in ds.tensors)


def test_tensor_dataset_with_different_lengths_names_the_sizes():
    with pytest.raises(ValueError, match="100, 99"):
        TensorDataset(ag.zeros(100, 3), ag.zeros(99))


@pytest.mark.parametrize("tensors, message", [((), "at least one"), ((ag.tensor(1.0),), "0-dimensional"),
                                              (([1, 2],), "list")])
def test_tensor_dataset_rejects_bad_tensors(tensors, message):
    with pytest.raises((ValueError, TypeError), match=message):
        TensorDataset(*tensors)


def test_subset_indexes_and_batches_through_the_parent():
    ds = make_dataset(10)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[1][1].item() == 2
    (xb, yb), = DataLoader(sub, batch_size=3)
    np.testing.assert_array_equal(yb.numpy(), [7, 2, 5])
    np.testing.assert_array_equal(xb.numpy(), ds.tensors[0].numpy()[[7, 2, 5]])


def test_random_split_partitions_the_dataset_reproducibly():
    ds = make_dataset(10)
    parts = random_split(ds, [6, 4], generator=ag.Generator(1))
    again = random_split(ds, [6, 4], generator=ag.Generator(1))
    assert [len(p) for p in parts] == [6, 4]
    assert sorted(np.concatenate([p.indices for p in parts]).tolist()) == list(range(10))
    assert all(np.array_equal(p.indices, q.indices) for p, q in zip(parts, again))


def test_random_split_accepts_fractions():
    assert [len(p) for p in random_split(make_dataset(10), [0.5, 0.3, 0.2])] == [5, 3, 2]
    assert [len(p) for p in random_split(make_dataset(11), [0.5, 0.5])] == [6, 5]


def test_random_split_rejects_lengths_that_do_not_add_up():
    with pytest.raises(ValueError, match="adding up"):
        random_split(make_dataset(10), [6, 5])


# -- DataLoader --------------------------------------------------------------------------------

def test_loader_without_shuffle_keeps_order_and_ends_with_a_partial_batch():
    ds = make_dataset(10)
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert loader.dataset is ds and len(loader) == 3
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    np.testing.assert_array_equal(epoch_order(loader), np.arange(10))
    np.testing.assert_array_equal(np.concatenate([xb.numpy() for xb, _ in batches]), ds.tensors[0].numpy())


def test_batches_are_lists_of_tensors_with_the_datasets_dtypes():
    xb, yb = next(iter(DataLoader(make_dataset(10), batch_size=4)))
    assert isinstance(xb, ag.Tensor) and isinstance(yb, ag.Tensor)
    assert xb.shape == (4, 3) and xb.dtype == np.float32
    assert yb.shape == (4,) and yb.dtype == np.int64


def test_drop_last_drops_the_partial_batch():
    loader = DataLoader(make_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(yb) for _, yb in loader] == [4, 4]


@pytest.mark.parametrize("n, batch_size, drop_last, expected", [
    (10, 1, False, 10), (10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3),
    (2, 5, False, 1), (2, 5, True, 0), (0, 4, False, 0)])
def test_len_is_the_number_of_batches(n, batch_size, drop_last, expected):
    loader = DataLoader(make_dataset(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == expected == len(list(loader))


def test_shuffled_epoch_visits_every_sample_once():
    order = epoch_order(DataLoader(make_dataset(50), batch_size=8, shuffle=True, seed=0))
    assert sorted(order.tolist()) == list(range(50)) and not np.array_equal(order, np.arange(50))


def test_same_seed_gives_the_same_epochs_and_each_epoch_a_new_order():
    first, second = (DataLoader(make_dataset(50), batch_size=8, shuffle=True, seed=3) for _ in range(2))
    epochs = [epoch_order(first) for _ in range(3)]
    assert all(np.array_equal(a, epoch_order(second)) for a in epochs)
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])


def test_different_seeds_give_different_orders():
    orders = [epoch_order(DataLoader(make_dataset(50), batch_size=8, shuffle=True, seed=s)) for s in (0, 1)]
    assert not np.array_equal(*orders)


def test_setting_epoch_resumes_the_sequence_of_orders():
    loader = DataLoader(make_dataset(50), batch_size=8, shuffle=True, seed=3)
    epoch_order(loader)
    second_epoch = epoch_order(loader)
    resumed = DataLoader(make_dataset(50), batch_size=8, shuffle=True, seed=3)
    resumed.epoch = 1
    np.testing.assert_array_equal(epoch_order(resumed), second_epoch)


def test_without_seed_shuffling_follows_the_global_generator():
    loader = DataLoader(make_dataset(50), batch_size=8, shuffle=True)
    ag.manual_seed(7)
    first = epoch_order(loader)
    ag.manual_seed(7)
    np.testing.assert_array_equal(epoch_order(loader), first)
    assert not np.array_equal(epoch_order(loader), first)


def test_generator_drives_shuffling_when_given():
    orders = [epoch_order(DataLoader(make_dataset(50), batch_size=8, shuffle=True, generator=ag.Generator(5)))
              for _ in range(2)]
    np.testing.assert_array_equal(*orders)


def test_array_backed_dataset_is_batched_without_per_sample_indexing():
    x, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20)
    ds = CountingDataset(x, y)
    batches = list(DataLoader(ds, batch_size=6, shuffle=True, seed=0))
    assert ds.item_calls == 0
    for xb, yb in batches:
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "batch_size"), (dict(batch_size=-2), "batch_size"), (dict(batch_size=2.5), "batch_size"),
    (dict(batch_size=True), "batch_size"), (dict(shuffle="yes"), "shuffle"), (dict(drop_last=None), "drop_last"),
    (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"), (dict(seed=1, generator=ag.Generator(1)), "either"),
    (dict(num_workers=-1), "num_workers"), (dict(collate_fn=3), "collate_fn")])
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        DataLoader(make_dataset(4), **kwargs)


def test_dataset_without_len_is_rejected():
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(iter(range(3)))


# -- the generic path: per-sample __getitem__ and collate --------------------------------------

def test_generic_dataset_samples_are_collated_into_tensors():
    loader = DataLoader(SquaresDataset(5), batch_size=2)
    images, squares, halves = next(iter(loader))
    assert images.shape == (2, 2, 2) and images.dtype == np.float64  # arrays keep their dtype
    assert squares.dtype == np.int64 and halves.dtype == np.float32  # python ints, floats
    np.testing.assert_array_equal(squares.numpy(), [0, 1])
    assert [len(b[0]) for b in loader] == [2, 2, 1]


def test_generic_path_gives_the_same_batches_as_the_fast_path():
    ds = make_dataset(10)

    class Generic(Dataset):
        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return ds[i]

    for fast, slow in zip(DataLoader(ds, 4, shuffle=True, seed=1), DataLoader(Generic(), 4, shuffle=True, seed=1)):
        for f, s in zip(fast, slow):
            assert f.dtype == s.dtype and f.shape == s.shape
            np.testing.assert_array_equal(f.numpy(), s.numpy())


def test_a_plain_list_of_pairs_is_a_dataset():
    pairs = [(np.ones(3, np.float32) * i, i) for i in range(5)]
    xb, yb = next(iter(DataLoader(pairs, batch_size=5)))
    assert xb.shape == (5, 3) and yb.numpy().tolist() == [0, 1, 2, 3, 4]


def test_collate_handles_tensors_dicts_and_strings():
    batch = default_collate([{"x": ag.ones(2), "name": "a"}, {"x": ag.zeros(2), "name": "b"}])
    assert batch["name"] == ["a", "b"] and batch["x"].shape == (2, 2)


def test_collate_names_mismatched_shapes():
    with pytest.raises(ValueError, match=r"different shapes \[\(2,\), \(3,\)\]"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_collate_fn_receives_the_list_of_samples():
    loader = DataLoader(make_dataset(6), batch_size=4, collate_fn=lambda samples: len(samples))
    assert list(loader) == [4, 2]


# -- transforms --------------------------------------------------------------------------------

def training_images(rng, n=200):
    images = rng.normal(3.0, 2.0, size=(n, 2, 4, 4)).astype(np.float32)
    images[:, :, 0, 0] = 5.0  # a constant feature, like MNIST's border
    return images


def test_standardize_gives_zero_mean_unit_std_per_feature(rng):
    images = training_images(rng)
    out = Standardize().fit(images)(images)
    assert isinstance(out, ag.Tensor) and out.dtype == np.float32 and out.shape == images.shape
    np.testing.assert_allclose(out.numpy().mean(axis=0), 0, atol=1e-5)
    std = out.numpy().std(axis=0)
    np.testing.assert_allclose(std[:, 0, 0], 0)  # a constant feature is centred, not divided by zero
    std[:, 0, 0] = 1
    np.testing.assert_allclose(std, 1, rtol=1e-4)


def test_standardize_maps_one_sample_as_it_maps_the_batch(rng):
    images = training_images(rng)
    standardize = Standardize().fit(ag.from_numpy(images))
    np.testing.assert_allclose(standardize(ag.from_numpy(images[3])).data, standardize(images).numpy()[3])


def test_standardize_per_channel_with_axis(rng):
    images = training_images(rng)
    standardize = Standardize(axis=(0, 2, 3)).fit(images)
    assert standardize.mean.shape == (2, 1, 1)
    out = standardize(images).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, rtol=1e-4)


def test_standardize_fits_on_a_dataset_as_on_its_array(rng):
    images = training_images(rng)
    from_dataset = Standardize().fit(TensorDataset(images, np.zeros(len(images))))
    np.testing.assert_allclose(from_dataset.mean, Standardize().fit(images).mean)


def test_standardize_keeps_float64():
    assert Standardize().fit(np.ones((3, 2)))(np.ones(2)).dtype == np.float64


def test_unfitted_standardize_says_to_fit():
    with pytest.raises(RuntimeError, match="fit"):
        Standardize()(np.ones(3))


def test_mean_image_subtraction_centres_without_scaling(rng):
    images = training_images(rng)
    out = MeanImageSubtraction().fit(images)(images).numpy()
    np.testing.assert_allclose(out, images - images.mean(axis=0), atol=1e-5)


def test_normalize_uses_per_channel_statistics(rng):
    images = training_images(rng)
    out = Normalize([1.0, 2.0], [0.5, 4.0])(images).numpy()
    expected = (images - np.array([1.0, 2.0])[:, None, None]) / np.array([0.5, 4.0])[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="per channel"):
        Normalize([0.1, 0.2], [0.3])


def test_compose_applies_in_order_and_is_batchable_only_if_every_part_is():
    subtract_one = MeanImageSubtraction(mean=np.ones((1, 1, 2)))
    pipeline = Compose([ToTensor(), subtract_one, Normalize([0.0], [2.0])])
    np.testing.assert_allclose(pipeline(np.full((1, 1, 2), 5.0)).data, [[[2.0, 2.0]]])
    assert pipeline.batchable and is_batchable(None)
    assert not Compose([subtract_one, lambda x: x]).batchable and not is_batchable(lambda x: x)


def test_to_tensor_scales_uint8_and_passes_tensors_through():
    out = ToTensor()(np.array([[0, 255]], dtype=np.uint8))
    assert out.dtype == np.float32 and out.numpy().tolist() == [[0.0, 1.0]]
    t = ag.ones(2)
    assert ToTensor()(t) is t


# -- one_hot -----------------------------------------------------------------------------------

@pytest.mark.parametrize("labels, num_classes", [([0, 2, 1], 3), ([[1, 0], [3, 3]], -1), ([4], 6), (2, 3)])
def test_one_hot_matches_pytorch(labels, num_classes):
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.one_hot(torch.tensor(labels), num_classes).numpy()
    out = one_hot(ag.tensor(labels), num_classes)
    assert isinstance(out, ag.Tensor) and out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), expected)


def test_one_hot_of_empty_labels_needs_num_classes():
    assert one_hot(np.zeros(0, np.int64), 4).shape == (0, 4)
    with pytest.raises(ValueError, match="empty"):
        one_hot(np.zeros(0, np.int64))


@pytest.mark.parametrize("labels, num_classes, error, message", [
    ([0, 3], 3, ValueError, r"\[0, 3\)"), ([-1, 0], 3, ValueError, r"\[0, 3\)"),
    ([0.0, 1.0], 2, TypeError, "integers"), ([0], 0, ValueError, "num_classes")])
def test_one_hot_rejects_bad_input(labels, num_classes, error, message):
    with pytest.raises(error, match=message):
        one_hot(np.array(labels), num_classes)


def test_one_hot_transform_maps_a_label_and_a_batch_alike():
    encode = OneHot(4)
    np.testing.assert_array_equal(encode(2).numpy(), [0, 0, 1, 0])
    np.testing.assert_array_equal(encode(np.array([2, 0])).data, [[0, 0, 1, 0], [1, 0, 0, 0]])


@pytest.mark.parametrize("array", [np.array(["a", "b"]), np.array([1, None], dtype=object),
                                   np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]")],
                         ids=["strings", "objects", "dates"])
def test_tensor_dataset_refuses_non_numeric_arrays_naming_which(array):
    with pytest.raises(ag.DTypeError, match="TensorDataset: tensor 1: from_numpy: cannot share an array of dtype"):
        TensorDataset(np.zeros((2, 3)), array)


def test_default_collate_keeps_a_namedtuple_as_torch():
    import collections
    torch = pytest.importorskip("torch")
    Pair = collections.namedtuple("Pair", "image label")
    samples = [Pair(np.full(2, i, np.float32), i) for i in range(3)]
    from nn.data import default_collate
    ours = default_collate(samples)
    theirs = torch.utils.data.default_collate([Pair(torch.tensor(s.image), s.label) for s in samples])
    assert type(ours) is Pair and type(theirs) is Pair
    np.testing.assert_array_equal(ours.image.numpy(), theirs.image.numpy())
    np.testing.assert_array_equal(ours.label.numpy(), theirs.label.numpy())
