"""nn.save / nn.load: safetensors round trips, interoperability with the safetensors package, atomic
writes, and clear errors for files that are not (complete) safetensors files."""
import os
import pathlib
import pickle
import subprocess
import sys
import textwrap
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy

import autograd as ag
import nn
from nn_helpers import assert_close


def leftovers(directory):
    return sorted(p.name for p in pathlib.Path(directory).iterdir() if p.name.endswith(".tmp"))


def test_model_style_state_dict_round_trip_keeps_order_dtypes_and_values(tmp_path):
    rng = np.random.default_rng(0)
    sd = OrderedDict([
        ("fc2.weight", ag.tensor(rng.normal(size=(3, 4)).astype(np.float32))),
        ("fc1.bias", ag.tensor(rng.normal(size=4))),                              # float64
        ("bn.num_batches_tracked", ag.tensor(np.array(7, dtype=np.int64))),       # 0-d
        ("mask", ag.tensor(rng.random((2, 3)) > 0.5)),                            # bool
        ("empty", ag.tensor(np.zeros((0, 5), np.float32))),
        ("a_half", ag.tensor(rng.normal(size=3).astype(np.float16))),
        ("ids", ag.tensor(np.array([1, -2, 3], np.int32))),
        ("pixels", ag.tensor(np.array([0, 255], np.uint8))),
    ])
    nn.save(sd, tmp_path / "model.safetensors")
    loaded = nn.load(tmp_path / "model.safetensors")
    assert type(loaded) is OrderedDict and list(loaded) == list(sd)
    for name, t in sd.items():
        assert isinstance(loaded[name], ag.Tensor)
        assert loaded[name].dtype == t.dtype and loaded[name].shape == t.shape, name
        np.testing.assert_array_equal(loaded[name].numpy(), t.numpy())
        assert loaded[name].numpy().flags.writeable and loaded[name].data is not t.numpy()


def test_nested_structure_round_trip_exactly(tmp_path):
    array = np.arange(6, dtype=np.float64).reshape(2, 3)
    shared = ag.tensor([1.0, 2.0])
    obj = {
        "state": {0: {"step": 3, "buf": ag.tensor([0.5, 0.25])}, 5: {}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "name": "héllo", "none": None,
                          "params": [0, 5]}],
        "floats": [float("nan"), float("inf"), -float("inf"), -0.0, 1e-300, 1.0],
        "big": 2 ** 70,
        "np_scalars": (np.float32(0.1), np.int64(-4), np.bool_(True), np.float64(np.nan)),
        "raw_array": array,
        "transposed": array.T,  # not contiguous
        "big_endian": np.arange(3, dtype=">i4"),
        "tuple_key": {(1, "a"): "value", 2.5: "float key", True: "bool key"},
        "same": [shared, shared],
        "a.b": ag.tensor([1.0]), "a": {"b": ag.tensor([2.0])},  # both want the stored name 'a.b'
    }
    path = str(tmp_path / "nested.safetensors")
    nn.save(obj, path)
    out = nn.load(path)
    assert list(out) == list(obj)
    assert list(out["state"]) == [0, 5] and out["state"][0]["step"] == 3 and out["state"][5] == {}
    np.testing.assert_array_equal(out["state"][0]["buf"].numpy(), [0.5, 0.25])
    assert out["param_groups"] == obj["param_groups"]
    assert isinstance(out["param_groups"][0]["betas"], tuple)
    floats = out["floats"]
    assert np.isnan(floats[0]) and floats[1:3] == [float("inf"), -float("inf")] and floats[4:] == [1e-300, 1.0]
    assert str(floats[3]) == "-0.0" and out["big"] == 2 ** 70
    scalars = out["np_scalars"]
    assert scalars[0] == np.float32(0.1) and scalars[0].dtype == np.float32
    assert scalars[1] == -4 and scalars[1].dtype == np.int64 and scalars[2] is np.bool_(True)
    assert np.isnan(scalars[3]) and scalars[3].dtype == np.float64
    assert isinstance(out["raw_array"], np.ndarray) and out["raw_array"].dtype == np.float64
    np.testing.assert_array_equal(out["transposed"], array.T)
    assert out["big_endian"].dtype == np.int32 and out["big_endian"].tolist() == [0, 1, 2]
    assert out["tuple_key"] == obj["tuple_key"]
    assert out["same"][0] is out["same"][1]  # shared tensors stay shared
    assert out["a.b"].item() == 1.0 and out["a"]["b"].item() == 2.0


