"""nn.data samplers (Sequential, Random, SubsetRandom, WeightedRandom, Batch), ConcatDataset and
IterableDataset, and the DataLoader's sampler / batch_sampler options, against torch.utils.data
wherever the result does not depend on the random stream."""
import numpy as np
import pytest

import autograd as ag
from nn import data as D

torch = pytest.importorskip("torch")
T = torch.utils.data


def pair_of_datasets(n=10):
    x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    return D.TensorDataset(x, y), T.TensorDataset(torch.tensor(x), torch.tensor(y))


def assert_same_batches(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            assert u.dtype == v.numpy().dtype
            np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_concat_dataset_indexes_and_measures_as_torch():
    ds, tds = pair_of_datasets()
    cat, tcat = D.ConcatDataset([ds, D.Subset(ds, [1, 2])]), T.ConcatDataset([tds, T.Subset(tds, [1, 2])])
    assert len(cat) == len(tcat) and cat.cumulative_sizes == tcat.cumulative_sizes
    for i in [0, 9, 10, 11, -1, -12]:
        assert_same_batches([cat[i]], [tcat[i]])
    assert len(ds + ds) == 20 and isinstance(ds + ds, D.ConcatDataset)
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        cat[-13]
    with pytest.raises(IndexError, match="index 12 is out of range for 12 samples"):
        cat[12]
    assert_same_batches(D.DataLoader(cat, batch_size=5), T.DataLoader(tcat, batch_size=5))


@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_and_a_loader_driven_by_it_match_torch(drop_last):
    ds, tds = pair_of_datasets()
    ours = D.BatchSampler(D.SequentialSampler(ds), 4, drop_last)
    theirs = T.BatchSampler(T.SequentialSampler(tds), 4, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    loader, torch_loader = D.DataLoader(ds, batch_sampler=ours), T.DataLoader(tds, batch_sampler=theirs)
    assert len(loader) == len(torch_loader)
    assert_same_batches(loader, torch_loader)


@pytest.mark.parametrize("drop_last", [False, True])
def test_a_sampler_of_indices_sets_the_order_and_batch_size_groups_it(drop_last):
    ds, tds = pair_of_datasets()
    order = [3, 1, 4, 1, 5, 9, 2, 6]
    loader = D.DataLoader(ds, batch_size=3, sampler=order, drop_last=drop_last)
    torch_loader = T.DataLoader(tds, batch_size=3, sampler=order, drop_last=drop_last)
    assert len(loader) == len(torch_loader)
    assert_same_batches(loader, torch_loader)


def test_random_samplers_draw_what_they_promise_and_follow_their_generator():
    ds, _ = pair_of_datasets()
    assert sorted(D.RandomSampler(ds)) == list(range(10))
    drawn = list(D.RandomSampler(ds, num_samples=25))  # two whole permutations and a part of a third
    assert len(drawn) == 25 and sorted(drawn[:10]) == sorted(drawn[10:20]) == list(range(10))
    with_replacement = list(D.RandomSampler(ds, replacement=True, num_samples=100))
    assert len(with_replacement) == 100 and set(with_replacement) <= set(range(10))
    assert sorted(D.SubsetRandomSampler([7, 8, 9])) == [7, 8, 9]
    first, second = (list(D.RandomSampler(ds, generator=ag.Generator().manual_seed(3))) for _ in range(2))
    assert first == second


def test_weighted_random_sampler_draws_only_weighted_indices_in_proportion():
    weights = [0.0] * 5 + [1.0] * 4 + [4.0]
    drawn = np.array(list(D.WeightedRandomSampler(weights, 8000, generator=ag.Generator().manual_seed(0))))
    assert set(drawn) <= set(range(5, 10))
    assert np.mean(drawn == 9) == pytest.approx(0.5, abs=0.03)
    without = list(D.WeightedRandomSampler(weights, 5, replacement=False))
    assert sorted(without) == [5, 6, 7, 8, 9]
    loader = D.DataLoader(pair_of_datasets()[0], batch_size=4, sampler=D.WeightedRandomSampler(weights, 12))
    assert len(loader) == 3 and all(set(yb.numpy()) <= set(range(5, 10)) for _, yb in loader)


def test_iterable_dataset_is_batched_in_stream_order_as_torch():
    def samples():
        for i in range(7):
            yield np.float32(i), i

    class Stream(D.IterableDataset):
        def __iter__(self):
            return samples()

    class TorchStream(T.IterableDataset):
        def __iter__(self):
            return samples()

    for drop_last in (False, True):
        assert_same_batches(D.DataLoader(Stream(), batch_size=3, drop_last=drop_last),
                            T.DataLoader(TorchStream(), batch_size=3, drop_last=drop_last))
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified shuffle"):
        D.DataLoader(Stream(), shuffle=True)
    with pytest.raises(TypeError, match="IterableDataset"):
        D.ConcatDataset([Stream()])


@pytest.mark.parametrize("kwargs, message", [
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive")])
def test_conflicting_loader_options_raise_as_torch(kwargs, message):
    ds, tds = pair_of_datasets()
    with pytest.raises(ValueError, match=message):
        T.DataLoader(tds, **kwargs)
    with pytest.raises(ValueError, match=message):
        D.DataLoader(ds, **kwargs)


@pytest.mark.parametrize("build, message", [
    (lambda: D.RandomSampler(range(3), num_samples=0), "num_samples should be a positive integer"),
    (lambda: D.RandomSampler(range(3), replacement=1), "replacement should be a boolean"),
    (lambda: D.WeightedRandomSampler([[1.0]], 2), r"1d sequence but given weights have shape \(1, 1\)"),
    (lambda: D.WeightedRandomSampler([1.0], -1), "num_samples should be a positive integer"),
    (lambda: D.BatchSampler(range(3), 0, False), "batch_size should be a positive integer"),
    (lambda: D.BatchSampler(range(3), 2, None), "drop_last should be a boolean")])
def test_bad_sampler_arguments_raise_clear_errors(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_worker_options_of_torch_loaders_are_accepted():
    ds, _ = pair_of_datasets()
    loader = D.DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, persistent_workers=True,
                          worker_init_fn=lambda worker: None, prefetch_factor=2, timeout=10)
    assert sorted(np.concatenate([yb.numpy() for _, yb in loader]).tolist()) == list(range(10))


def test_an_iterable_dataset_sharding_by_worker_info_reads_everything_in_the_main_process():
    class Shards(D.IterableDataset):
        def __iter__(self):
            info = D.get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, 10, step))

    assert D.get_worker_info() is None
    batches = [b.numpy().tolist() for b in D.DataLoader(Shards(), batch_size=4, num_workers=2)]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batch_size_none_yields_single_converted_samples_as_torch():
    """No automatic batching: each sample, its arrays made tensors (e.g. a stream that yields whole batches)."""
    x = np.arange(12, dtype=np.float32).reshape(4, 3)

    class Pairs:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i], {"index": np.array([i])}

    for module in (D, T):
        loader = module.DataLoader(Pairs(), batch_size=None, sampler=[3, 1])
        samples = list(loader)
        assert len(loader) == 2 and len(samples) == 2
        (row, extra), _ = samples
        assert tuple(row.shape) == (3,) and type(row).__name__ == "Tensor"
        np.testing.assert_array_equal(row.numpy(), x[3])
        assert extra["index"].numpy().tolist() == [3]
        assert len(module.DataLoader(Pairs(), batch_size=None)) == 4
        with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
            module.DataLoader(Pairs(), batch_size=None, drop_last=True)
