#!/usr/bin/python3
"""Bit-exact goldens for the kernels common/ reproduces from PyTorch 1.13.1's CPU build (AVX2).

Regenerate (from the repository root; the Debian python, which has torch):
    /usr/bin/python3 common/tests/make_bits_goldens.py

Writes common/tests/goldens/tensor_bits.json, checked by common/tests/test_tensor_bits.cpp:
  elementwise   exp, log, tanh (SLEEF) and tanh's backward, on lengths with and without a tail
  sums          torch.sum / mean over chosen dims (SumKernel.cpp's cascade, per kernel it picks)
  bias_grads    the gradient of a broadcast bias, (N, C) + (C): grad.sum(0)
  softmax       softmax, log_softmax forward and backward along the last dim
  cross_entropy F.cross_entropy forward and backward, with and without ignored targets

Every input is drawn with torch.randn / torch.randint from a torch.Generator seeded per case, in
the order given by "draws"; the C++ test draws the same numbers with common/'s generator (itself
bit-exact) and checks the float64 sum of each input first. Floats are written with 9 significant
digits, which round-trips float32 exactly: the test compares bits.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_support import digest, flat as enc, num, write_json  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
COMMAND = "/usr/bin/python3 common/tests/make_bits_goldens.py"


def randn(shape, g, scale):
    return torch.randn(shape, generator=g) * scale


def elementwise():
    cases = []
    for n in (203, 13):
        g = torch.Generator().manual_seed(1000 + n)
        x = randn((n,), g, 3.0)  # draws: x = randn(n) * 3
        up = randn((n,), g, 1.0)  # draws: w = randn(n), the upstream gradient of tanh
        xt = x.clone().requires_grad_()
        y = torch.tanh(xt)
        y.backward(up)
        cases.append({"n": n, "seed": 1000 + n, "x_sum": digest(x), "w_sum": digest(up),
                      "exp": enc(torch.exp(x)), "log": enc(torch.log(x.abs() + 1e-3)),
                      "tanh": enc(y), "tanh_grad": enc(xt.grad)})
    return cases


def sums():
    # (shape, dims, keepdim, mean): each exercises another of cascade_sum's kernels or a cascade level.
    specs = [((1000,), [], False, False),          # 1-D, vectorised inner sum, levels
             ((100003,), [], False, False),        # long row: several cascade levels, a tail
             ((13,), [], False, False),            # shorter than a vector: scalar row_sum
             ((27, 27), [1], True, False),         # the bigram's counts.sum(1, keepdims=True)
             ((27, 5), [1], False, False),         # short rows: scalar inner sum
             ((32, 200), [0], False, False),       # a bias gradient: vectorised outer, 32+8 columns
             ((32, 27), [0], False, False),        # outer: vectors then single columns
             ((300, 3), [0], False, False),        # outer over 3 columns: scalar outer sum
             ((70, 64), [0], True, False),         # outer with cascade levels
             ((3, 4, 5), [1], False, False),       # a middle dim: one 2-D block per outer index
             ((3, 4, 5), [0, 2], False, False),    # two dims that do not merge
             ((6, 40, 9), [0, 1], True, False),    # two dims that merge
             ((32, 200), [], False, True),         # mean of everything
             ((32, 200), [0], True, True)]         # mean over rows
    cases = []
    for k, (shape, dims, keepdim, is_mean) in enumerate(specs):
        g = torch.Generator().manual_seed(2000 + k)
        x = randn(shape, g, 2.0)  # draws: x = randn(shape) * 2
        f = torch.mean if is_mean else torch.sum
        y = f(x, dims, keepdim) if dims else f(x)
        cases.append({"shape": list(shape), "dims": dims, "keepdim": keepdim, "mean": is_mean,
                      "seed": 2000 + k, "x_sum": digest(x), "out": enc(y)})
    return cases


def bias_grads():
    cases = []
    for k, (n, c) in enumerate(((32, 200), (32, 27), (50, 64), (7, 3))):
        g = torch.Generator().manual_seed(3000 + k)
        x = randn((n, c), g, 1.0)  # draws: x = randn(n, c), b = randn(c), w = randn(n, c)
        b = randn((c,), g, 1.0).requires_grad_()
        w = randn((n, c), g, 1.0)
        (x + b).backward(w)
        cases.append({"n": n, "c": c, "seed": 3000 + k, "w_sum": digest(w), "grad": enc(b.grad)})
    return cases


def softmax():
    cases = []
    for k, (r, c) in enumerate(((32, 27), (7, 13), (3, 64), (5, 5))):
        g = torch.Generator().manual_seed(4000 + k)
        x = randn((r, c), g, 4.0)  # draws: x = randn(r, c) * 4, w = randn(r, c)
        w = randn((r, c), g, 1.0)
        out = {"r": r, "c": c, "seed": 4000 + k, "x_sum": digest(x), "w_sum": digest(w)}
        for name, f in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
            xx = x.clone().requires_grad_()
            y = f(xx, dim=1)
            y.backward(w)
            out[name] = enc(y)
            out[name + "_grad"] = enc(xx.grad)
        cases.append(out)
    return cases


def cross_entropy():
    cases = []
    for k, (n, c, ignored) in enumerate(((32, 27, 0), (100, 27, 0), (37, 11, 3), (5, 7, 4))):
        g = torch.Generator().manual_seed(5000 + k)
        x = randn((n, c), g, 3.0).requires_grad_()  # draws: x = randn(n, c) * 3, t = randint(0, c, (n,))
        t = torch.randint(0, c, (n,), generator=g)
        t[:ignored] = -100  # the first `ignored` rows are ignore_index
        loss = F.cross_entropy(x, t)
        loss.backward(torch.tensor(0.75))  # an upstream gradient other than 1
        cases.append({"n": n, "c": c, "ignored": ignored, "seed": 5000 + k, "x_sum": digest(x),
                      "targets": t.tolist(), "loss": num(loss.item()), "grad": enc(x.grad)})
    return cases


def cpu_capability():
    """The kernel set ATen picked ("AVX2" here); the goldens are only valid for that one."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage" in line:
            return line.split(":")[-1].strip()
    return "unknown"


def main():
    out = {"command": COMMAND, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "cpu_capability": cpu_capability(),
           "elementwise": elementwise(), "sums": sums(), "bias_grads": bias_grads(),
           "softmax": softmax(), "cross_entropy": cross_entropy()}
    path = os.path.join(HERE, "goldens", "tensor_bits.json")
    write_json(path, out, indent=None, separators=(",", ":"))
    print("wrote", path)


if __name__ == "__main__":
    main()