def test_optimizer_state_dict_loads_back_into_the_optimizer(tmp_path):
    params = [ag.tensor(np.ones((2, 3), np.float32), requires_grad=True)]
    opt = nn.optim.Adam(params, lr=0.01)
    params[0].grad = ag.ones(2, 3)
    opt.step()
    nn.save(opt.state_dict(), tmp_path / "opt")
    other = nn.optim.Adam([ag.tensor(np.ones((2, 3), np.float32), requires_grad=True)], lr=1.0)
    other.load_state_dict(nn.load(tmp_path / "opt"))
    assert other.param_groups[0]["lr"] == 0.01
    np.testing.assert_array_equal(list(other.state.values())[0]["exp_avg"], opt.state[params[0]]["exp_avg"])


def test_file_written_by_safetensors_loads_as_dict_of_tensors(tmp_path):
    arrays = {"b": np.arange(4, dtype=np.int64), "a": np.ones((2, 2), np.float32), "c": np.array([True, False])}
    safetensors.numpy.save_file(arrays, tmp_path / "plain.safetensors")
    loaded = nn.load(tmp_path / "plain.safetensors")
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        assert isinstance(loaded[name], ag.Tensor) and loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name].numpy(), array)
        assert loaded[name].numpy().flags.writeable


def test_file_written_by_nn_save_reads_in_the_safetensors_package(tmp_path):
    sd = OrderedDict([("fc.weight", ag.tensor(np.eye(3, dtype=np.float32))), ("fc.bias", ag.zeros(3))])
    nn.save(sd, tmp_path / "model.safetensors")
    arrays = safetensors.numpy.load_file(tmp_path / "model.safetensors")
    assert set(arrays) == {"fc.weight", "fc.bias"}
    np.testing.assert_array_equal(arrays["fc.weight"], np.eye(3))
    nn.save(nn.optim.SGD([ag.zeros(3, requires_grad=True)], lr=0.1, momentum=0.9).state_dict(), tmp_path / "o")
    assert safetensors.numpy.load_file(tmp_path / "o") == {}  # no state yet: all structure, no tensors


def test_save_overwrites_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    nn.save({"x": ag.tensor([1.0])}, path)
    nn.save({"x": ag.tensor([2.0])}, path)
    assert nn.load(path)["x"].item() == 2.0
    assert leftovers(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]


@pytest.mark.parametrize("bad", [
    {"weight": ag.tensor([1.0]), "fn": print},                 # not serialisable: found mid-way through
    {"weight": ag.tensor([1.0]), "c": np.array([1 + 2j])},     # a dtype safetensors has no room for
    {"weight": ag.tensor([1.0]), "o": np.array(["x"], dtype=object)},
    [ag.tensor([1.0]), {1, 2}],
], ids=["function", "complex", "object-array", "set"])
def test_failed_save_leaves_the_old_file_untouched_and_no_temporary(bad, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    nn.save({"weight": ag.tensor([3.0])}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="nn.save: cannot save"):
        nn.save(bad, path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    assert nn.load(path)["weight"].item() == 3.0


@pytest.mark.skipif(sys.platform == "win32", reason="uses RLIMIT_FSIZE")
def test_write_failing_midway_leaves_the_old_file_untouched(tmp_path):
    """A real failure inside write(): the process may not write files larger than 64 kB (EFBIG)."""
    path = tmp_path / "ckpt.safetensors"
    nn.save({"weight": ag.tensor(np.ones(10, np.float32))}, path)
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import resource, signal, sys
        import numpy as np
        from nn import serialization
        import autograd as ag
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
        try:
            serialization.save({{"weight": ag.tensor(np.ones(100_000, np.float32))}}, {str(path)!r})
        except OSError as e:
            print("failed:", e)
        else:
            print("written")
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))  # import what this process did
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                            cwd=tmp_path)
    assert result.stdout.startswith("failed:"), result.stdout + result.stderr
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_save_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nn.save({"x": ag.zeros(1)}, tmp_path / "nope" / "x.safetensors")


