"""nn.save / nn.load: state dicts in the safetensors format, never pickle.

The tensors (Tensors and NumPy arrays, anywhere in the object) are stored as safetensors tensors
under dotted names from their place in the object: a model's `fc.weight` stays `fc.weight`, an
optimizer's `state[0]['exp_avg']` becomes `state.0.exp_avg`. Everything else -- the nesting of
dicts, lists and tuples, key order and key types (int keys stay ints), numbers, strings, None --
is written as JSON in the safetensors `__metadata__` under the key "ndgrad", with each tensor a
reference to its stored name. `nn.load` rebuilds the object from it; a safetensors file without it
(e.g. written by `safetensors.numpy.save_file`) loads as a dict name -> Tensor.

Structure nodes (JSON): None, bools, ints and strings are themselves; floats are themselves when
finite and {"type": "float", "value": "nan" | "inf" | "-inf"} otherwise; containers and the rest
are objects:
    {"type": "dict" | "odict", "items": [[key node, value node], ...]}
    {"type": "list" | "tuple", "items": [node, ...]}
    {"type": "tensor" | "ndarray", "key": "<stored name>"}     (the same object twice: the same key)
    {"type": "scalar", "dtype": "float32", "value": ...}       (a NumPy scalar)

The file is written atomically: to a temporary file in the target's directory, flushed and fsynced,
then renamed over the target; on any failure the old file is untouched and the temporary removed.
"""
import contextlib
import json
import math
import os
import secrets
import stat
from collections import OrderedDict

import numpy as np
import safetensors.numpy

import autograd as ag
from autograd import Tensor

__all__ = ["save", "load"]

METADATA_KEY = "ndgrad"
FORMAT_VERSION = 1
_DTYPES = {np.dtype(t) for t in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                                 np.uint8, np.uint16, np.uint32, np.uint64, np.bool_)}


# -- save ----------------------------------------------------------------------------------------
def save(obj, path):
    """Write `obj` (a state dict: nested dicts/lists/tuples of Tensors, arrays, numbers, strings)
    to `path` (str or pathlib.Path) in the safetensors format, atomically: `torch.save`, without
    pickle (so loading a file cannot run code).

    `nn.save(model.state_dict(), "model.safetensors")` writes weights whose names are PyTorch's
    ("0.weight", "bn.running_mean"), so the same architecture in PyTorch loads them with
    `safetensors.torch.load_file`; `nn.save({"model": ..., "optimizer": opt.state_dict()}, path)`
    writes a whole checkpoint.
    """
    path = os.fspath(path)
    with _atomic_write(path) as f:
        f.write(_to_bytes(obj))


def _to_bytes(obj):
    tensors = {}
    structure = _Encoder(tensors).encode(obj, ())
    header = json.dumps({"version": FORMAT_VERSION, "structure": structure}, allow_nan=False,
                        separators=(",", ":"))
    return safetensors.numpy.save(tensors, metadata={METADATA_KEY: header})


