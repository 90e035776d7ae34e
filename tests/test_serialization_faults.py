"""nn.save / nn.load under faults and hostile files: targets that must not be replaced, a save killed
by SIGKILL, writes that fail half-way, bf16 tensors, and every kind of malformed header or metadata."""
import json
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import safetensors.numpy

import autograd as ag
import nn

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, device nodes, signals and RLIMIT_FSIZE are POSIX")


def temporaries(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def child_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))  # import what this process did


# -- targets that are not regular files, or are protected -----------------------------------------

def make_fifo(path):
    os.mkfifo(path)
    return stat.S_ISFIFO


def make_directory(path):
    path.mkdir()
    return stat.S_ISDIR


def make_socket(path):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return stat.S_ISSOCK


def make_link_to_dev_null(path):
    path.symlink_to("/dev/null")   # as root, renaming over /dev/null would replace the device itself
    return stat.S_ISCHR


@posix_only
@pytest.mark.parametrize("make", [make_fifo, make_directory, make_socket, make_link_to_dev_null],
                         ids=["fifo", "directory", "socket", "symlink-to-dev-null"])
def test_save_refuses_targets_that_are_not_regular_files_and_leaves_them_alone(make, tmp_path):
    path = tmp_path / "target"
    is_kind = make(path)
    with pytest.raises(OSError, match="only regular files are replaced") as info:
        nn.save({"x": ag.ones(3)}, path)
    assert repr(str(path)) in str(info.value)
    assert is_kind(os.stat(path).st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert temporaries(tmp_path) == []


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o000, 0o555])
def test_save_refuses_a_write_protected_checkpoint_even_as_root(mode, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    nn.save({"x": ag.tensor([1.0])}, path)
    before = path.read_bytes()
    path.chmod(mode)
    try:
        for target in (path, _link(tmp_path / "link", path)):   # directly and through a symlink
            with pytest.raises(PermissionError, match="write-protected") as info:
                nn.save({"x": ag.tensor([2.0])}, target)
            assert repr(str(target)) in str(info.value)
        assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == mode
    finally:
        path.chmod(0o644)
    assert nn.load(path)["x"].item() == 1.0 and temporaries(tmp_path) == []


def _link(link, target):
    link.symlink_to(target)
    return link


def test_save_through_a_symlink_replaces_the_file_and_keeps_the_link_and_its_mode(tmp_path):
    real = tmp_path / "real.safetensors"
    nn.save({"x": ag.tensor([1.0])}, real)
    real.chmod(0o640)
    link = _link(tmp_path / "link.safetensors", real)
    nn.save({"x": ag.tensor([2.0])}, link)
    assert link.is_symlink() and nn.load(real)["x"].item() == 2.0
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


# -- a save killed half-way, and one that fails half-way ------------------------------------------

SAVE_FOREVER = textwrap.dedent("""
    import sys
    import numpy as np
    import autograd as ag, nn
    path = sys.argv[1]
    for version in range(1, 10**6):   # each checkpoint: 32 MB all equal to its version
        nn.save({"w": ag.from_numpy(np.full(8_000_000, version, np.float32)), "version": version}, path)
        print(version, flush=True)
""")


@posix_only
def test_save_killed_by_sigkill_leaves_the_previous_file_loadable_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    nn.save({"w": ag.zeros(3), "version": 0}, path)
    stale = []
    for attempt in range(20):          # kill while a temporary exists (a save is under way)
        child = subprocess.Popen([sys.executable, "-c", SAVE_FOREVER, str(path)], env=child_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not temporaries(tmp_path) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        child.send_signal(signal.SIGKILL)
        child.wait()
        stale = temporaries(tmp_path)
        if stale:
            break
    assert stale, "never caught a save in progress"
    assert f".{path.name}.{child.pid}-" in stale[0]
    saved = nn.load(path)                           # the previous complete checkpoint, whole
    w = saved["w"].data
    assert np.all(w == saved["version"]) and (saved["version"] == 0 or w.size == 8_000_000)

    # A temporary of a process that still runs is someone's save under way: it is kept.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".{path.name}.{sleeper.pid}-{'0' * 12}.tmp"
        live.write_bytes(b"partial")
        nn.save({"w": ag.ones(2), "version": -1}, path)
        assert temporaries(tmp_path) == [live.name]
    finally:
        sleeper.kill()
        sleeper.wait()
    nn.save({"w": ag.ones(2), "version": -2}, path)   # now its process is gone too
    assert temporaries(tmp_path) == [] and nn.load(path)["version"] == -2


@posix_only
@pytest.mark.parametrize("limit", [0, 100, 70_000])
def test_save_failing_inside_write_names_the_target_and_keeps_the_old_file(limit, tmp_path):
    """A real failure half-way: the child may not write files larger than `limit` bytes (EFBIG)."""
    path = tmp_path / "ckpt.safetensors"
    nn.save({"weight": ag.tensor(np.ones(10, np.float32))}, path)
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import resource, signal
        import numpy as np
        import autograd as ag, nn
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        try:
            nn.save({{"weight": ag.tensor(np.ones(100_000, np.float32))}}, {str(path)!r})
        except OSError as e:
            print(type(e).__name__, e)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env=child_env(), cwd=tmp_path)
    assert result.stdout.startswith("OSError nn.save: cannot write " + repr(str(path))), result.stdout + result.stderr
    assert ".tmp" not in result.stdout
    assert path.read_bytes() == before and temporaries(tmp_path) == []


# -- loading: bf16, non-regular files, malformed headers and metadata ------------------------------

def test_bf16_tensors_load_as_float32_with_torch_values(tmp_path):
    torch = pytest.importorskip("torch")
    import safetensors.torch
    values = {"w": torch.randn(3, 4, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16),
              "scalar": torch.tensor(-2.5, dtype=torch.bfloat16),
              "extremes": torch.tensor([float("inf"), -float("inf"), 3.0e38, -1e-40, 0.0], dtype=torch.bfloat16),
              "empty": torch.zeros(0, 2, dtype=torch.bfloat16),
              "other": torch.arange(5, dtype=torch.int16)}
    path = tmp_path / "bf16.safetensors"
    safetensors.torch.save_file(values, str(path))
    loaded = nn.load(path)
    assert sorted(loaded) == sorted(values)
    for name, t in values.items():
        expected = t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()
        assert loaded[name].dtype == expected.dtype and loaded[name].shape == expected.shape
        np.testing.assert_array_equal(loaded[name].numpy(), expected)
    loaded["w"].numpy()[0, 0] = 1.0  # writable memory of its own


@posix_only
def test_load_refuses_a_fifo_instead_of_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ValueError, match="is not a regular file"):
        nn.load(tmp_path / "pipe")
    with pytest.raises(ValueError, match="is not a regular file"):
        nn.load("/dev/zero")