def test_missing_file_raises_file_not_found_naming_it(tmp_path):
    path = tmp_path / "missing.safetensors"
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        nn.load(path)


def _valid_bytes():
    return safetensors.numpy.save({"w": np.arange(100, dtype=np.float32)})


@pytest.mark.parametrize("content,message", [
    (b"", "is empty"),
    (b"\x05\x00\x00", "truncated"),
    (_valid_bytes()[:-10], "is truncated: its tensors need"),      # data cut short
    (_valid_bytes()[:20], "is truncated"),                          # header cut short
    (pickle.dumps({"w": [1.0, 2.0]}), "looks like a pickle"),
    (b"PK\x03\x04" + b"\x00" * 100, "zip archive"),
    (b"hello, this is a text file\n" * 3, "not a safetensors file"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", "not JSON"),
    (b"\x08\x00\x00\x00\x00\x00\x00\x00{\"w\": 5}", "not a valid safetensors file"),
], ids=["empty", "tiny", "truncated-data", "truncated-header", "pickle", "zip", "text", "bad-json", "bad-entry"])
def test_broken_or_foreign_files_give_a_clear_error_naming_the_path(content, message, tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        nn.load(path)
    assert str(path) in str(info.value)
    assert info.value.__cause__ is None  # no chained safetensors traceback


def test_corrupt_structure_metadata_gives_a_clear_error(tmp_path):
    path = tmp_path / "odd.safetensors"
    safetensors.numpy.save_file({"w": np.zeros(2)}, path, metadata={"ndgrad": "{broken"})
    with pytest.raises(ValueError, match="structure in the metadata is unreadable"):
        nn.load(path)
    safetensors.numpy.save_file({"w": np.zeros(2)}, path,
                                metadata={"ndgrad": '{"version": 1, "structure": {"type": "tensor", "key": "v"}}'})
    with pytest.raises(ValueError, match="refers to a tensor 'v'"):
        nn.load(path)


def test_accepts_str_and_pathlib_paths_and_bare_tensors(tmp_path):
    nn.save(ag.tensor([1.0, 2.0]), str(tmp_path / "t"))
    assert nn.load(pathlib.Path(tmp_path / "t")).tolist() == [1.0, 2.0]
    nn.save([1, "two", None], tmp_path / "list")
    assert nn.load(str(tmp_path / "list")) == [1, "two", None]


def test_torch_state_dict_through_safetensors_into_our_model(torch, tmp_path):
    st = pytest.importorskip("safetensors.torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    path = tmp_path / "torch.safetensors"
    st.save_file(theirs.state_dict(), str(path))
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    ours.load_state_dict(nn.load(path))
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    assert_close(ours(ag.tensor(x)), theirs(torch.tensor(x)), atol=1e-6)


def test_torch_save_and_load_forms_run_a_checkpoint_through_a_path_or_a_file_object(tmp_path):
    """`torch.save(checkpoint, PATH)` / `torch.load(PATH, map_location=..., weights_only=True)` after
    the import swap: ag.save / ag.load are nn.save / nn.load, taking torch.load's arguments."""
    import io
    model = nn.Linear(2, 3)
    checkpoint = {"epoch": 4, "model_state_dict": model.state_dict(), "loss": ag.tensor(0.25)}
    ag.save(checkpoint, tmp_path / "ck.pt")
    for map_location in (None, "cpu", ag.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage):
        loaded = ag.load(tmp_path / "ck.pt", map_location=map_location, weights_only=True)
        assert loaded["epoch"] == 4 and loaded["loss"].item() == 0.25
        assert_close(loaded["model_state_dict"]["weight"], model.weight)
    buffer = io.BytesIO()
    ag.save(model.state_dict(), buffer)
    buffer.seek(0)
    assert list(ag.load(buffer)) == ["weight", "bias"]
    with pytest.raises(RuntimeError, match="map_location='cuda:0': 'cuda:0' is not available"):
        ag.load(tmp_path / "ck.pt", map_location="cuda:0")
