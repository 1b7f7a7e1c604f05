#!/usr/bin/python3
"""Cross-check of common/io/safetensors.cpp against PyTorch, both ways.

Debian has no python3-safetensors, so the format is read and written here by hand with struct +
json + torch (the same rules as the reference library: arrays ordered by dtype then name, header
padded with spaces to a multiple of 8 bytes, raw little-endian data).

The golden that test_safetensors.cpp reads was made with (Debian's torch 1.13.1):
    /usr/bin/python3 common/tests/safetensors_check.py write-golden common/tests/goldens/pytorch.safetensors

PyTorch reading what the C++ code writes:
    Z2H_SAFETENSORS_OUT=/tmp/z2h-cpp.safetensors build/release/bin/common_util_tests "*check-cpp*"
    /usr/bin/python3 common/tests/safetensors_check.py check-cpp /tmp/z2h-cpp.safetensors
It prints OK (and exits 0) when every array and the metadata match, and the file is byte-for-byte
what this writer produces for the same arrays; NOT OK with the difference otherwise.
"""
import json
import math
import struct
import sys

import torch

DTYPES = {"F32": (torch.float32, "f", 4), "I64": (torch.int64, "q", 8)}
# The reference library's dtype order (its Dtype enum): larger-alignment types are written first.
DTYPE_RANK = {"F32": 11, "I64": 13}


def dtype_name(t):
    return {torch.float32: "F32", torch.int64: "I64"}[t.dtype]


def serialize(tensors, metadata=None):
    """The bytes of a file holding {name: tensor}, as the reference library's serialize() makes them."""
    names = sorted(tensors, key=lambda n: (-DTYPE_RANK[dtype_name(tensors[n])], n))
    header, data, offset = {}, b"", 0
    if metadata:
        header["__metadata__"] = metadata
    for name in names:
        t = tensors[name].contiguous()
        fmt = DTYPES[dtype_name(t)][1]
        raw = struct.pack("<%d%s" % (t.numel(), fmt), *t.flatten().tolist())
        header[name] = {"dtype": dtype_name(t), "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def save(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(serialize(tensors, metadata))


def load(path):
    """Reads a file into ({name: tensor}, metadata) with torch.frombuffer."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        dtype, _, size = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = math.prod(info["shape"])
        assert end - begin == count * size, name
        if count == 0:
            tensors[name] = torch.empty(info["shape"], dtype=dtype)
        else:
            tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(info["shape"])
    return tensors, metadata


def golden():
    """The arrays of goldens/pytorch.safetensors (test_safetensors.cpp checks them exactly)."""
    return {
        "weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 7,
        "special": torch.tensor([0.0, -0.0, math.inf, -math.inf, 1e-45, 3.4028234663852886e38, math.nan]),
        "step": torch.tensor(12345678901, dtype=torch.int64),
        "counts": torch.tensor([-1, 0, 2**62], dtype=torch.int64),
        "empty": torch.zeros(0, 3),
    }, {"source": "torch 1.13", "vocab": ".abc"}


def cpp_expected():
    """What the C++ test 'writes the file that safetensors_check.py check-cpp reads' saves."""
    return {
        "layer.W": (torch.arange(20, dtype=torch.float32) * 0.25 - 2).reshape(4, 5),
        "layer.b": (torch.arange(5, dtype=torch.float32) + 1) / 3,
        "bn.num_batches_tracked": torch.tensor(7, dtype=torch.int64),
        "big": torch.tensor([-5, 2**40], dtype=torch.int64),
    }, {"stage": "test", "vocab": ".abc"}


def check_cpp(path):
    tensors, metadata = load(path)
    want, want_metadata = cpp_expected()
    problems = []
    if sorted(tensors) != sorted(want):
        problems.append("names %s, expected %s" % (sorted(tensors), sorted(want)))
    for name, w in want.items():
        got = tensors.get(name)
        if got is not None and not (got.dtype == w.dtype and got.shape == w.shape and torch.equal(got, w)):
            problems.append("%s: got %s, expected %s" % (name, got, w))
    if metadata != want_metadata:
        problems.append("metadata %s, expected %s" % (metadata, want_metadata))
    # Byte-for-byte what this (reference-ordered) writer makes of the same arrays.
    with open(path, "rb") as f:
        if f.read() != serialize(want, want_metadata):
            problems.append("the bytes differ from this script's serialize() of the expected arrays")
    for name, t in sorted(tensors.items()):
        print("%-24s %-6s %-8s %s" % (name, str(t.dtype).replace("torch.", ""), list(t.shape), t.flatten().tolist()[:6]))
    print("metadata", metadata)
    print("OK" if not problems else "NOT OK: " + "; ".join(problems))
    return 0 if not problems else 1


def main(argv):
    if len(argv) == 3 and argv[1] == "write-golden":
        tensors, metadata = golden()
        # The C++ test checks weight[i] == float(i) / 7.0f: make sure PyTorch divided the same way.
        assert torch.equal(tensors["weight"].flatten(), torch.tensor([i / 7 for i in range(12)], dtype=torch.float32))
        save(argv[2], tensors, metadata)
        loaded, loaded_metadata = load(argv[2])  # our own reader agrees with our writer
        assert loaded_metadata == metadata
        assert all(torch.equal(loaded[k], v) or k == "special" for k, v in tensors.items())
        print("wrote", argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "check-cpp":
        return check_cpp(argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main(sys.argv))
