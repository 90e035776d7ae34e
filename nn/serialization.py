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

The file is written atomically by `nn.files.atomic_write`: a failed or killed save leaves the previous
file intact; targets that are not regular files, or are write-protected, are refused.

`nn.load` reads the safetensors layout itself (an 8-byte header length, the JSON header, the data),
so every malformed header is reported with the file's name, and bf16 tensors (which NumPy lacks)
come back as float32.
"""
import json
import math
import os
import stat
from collections import OrderedDict

import numpy as np
import safetensors.numpy

import autograd as ag
from autograd import Tensor

from .files import atomic_write

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
    writes a whole checkpoint. As torch.save, `path` may also be a binary file object (`io.BytesIO`).
    """
    if hasattr(path, "write"):
        path.write(_to_bytes(obj))
        return
    path = os.fspath(path)
    data = _to_bytes(obj)  # before touching the file system: an unsavable object changes nothing
    with atomic_write(path, "nn.save") as f:
        f.write(data)


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
            return {"type": "tensor", "key": self.store(obj, obj.numpy(), where)}
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


# -- load ----------------------------------------------------------------------------------------
# safetensors dtype names -> little-endian NumPy dtypes; BF16 is read as its 16 bits, then widened.
_SAFETENSORS_DTYPES = {"BOOL": "?", "U8": "<u1", "I8": "<i1", "U16": "<u2", "I16": "<i2", "U32": "<u4",
                       "I32": "<i4", "U64": "<u8", "I64": "<i8", "F16": "<f2", "F32": "<f4", "F64": "<f8",
                       "BF16": "<u2"}


def load(path, map_location=None, *, weights_only=None, mmap=None):
    """Read a safetensors file: the object `nn.save` wrote, or for any other safetensors file (e.g.
    one written by PyTorch's `safetensors.torch.save_file(model.state_dict(), path)`) a dict
    name -> Tensor, ready for `model.load_state_dict`: `torch.load`. Tensors come back as autograd
    Tensors with their own writable memory; bf16 tensors as float32 (exactly: every bf16 value is a
    float32 value). `path` may be a binary file object.

    torch.load's arguments are taken as its callers pass them: `map_location` may name the CPU (a
    string, a device, or a dict whose targets are the CPU) or be a function (everything loads on the
    CPU, the only device); `weights_only` and `mmap` change nothing (nothing is ever unpickled)."""
    _check_map_location(map_location)
    if hasattr(path, "read"):
        data, path = path.read(), getattr(path, "name", repr(path))
        return _decode_file(data, path)
    path = os.fspath(path)
    status = os.stat(path)  # FileNotFoundError names the path
    if not stat.S_ISREG(status.st_mode):  # reading a FIFO would block, /dev/zero never end
        raise ValueError(f"nn.load: {path!r} is not a regular file (mode {stat.filemode(status.st_mode)})")
    with open(path, "rb") as f:
        data = f.read()
    return _decode_file(data, path)


def _check_map_location(map_location):
    if map_location is None or callable(map_location) and not isinstance(map_location, (str, ag.device)):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        try:
            ag.device(target)
        except RuntimeError:
            raise RuntimeError(f"nn.load: map_location={map_location!r}: {target!r} is not available; ndgrad "
                               "runs on NumPy, and 'cpu' is its only device") from None


def _decode_file(data, path):
    header, data_start = _read_header(data, path)
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"nn.load: {path!r} is not a valid safetensors file: its __metadata__ must map "
                         "strings to strings")
    arrays = {name: _read_tensor(name, entry, data, data_start, path) for name, entry in header.items()}
    if METADATA_KEY not in metadata:
        return {name: ag.from_numpy(array) for name, array in arrays.items()}  # file order
    try:
        saved = json.loads(metadata[METADATA_KEY])
        version, structure = saved["version"], saved["structure"]
        if not isinstance(version, int):
            raise TypeError(f"version {version!r} is not an integer")
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        raise ValueError(f"nn.load: {path!r}: the ndgrad structure in the metadata is unreadable ({e})") from None
    if version > FORMAT_VERSION:
        raise ValueError(f"nn.load: {path!r} was written by a newer ndgrad (format {version}; this one reads "
                         f"up to {FORMAT_VERSION})")
    return _Decoder(arrays, path).decode_all(structure)