class _Encoder:
    def __init__(self, tensors):
        self.tensors = tensors      # stored name -> contiguous array
        self.names = {}             # id(tensor or array) -> stored name
        self.keep_alive = []        # so ids in self.names stay unique

    def encode(self, obj, where):
        if isinstance(obj, np.generic):  # before float: np.float64 is a float subclass
            if obj.dtype not in _DTYPES:
                raise TypeError(f"nn.save: cannot save a {obj.dtype} scalar at {_where(where)}")
            value = obj.item()
            if isinstance(value, float) and not math.isfinite(value):
                value = repr(value)
            return {"type": "scalar", "dtype": obj.dtype.name, "value": value}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"type": "float", "value": repr(float(obj))}
        if isinstance(obj, Tensor):
            return {"type": "tensor", "key": self.store(obj, obj.data, where)}
        if isinstance(obj, np.ndarray):
            return {"type": "ndarray", "key": self.store(obj, obj, where)}
        if isinstance(obj, dict):
            kind = "odict" if isinstance(obj, OrderedDict) else "dict"
            return {"type": kind, "items": [[self.encode(k, where + (k,)), self.encode(v, where + (k,))]
                                            for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {"type": kind, "items": [self.encode(v, where + (i,)) for i, v in enumerate(obj)]}
        raise TypeError(f"nn.save: cannot save {type(obj).__name__} at {_where(where)}: only Tensors, NumPy arrays, "
                        "numbers, strings, None and dicts/lists/tuples of them are saved (nn.save never pickles)")

    def store(self, obj, array, where):
        if id(obj) in self.names:
            return self.names[id(obj)]
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        if array.dtype not in _DTYPES:
            raise TypeError(f"nn.save: cannot save the array at {_where(where)}: dtype {array.dtype} is not "
                            f"supported by safetensors here (use one of {sorted(d.name for d in _DTYPES)})")
        name = ".".join(str(part) for part in where) or "tensor"
        if name in self.tensors:  # e.g. {"a.b": x, "a": {"b": y}}: keep both, the structure knows which
            n = 1
            while f"{name}#{n}" in self.tensors:
                n += 1
            name = f"{name}#{n}"
        # safetensors reads raw memory, so C order (np.ascontiguousarray would turn 0-d into 1-d)
        self.tensors[name] = array if array.flags.c_contiguous else array.copy(order="C")
        self.names[id(obj)] = name
        self.keep_alive.append(obj)
        return name


def _where(where):
    return "the top level" if not where else "".join(f"[{part!r}]" for part in where)


@contextlib.contextmanager
def _atomic_write(path):
    """Yield a binary file; on a clean exit it replaces `path` (flushed and fsynced first), on an
    exception it is deleted and `path` is left as it was."""
    target = os.path.realpath(path)  # write through a symlink rather than replace it
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"nn.save: cannot write {path!r}: directory {directory!r} does not exist")
    if os.path.isdir(target):
        raise IsADirectoryError(f"nn.save: cannot write {path!r}: it is a directory")
    tmp = os.path.join(directory, f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(target):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); not possible everywhere, and not needed for correctness."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- load ----------------------------------------------------------------------------------------
def load(path):
    """Read a safetensors file: the object `nn.save` wrote, or for any other safetensors file (e.g.
    one written by PyTorch's `safetensors.torch.save_file(model.state_dict(), path)`) a dict
    name -> Tensor, ready for `model.load_state_dict`: `torch.load`. Tensors come back as autograd
    Tensors with their own writable memory."""
    path = os.fspath(path)
    with open(path, "rb") as f:  # FileNotFoundError names the path
        data = f.read()
    header = _read_header(data, path)
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as e:  # safetensors' own errors (SafetensorError, ...)
        raise ValueError(f"nn.load: {path!r} is not a valid safetensors file: {e}") from None
    metadata = header.get("__metadata__") or {}
    if METADATA_KEY not in metadata:
        names = [k for k in header if k != "__metadata__"]  # file order
        return {name: ag.from_numpy(arrays[name].copy()) for name in names}
    try:
        saved = json.loads(metadata[METADATA_KEY])
        version = saved["version"]
        structure = saved["structure"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"nn.load: {path!r}: the ndgrad structure in the metadata is unreadable ({e})") from None
    if version > FORMAT_VERSION:
        raise ValueError(f"nn.load: {path!r} was written by a newer ndgrad (format {version}; this one reads "
                         f"up to {FORMAT_VERSION})")
    return _Decoder(arrays, path).decode(structure)


def _read_header(data, path):
    """The parsed JSON header, or a ValueError saying what is wrong with the file."""
    size = len(data)
    if size == 0:
        raise ValueError(f"nn.load: {path!r} is empty (0 bytes), not a safetensors file; was a save interrupted?")
    if size < 8:
        raise ValueError(f"nn.load: {path!r} is truncated or not a safetensors file: {size} bytes, fewer than the "
                         "8-byte header length")
    header_len = int.from_bytes(data[:8], "little")
    if data[8:9] != b"{":
        raise ValueError(f"nn.load: {path!r} is not a safetensors file{_guess_format(data)}")
    if 8 + header_len > size:
        raise ValueError(f"nn.load: {path!r} is truncated: its header says {header_len} header bytes, but the file "
                         f"has only {size} bytes in all")
    try:
        header = json.loads(data[8:8 + header_len])
    except ValueError as e:
        raise ValueError(f"nn.load: {path!r} is not a valid safetensors file: its header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"nn.load: {path!r} is not a valid safetensors file: its header is not a JSON object")
    ends = [entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__"
            and isinstance(entry, dict) and isinstance(entry.get("data_offsets"), list) and len(entry["data_offsets"]) == 2
            and isinstance(entry["data_offsets"][1], int)]
    needed = 8 + header_len + max(ends, default=0)
    if needed > size:
        raise ValueError(f"nn.load: {path!r} is truncated: its tensors need {needed} bytes, but the file has only "
                         f"{size}; was a save interrupted or a download cut short?")
    return header


def _guess_format(data):
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return " (it looks like a pickle, e.g. from pickle.dump; nn.load never unpickles)"
    if data[:4] == b"PK\x03\x04":
        return " (it looks like a zip archive, e.g. from torch.save; convert it to safetensors first)"
    if data[:6] == b"\x93NUMPY":
        return " (it looks like a NumPy .npy file)"
    return " (its first bytes are not a safetensors header)"


class _Decoder:
    def __init__(self, arrays, path):
        self.arrays = arrays
        self.path = path
        self.objects = {}  # stored name -> the object made for it (shared tensors stay shared)

    def decode(self, node):
        if not isinstance(node, dict):
            return node  # None, bool, int, float, str
        kind = node.get("type")
        if kind in ("dict", "odict"):
            pairs = ((self.decode(k), self.decode(v)) for k, v in node["items"])
            return OrderedDict(pairs) if kind == "odict" else dict(pairs)
        if kind == "list":
            return [self.decode(v) for v in node["items"]]
        if kind == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        if kind == "float":
            return float(node["value"])
        if kind == "scalar":
            return np.dtype(node["dtype"]).type(node["value"])
        if kind in ("tensor", "ndarray"):
            return self.tensor(node["key"], kind)
        raise ValueError(f"nn.load: {self.path!r}: unknown node {kind!r} in the ndgrad structure")

    def tensor(self, name, kind):
        if name not in self.objects:
            if name not in self.arrays:
                raise ValueError(f"nn.load: {self.path!r} is corrupt: its structure refers to a tensor {name!r} "
                                 "that the file does not hold")
            array = self.arrays[name].copy()  # safetensors gives read-only views of the file's bytes
            self.objects[name] = ag.from_numpy(array) if kind == "tensor" else array
        return self.objects[name]
