#!/usr/bin/python3
"""Bit-exact goldens for layer_norm (forward and backward), softmax's backward (the row kernels of
common/tensor/kernels/exact/layer_norm.cpp) and torch.optim.AdamW's update, which common/ reproduces
from PyTorch 1.13.1's CPU build (AVX2).

Regenerate (from the repository root; the Debian python, which has torch):
    /usr/bin/python3 common/tests/make_bits_nn_goldens.py

Writes common/tests/goldens/tensor_bits_nn.json, checked by common/tests/test_tensor_bits_nn.cpp:
  layer_norm  F.layer_norm(x, (C,), w, b, eps) and its gradients into x, w and b, for row lengths
              below one vector, with a tail, one chunk of 16 vectors and several (Welford's cascade)
  softmax     softmax's backward along the last dim, row lengths with and without a tail
  adamw       torch.optim.AdamW (1.13's default single-tensor loop) over 6 steps of given gradients:
              the parameters and both moments after every step, with and without weight decay

Every input is drawn with torch.randn from a torch.Generator seeded per case, in the order given by
"draws"; the C++ test draws the same numbers with common/'s generator and checks the float64 sum of
each input first. Floats are written with 9 significant digits (round-trips float32): the test
compares bits. None of these kernels touches BLAS, so the goldens hold under every OpenBLAS kernel.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_support import digest, flat as enc, write_json  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
COMMAND = "/usr/bin/python3 common/tests/make_bits_nn_goldens.py"


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


def adamw():
    cases = []
    for k, (n, kw) in enumerate(((37, dict(lr=1e-3)), (64, dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)))):
        seed = 6200 + k
        g = torch.Generator().manual_seed(seed)
        p = torch.randn((n,), generator=g)  # draws: p = randn(n), then per step grad = randn(n) * 0.1
        p0 = p.clone()
        p.requires_grad_()
        opt = torch.optim.AdamW([p], **kw)
        steps = []
        for _ in range(6):
            p.grad = torch.randn((n,), generator=g) * 0.1
            opt.step()
            st = opt.state[p]
            steps.append({"p": enc(p), "exp_avg": enc(st["exp_avg"]), "exp_avg_sq": enc(st["exp_avg_sq"])})
        cases.append({"n": n, "seed": seed, "options": {"lr": kw["lr"], "betas": list(kw.get("betas", (0.9, 0.999))),
                      "eps": kw.get("eps", 1e-8), "weight_decay": kw.get("weight_decay", 1e-2)},
                      "p0_sum": digest(p0), "steps": steps})
    return cases


def main():
    out = {"command": COMMAND, "torch": torch.__version__, "layer_norm": layer_norm(),
           "softmax_backward": softmax_backward(), "adamw": adamw()}
    path = os.path.join(HERE, "goldens", "tensor_bits_nn.json")
    write_json(path, out, indent=None, end="")
    print("wrote", path)


if __name__ == "__main__":
    main()