def _read_header(data, path):
    """(the parsed JSON header, where the data starts), or a ValueError saying what is wrong."""
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
    except (ValueError, RecursionError) as e:
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
    return header, 8 + header_len


def _read_tensor(name, entry, data, data_start, path):
    """The array that header entry `entry` describes, copied out of `data`, checked field by field."""
    def malformed(why):
        return ValueError(f"nn.load: {path!r} is not a valid safetensors file: tensor {name!r} {why}")

    if not isinstance(entry, dict):
        raise malformed(f"is described by {type(entry).__name__}, not an object with dtype, shape and data_offsets")
    dtype_name, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype_name not in _SAFETENSORS_DTYPES:
        known = ", ".join(_SAFETENSORS_DTYPES)
        raise malformed(f"has dtype {dtype_name!r}, which nn.load cannot read (it reads {known})")
    if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
        raise malformed(f"has shape {shape!r}; a shape is a list of non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(n) is int for n in offsets)
            and 0 <= offsets[0] <= offsets[1] <= len(data) - data_start):
        raise malformed(f"has data_offsets {offsets!r}; they must be [begin, end] within the "
                        f"{len(data) - data_start} bytes of data")
    dtype = np.dtype(_SAFETENSORS_DTYPES[dtype_name])
    count = math.prod(shape)
    if offsets[1] - offsets[0] != count * dtype.itemsize:
        raise malformed(f"of shape {shape} and dtype {dtype_name} needs {count * dtype.itemsize} bytes, but its "
                        f"data_offsets {offsets} span {offsets[1] - offsets[0]}")
    array = np.frombuffer(data, dtype, count, data_start + offsets[0]).reshape(shape)
    if dtype_name == "BF16":  # bf16 is the top half of a float32
        widened = array.astype(np.uint32)
        widened <<= 16  # in place: an operator would turn a 0-d array into a scalar
        return widened.view(np.float32)
    return array.astype(dtype.newbyteorder("="))  # a native, writable copy


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

    def decode_all(self, structure):
        """The saved object; a ValueError naming the file for any malformed structure."""
        try:
            return self.decode(structure)
        except ValueError as e:
            if str(e).startswith("nn.load:"):
                raise
            raise self.malformed(e) from None
        except (KeyError, TypeError, IndexError, AttributeError, RecursionError, OverflowError) as e:
            raise self.malformed(e) from None

    def malformed(self, error):
        return ValueError(f"nn.load: {self.path!r}: the ndgrad structure in the metadata is malformed "
                          f"({type(error).__name__}: {error})")

    def decode(self, node):
        if isinstance(node, list):
            raise TypeError(f"a bare JSON list {node!r:.60} where a node belongs")
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
            dtype = np.dtype(node["dtype"])
            if dtype not in _DTYPES:
                raise TypeError(f"a scalar of dtype {dtype} (nn.save writes only {sorted(d.name for d in _DTYPES)})")
            if not isinstance(node["value"], (bool, int, float, str)):
                raise TypeError(f"a scalar whose value is {type(node['value']).__name__}")
            return dtype.type(node["value"])
        if kind in ("tensor", "ndarray"):
            return self.tensor(node["key"], kind)
        raise ValueError(f"nn.load: {self.path!r}: unknown node {kind!r} in the ndgrad structure")

    def tensor(self, name, kind):
        if name not in self.objects:
            if name not in self.arrays:
                raise ValueError(f"nn.load: {self.path!r} is corrupt: its structure refers to a tensor {name!r} "
                                 "that the file does not hold")
            array = self.arrays[name]
            self.objects[name] = ag.from_numpy(array) if kind == "tensor" else array
        return self.objects[name]
