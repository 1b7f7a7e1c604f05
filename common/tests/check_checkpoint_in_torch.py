#!/usr/bin/python3
"""Reads a safetensors file written by the C++ checkpoint code into PyTorch tensors and checks it.

    /usr/bin/python3 common/tests/check_checkpoint_in_torch.py FILE

Run by test_tensor_checkpoint.cpp. The file must hold "weight" = arange(6).view(2, 3) * 0.5 and
"bias" = [-1, 2.5], with metadata {"stage": "test"}. The reader is safetensors_check.py's (the
safetensors package is not in Debian).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_check import load  # the one hand-written reader of the format


def main():
    tensors, meta = load(sys.argv[1])
    assert torch.equal(tensors["weight"], torch.arange(6.0).view(2, 3) * 0.5), tensors["weight"]
    assert torch.equal(tensors["bias"], torch.tensor([-1.0, 2.5])), tensors["bias"]
    assert meta == {"stage": "test"}, meta
    print("OK: PyTorch read", {k: tuple(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main()
