#!/usr/bin/python3
"""Bit-exact goldens for layer_norm (forward and backward) and softmax's backward, the row kernels
of common/tensor/kernels/exact/ that reproduce PyTorch 1.13.1's CPU build (AVX2).

Regenerate (from the repository root; the Debian python, which has torch):
    /usr/bin/python3 common/tests/make_layer_norm_goldens.py

Writes common/tests/goldens/tensor_bits_layer_norm.json, checked by
common/tests/test_tensor_layer_norm_bits.cpp:
  layer_norm  F.layer_norm(x, (C,), w, b, eps) and its gradients into x, w and b, for row lengths
              below one vector, with a tail, one chunk of 16 vectors and several (Welford's cascade)
  softmax     softmax's backward along the last dim, row lengths with and without a tail

Every input is drawn with torch.randn from a torch.Generator seeded per case, in the order given by
"draws"; the C++ test draws the same numbers with common/'s generator and checks the float64 sum of
each input first. Floats are written with 9 significant digits (round-trips float32): the test
compares bits. None of these kernels touches BLAS, so the goldens hold under every OpenBLAS kernel.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
COMMAND = "/usr/bin/python3 common/tests/make_layer_norm_goldens.py"


def num(v):
    return float("%.9g" % float(v))


def enc(t):
    return [num(v) for v in t.detach().reshape(-1).tolist()]


def digest(t):
    return t.detach().double().sum().item()


def layer_norm():
    cases = []
    shapes = ((32, 64), (7, 100), (5, 13), (4, 5), (3, 384), (2, 300), (2, 2100), (9, 128))
    for k, (r, c) in enumerate(shapes):
        seed = 6000 + k
        g = torch.Generator().manual_seed(seed)
        # draws: x = randn(r, c) * 2 + 0.5, w = randn(c) * 0.3 + 1, b = randn(c) * 0.1, dy = randn(r, c)
        x = torch.randn((r, c), generator=g) * 2.0 + 0.5
        w = torch.randn((c,), generator=g) * 0.3 + 1.0
        b = torch.randn((c,), generator=g) * 0.1
        dy = torch.randn((r, c), generator=g)
        xx, ww, bb = (t.clone().requires_grad_() for t in (x, w, b))
        y = F.layer_norm(xx, (c,), ww, bb, 1e-5)
        y.backward(dy)
        cases.append({"r": r, "c": c, "seed": seed, "x_sum": digest(x), "w_sum": digest(w), "b_sum": digest(b),
                      "dy_sum": digest(dy), "y": enc(y), "dx": enc(xx.grad), "dw": enc(ww.grad), "db": enc(bb.grad)})
    return cases


def softmax_backward():
    cases = []
    for k, (r, c) in enumerate(((32, 32), (7, 13), (3, 64), (5, 5), (4, 100))):
        seed = 6100 + k
        g = torch.Generator().manual_seed(seed)
        x = torch.randn((r, c), generator=g) * 3.0  # draws: x = randn(r, c) * 3, dy = randn(r, c)
        dy = torch.randn((r, c), generator=g)
        xx = x.clone().requires_grad_()
        y = F.softmax(xx, dim=-1)
        y.backward(dy)
        cases.append({"r": r, "c": c, "seed": seed, "x_sum": digest(x), "dy_sum": digest(dy),
                      "y": enc(y), "dx": enc(xx.grad)})
    return cases


def main():
    out = {"command": COMMAND, "torch": torch.__version__, "layer_norm": layer_norm(),
           "softmax_backward": softmax_backward()}
    path = os.path.join(HERE, "goldens", "tensor_bits_layer_norm.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", path)


if __name__ == "__main__":
    main()
