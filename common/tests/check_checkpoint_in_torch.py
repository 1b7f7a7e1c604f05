#!/usr/bin/python3
"""Reads a safetensors file written by the C++ checkpoint code into PyTorch tensors and checks it.

    /usr/bin/python3 common/tests/check_checkpoint_in_torch.py FILE

Run by test_tensor_checkpoint.cpp. The file must hold "weight" = arange(6).view(2, 3) * 0.5 and
"bias" = [-1, 2.5], with metadata {"stage": "test"}. The reader is the format's definition (the
safetensors package is not in Debian): 8-byte little-endian header size, JSON header, raw data.
"""
import json
import struct
import sys

import torch


def load_file(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"])
    return out, meta


def main():
    tensors, meta = load_file(sys.argv[1])
    assert torch.equal(tensors["weight"], torch.arange(6.0).view(2, 3) * 0.5), tensors["weight"]
    assert torch.equal(tensors["bias"], torch.tensor([-1.0, 2.5])), tensors["bias"]
    assert meta == {"stage": "test"}, meta
    print("OK: PyTorch read", {k: tuple(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main()
