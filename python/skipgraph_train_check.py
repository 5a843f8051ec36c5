"""The check of the data file skipgraph writes for its PyTorch trainer (safetensors: train_x,
train_y, test_x, test_y and an "info" JSON), before any tensor is made: the header, dtypes,
shapes, offsets and info without torch (read_header), then the labels against the classes and
float pixels for NaN (read_data). `python3 skipgraph_train.py --check-data FILE` runs it alone;
fuzzers can call read_header/read_data directly. Every problem is one DataError line.
"""
import json
import math
import os
import stat
import struct

_SIZES = {"F32": 4, "U8": 1, "I32": 4, "I64": 8}
_MAX_HEADER = 100 << 20


class DataError(Exception):
    """Data that cannot be trained on: one line for the user."""


class RecipeError(Exception):
    """A setting that makes no recipe, or a checkpoint that cannot be used: one line for the user."""


class StopTraining(Exception):
    """The run cannot go on (a diverging loss, data that does not fit the model): one line, exit 1."""


def open_regular(path):
    """Opens `path` for reading only if it is a regular file: a FIFO, a device or a socket is
    refused at once (opened non-blocking, then fstat), so nothing the trainer reads can block it
    or stream forever. Raises OSError (ENXIO/EISDIR/...) or ValueError("not a regular file")."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file (a FIFO, device, socket or folder)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _finite_list(v, n):
    return isinstance(v, list) and len(v) == n and all(isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a) for a in v)


def read_header(path):
    """The safetensors file skipgraph writes: tensors train_x, train_y, test_x, test_y (NHWC pixels,
    uint8 or float32; uint8/int32/int64 labels) and metadata "info" (JSON: name, classes, scale,
    mean, std). Every field is checked before a tensor is made; DataError names the first problem."""
    bad = lambda why: DataError(f"{path} is not a valid skipgraph data file: {why}")
    try:
        with open_regular(path) as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"cannot read the data file {path}: {e.strerror}")
    except ValueError as e:
        raise DataError(f"cannot read the data file {path}: {e}")
    if len(raw) < 8:
        raise bad("too short")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8 or n > _MAX_HEADER:
        raise bad(f"its header length {n} is past the end of the file")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"its header is not JSON ({e})")
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not isinstance(meta.get("info", "{}"), str):
        raise bad("__metadata__ is not a map of strings")
    data = memoryview(raw)[8 + n :]
    specs = {}
    for name, t in header.items():
        if not isinstance(t, dict) or set(t) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"tensor {name!r} is not {{dtype, shape, data_offsets}}")
        if t["dtype"] not in _SIZES:
            raise bad(f"tensor {name!r} has dtype {t['dtype']!r}; expected one of {', '.join(_SIZES)}")
        shape, offs = t["shape"], t["data_offsets"]
        if not isinstance(shape, list) or not all(_int(d) and d >= 0 for d in shape):
            raise bad(f"tensor {name!r} has shape {shape!r}; dimensions must be whole numbers of 0 or more")
        if not (isinstance(offs, list) and len(offs) == 2 and all(_int(o) for o in offs) and 0 <= offs[0] <= offs[1] <= len(data)):
            raise bad(f"tensor {name!r} has data_offsets {offs!r} outside the {len(data)} bytes of data")
        size = math.prod(shape) * _SIZES[t["dtype"]]
        if offs[1] - offs[0] != size:
            raise bad(f"tensor {name!r}: shape {shape} needs {size} bytes, its offsets hold {offs[1] - offs[0]}")
        specs[name] = t
    for key, dtypes, rank in (("train_x", ("U8", "F32"), 4), ("test_x", ("U8", "F32"), 4), ("train_y", ("U8", "I32", "I64"), 1), ("test_y", ("U8", "I32", "I64"), 1)):
        if key not in specs:
            raise bad(f"no tensor {key!r}")
        if specs[key]["dtype"] not in dtypes or len(specs[key]["shape"]) != rank:
            raise bad(f"{key} must be a {rank}-D tensor of {' or '.join(dtypes)}, not {len(specs[key]['shape'])}-D {specs[key]['dtype']}")
    for split in ("train", "test"):
        if specs[f"{split}_x"]["shape"][0] != specs[f"{split}_y"]["shape"][0]:
            raise bad(f"{split}_x has {specs[f'{split}_x']['shape'][0]} images but {split}_y {specs[f'{split}_y']['shape'][0]} labels")
    if specs["train_x"]["shape"][1:] != specs["test_x"]["shape"][1:]:
        raise bad(f"train_x images are {specs['train_x']['shape'][1:]}, test_x {specs['test_x']['shape'][1:]}")
    if specs["train_x"]["shape"][0] == 0:
        raise bad("train_x holds no images")
    try:
        info = json.loads(meta.get("info", "{}"))
    except ValueError:
        raise bad("its info metadata is not JSON")
    if not isinstance(info, dict):
        raise bad("its info metadata is not a JSON object")
    c = specs["train_x"]["shape"][3]
    if not (_int(info.get("classes")) and info["classes"] >= 1):
        raise bad(f"info.classes is {info.get('classes')!r}, not a positive whole number")
    scale = info.setdefault("scale", 1.0)
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise bad(f"info.scale is {scale!r}, not a positive number")
    mean, std = info.setdefault("mean", [0.0] * c), info.setdefault("std", [1.0] * c)
    if not (_finite_list(mean, c) and _finite_list(std, c) and all(v > 0 for v in std)):
        raise bad(f"info.mean and info.std must be {c} finite numbers each (std above 0)")
    return data, specs, info


def read_data(path):
    """The file's four tensors and its info, every field checked first (read_header), then the
    labels against the classes and float pixels for NaN; DataError names the first problem."""
    bad = lambda why: DataError(f"{path} is not a valid skipgraph data file: {why}")
    data, specs, info = read_header(path)
    import torch  # only now: the header checks run without it (fast for fuzzers and --check-data)

    dtypes = {"F32": torch.float32, "U8": torch.uint8, "I32": torch.int32, "I64": torch.int64}
    out = {}
    for name in ("train_x", "train_y", "test_x", "test_y"):
        t = specs[name]
        dtype = dtypes[t["dtype"]]
        b, e = t["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:e]), dtype=dtype).reshape(t["shape"]) if e > b else torch.zeros(t["shape"], dtype=dtype)
    for split in ("train", "test"):
        y = out[f"{split}_y"]
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= info["classes"]):
            raise bad(f"{split}_y has labels {int(y.min())}..{int(y.max())}, outside 0..{info['classes'] - 1} (info.classes {info['classes']})")
        x = out[f"{split}_x"]
        if x.is_floating_point() and not bool(torch.isfinite(x).all()):
            raise bad(f"{split}_x holds NaN or infinite pixels")
    return out, info


def check_data(path):
    """`--check-data FILE`: the summary line of a valid file (DataError otherwise)."""
    t, info = read_data(path)
    n, h, w, c = t["train_x"].shape
    return f"{path}: {info.get('name', 'data')}, {n} training and {t['test_x'].shape[0]} held-out {h}x{w}x{c} images ({t['train_x'].dtype}), {info['classes']} classes"