def raw_safetensors(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def ndgrad_file(structure, tensors=None, version=1):
    tensors = tensors if tensors is not None else {"w": np.arange(3, dtype=np.float32)}
    return safetensors.numpy.save(tensors, metadata={"ndgrad": json.dumps({"version": version,
                                                                            "structure": structure})})


F32_ENTRY = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
MALFORMED = {
    "metadata-not-object": raw_safetensors({"__metadata__": [1, 2], "w": F32_ENTRY}, bytes(8)),
    "metadata-value-not-string": raw_safetensors({"__metadata__": {"ndgrad": 5}, "w": F32_ENTRY}, bytes(8)),
    "entry-not-object": raw_safetensors({"w": [1, 2]}, bytes(8)),
    "unknown-dtype": raw_safetensors({"w": {**F32_ENTRY, "dtype": "F8_E4M3"}}, bytes(8)),
    "missing-dtype": raw_safetensors({"w": {"shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
    "negative-shape": raw_safetensors({"w": {**F32_ENTRY, "shape": [-2]}}, bytes(8)),
    "float-shape": raw_safetensors({"w": {**F32_ENTRY, "shape": [2.0]}}, bytes(8)),
    "shape-not-list": raw_safetensors({"w": {**F32_ENTRY, "shape": "2"}}, bytes(8)),
    "size-mismatch": raw_safetensors({"w": {**F32_ENTRY, "shape": [3]}}, bytes(8)),
    "reversed-offsets": raw_safetensors({"w": {**F32_ENTRY, "data_offsets": [8, 0]}}, bytes(8)),
    "negative-offsets": raw_safetensors({"w": {**F32_ENTRY, "data_offsets": [-8, 0]}}, bytes(8)),
    "offsets-not-pair": raw_safetensors({"w": {**F32_ENTRY, "data_offsets": [0]}}, bytes(8)),
    "header-json-nested-too-deep": struct.pack("<Q", 200_006) + b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "version-not-int": ndgrad_file({"type": "tensor", "key": "w"}, version="1"),
    "items-not-list": ndgrad_file({"type": "dict", "items": 5}),
    "item-not-pair": ndgrad_file({"type": "dict", "items": [[1]]}),
    "unhashable-key": ndgrad_file({"type": "dict", "items": [[{"type": "list", "items": []}, 1]]}),
    "unknown-node": ndgrad_file({"type": "pickle", "items": []}),
    "missing-key": ndgrad_file({"type": "tensor"}),
    "bare-list-node": ndgrad_file([1, 2]),
    "object-scalar": ndgrad_file({"type": "scalar", "dtype": "object", "value": 1}),
    "unknown-scalar-dtype": ndgrad_file({"type": "scalar", "dtype": "nonsense", "value": 1}),
    "scalar-list-value": ndgrad_file({"type": "scalar", "dtype": "float32", "value": [1, 2]}),
    "float-not-a-number": ndgrad_file({"type": "float", "value": "abc"}),
    "int-overflow-scalar": ndgrad_file({"type": "scalar", "dtype": "int8", "value": 10**30}),
    "dangling-tensor": ndgrad_file({"type": "tensor", "key": "v"}),
}


# Python's json keeps deep nesting only up to the recursion limit; build that one structure by hand.
def _deep(depth):
    return '{"type": "list", "items": [' * depth + "1" + "]}" * depth


MALFORMED["deep-structure"] = safetensors.numpy.save(
    {"w": np.zeros(1, np.float32)}, metadata={"ndgrad": '{"version": 1, "structure": ' + _deep(5000) + "}"})


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_header_or_metadata_gives_one_clear_error_naming_the_file(name, tmp_path):
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(MALFORMED[name])
    with pytest.raises(ValueError, match=r"^nn\.load: ") as info:
        nn.load(path)
    assert repr(str(path)) in str(info.value) and "\n" not in str(info.value)
    assert info.value.__cause__ is None


@posix_only
def test_save_through_a_symlink_loop_or_below_a_file_names_the_target(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    (tmp_path / "file").write_text("x")
    for target, reason in ((loop, "Too many levels of symbolic links"),
                           (tmp_path / "file" / "ckpt", "is not a directory")):
        with pytest.raises(OSError, match=reason) as info:
            nn.save({"x": ag.ones(1)}, target)
        assert str(info.value).startswith(f"nn.save: cannot write {str(target)!r}")
    assert temporaries(tmp_path) == []
