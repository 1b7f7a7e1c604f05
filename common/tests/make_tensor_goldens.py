#!/usr/bin/python3
"""Goldens for common/'s tensor layer, computed by PyTorch 1.13.1 (Debian's python3-torch).

Regenerate (from the repository root; the Debian python, which has torch):
    OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 /usr/bin/python3 common/tests/make_tensor_goldens.py

Writes common/tests/goldens/:
  tensor_ops.json     one case per op and shape: inputs, upstream weights w, the output, and the
                      gradient of sum(out * w) with respect to every input that requires grad
  tensor_nn.json      module inits (bit-exact RNG draws), BatchNorm1d train/eval, a lecture-6 model
  tensor_optim.json   SGD (the lectures' update) and torch.optim.AdamW over 10 steps
  tensor_from_torch.safetensors   tensors saved by PyTorch for the C++ loader to read back

The committed files were written on OpenBLAS's Haswell kernel set (OPENBLAS_CORETYPE=Haswell
OPENBLAS_NUM_THREADS=1; SkylakeX writes the same bytes, Prescott differs in the last bits of a few
products and sums): the tests that read them compare within stated tolerances, never bit for bit.
The lectures' module classes are imported from 04-batchnorm/reference.py and 06-wavenet/reference.py.

Inputs are deterministic (torch.Generator seeded per case). Floats are written with 9 significant
digits, enough to round-trip float32 exactly.
"""
import importlib.util
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_support as support  # noqa: E402 (num: floats as JSON numbers; write_json)
from safetensors_check import save as write_safetensors  # noqa: E402 (the format by hand: no package in Debian)

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "goldens")
COMMAND = "OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 /usr/bin/python3 common/tests/make_tensor_goldens.py"


num = support.num  # 9 significant digits; "nan", "inf", "-inf" as strings (JSON has no such numbers)


def enc(t):
    return {"shape": list(t.shape), "data": support.flat(t)}


def enc_long(t):
    return {"shape": list(t.shape), "data": [int(v) for v in t.reshape(-1).tolist()]}


_seed = [1000]


def randn(*shape, scale=1.0, shift=0.0):
    _seed[0] += 1
    g = torch.Generator().manual_seed(_seed[0])
    return torch.randn(shape, generator=g) * scale + shift


def positive(*shape):
    _seed[0] += 1
    g = torch.Generator().manual_seed(_seed[0])
    return torch.rand(shape, generator=g) * 1.5 + 0.5


CASES = []


def case(name, op, fn, inputs, longs=(), args=None, grad=True):
    """fn(*float_inputs, *long_inputs) -> output tensor. Records forward and grads of sum(out*w)."""
    xs = [x.clone().requires_grad_(grad) for x in inputs]
    out = fn(*xs, *longs)
    w = randn(*out.shape)
    rec = {"name": name, "op": op, "args": args or {}, "inputs": [enc(x) for x in xs],
           "longs": [enc_long(l) for l in longs], "weight": enc(w), "out": enc(out)}
    if grad:
        (out * w).sum().backward()
        rec["grads"] = [enc(x.grad) if x.grad is not None else None for x in xs]
    CASES.append(rec)


def make_ops():
    # ---- broadcasting arithmetic
    shapes = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), (1, 3, 1)),
              ((4,), (2, 3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), ())]
    for a, b in shapes:
        for op, f in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul)]:
            case(f"{op} {a} {b}", op, f, [randn(*a), randn(*b)])
        case(f"div {a} {b}", "div", torch.div, [randn(*a), positive(*b)])
    case("add [N] vs [1,N] stays distinct", "add", torch.add, [randn(1, 5), randn(5)])
    case("a * a (same tensor twice)", "mul_self", lambda a: a * a, [randn(3, 4)])
    case("x + 2.5", "add_scalar", lambda x: x + 2.5, [randn(3, 4)], args={"s": 2.5})
    case("x - 0.5", "sub_scalar", lambda x: x - 0.5, [randn(3, 4)], args={"s": 0.5})
    case("3 - x", "rsub_scalar", lambda x: 3 - x, [randn(3, 4)], args={"s": 3.0})
    case("x * -1.5", "mul_scalar", lambda x: x * -1.5, [randn(3, 4)], args={"s": -1.5})
    case("x / 3", "div_scalar", lambda x: x / 3, [randn(3, 4)], args={"s": 3.0})
    case("2 / x", "rdiv_scalar", lambda x: 2 / x, [positive(3, 4)], args={"s": 2.0})
    case("-x", "neg", torch.neg, [randn(2, 3, 4)])
    # ---- element-wise functions
    for p in [2.0, 3.0, -1.0, -2.0]:
        case(f"pow {p}", "pow", lambda x, p=p: x ** p, [positive(3, 4)], args={"p": p})
    for p in [0.5, -0.5, 1.7]:
        case(f"pow {p}", "pow", lambda x, p=p: x ** p, [positive(3, 4)], args={"p": p})
    case("pow 2 of negatives", "pow", lambda x: x ** 2.0, [randn(3, 4)], args={"p": 2.0})
    case("sqrt", "sqrt", torch.sqrt, [positive(3, 4)])
    case("exp", "exp", torch.exp, [randn(2, 3, 4)])
    case("log", "log", torch.log, [positive(2, 3, 4)])
    case("tanh", "tanh", torch.tanh, [randn(4, 50, scale=2.0)])
    case("relu", "relu", torch.relu, [randn(2, 3, 4)])
    case("gelu", "gelu", F.gelu, [randn(2, 3, 4, scale=2.0)])
    # ---- reductions
    x3 = randn(2, 3, 4)
    case("sum all", "sum", lambda x: x.sum(), [x3], args={"dims": [], "keepdim": False})
    case("sum dim 1", "sum", lambda x: x.sum(1), [randn(3, 5)], args={"dims": [1], "keepdim": False})
    case("sum dim 0 keepdim", "sum", lambda x: x.sum(0, keepdim=True), [randn(3, 5)], args={"dims": [0], "keepdim": True})
    case("sum dims (0,2) keepdim 3-D", "sum", lambda x: x.sum((0, 2), keepdim=True), [x3], args={"dims": [0, 2], "keepdim": True})
    case("sum dim -1 3-D", "sum", lambda x: x.sum(-1), [x3], args={"dims": [-1], "keepdim": False})
    case("mean all", "mean", lambda x: x.mean(), [x3], args={"dims": [], "keepdim": False})
    case("mean dim 1 keepdim", "mean", lambda x: x.mean(1, keepdim=True), [randn(3, 5)], args={"dims": [1], "keepdim": True})
    case("mean dims (0,1) 3-D", "mean", lambda x: x.mean((0, 1)), [x3], args={"dims": [0, 1], "keepdim": False})
    case("max dim 1", "max", lambda x: x.max(1).values, [randn(4, 6)], args={"dim": 1, "keepdim": False})
    case("max dim 1 keepdim 3-D", "max", lambda x: x.max(1, keepdim=True).values, [x3], args={"dim": 1, "keepdim": True})
    case("max dim 0", "max", lambda x: x.max(0).values, [randn(4, 6)], args={"dim": 0, "keepdim": False})
    for unb in [True, False]:
        case(f"var all unbiased={unb}", "var", lambda x, u=unb: x.var(unbiased=u), [randn(4, 6)], args={"dims": [], "keepdim": False, "unbiased": unb})
        case(f"var dim 0 keepdim unbiased={unb}", "var", lambda x, u=unb: x.var(0, keepdim=True, unbiased=u), [randn(8, 5)], args={"dims": [0], "keepdim": True, "unbiased": unb})
        case(f"var dims (0,1) 3-D unbiased={unb}", "var", lambda x, u=unb: x.var((0, 1), unbiased=u), [x3], args={"dims": [0, 1], "keepdim": False, "unbiased": unb})
        case(f"std dim 0 unbiased={unb}", "std", lambda x, u=unb: x.std(0, unbiased=u), [randn(8, 5)], args={"dims": [0], "keepdim": False, "unbiased": unb})
        case(f"std dim -1 keepdim 3-D unbiased={unb}", "std", lambda x, u=unb: x.std(-1, keepdim=True, unbiased=u), [x3], args={"dims": [-1], "keepdim": True, "unbiased": unb})
    # xtensor #2737: a keep_dims reduction broadcast against its own input
    case("x - sum(x, 1, keepdim) (xtensor #2737 regression)", "sub_rowsum",
         lambda x: x - x.sum(1, keepdim=True), [randn(4, 7)])
    case("counts / counts.sum(1, keepdim) (lecture 2 normalisation)", "div_rowsum",
         lambda x: x / x.sum(1, keepdim=True), [positive(5, 27)])
    # ---- matmul
    case("matmul (4,3)@(3,5)", "matmul", torch.matmul, [randn(4, 3), randn(3, 5)])
    case("matmul (2,4,3)@(3,5)", "matmul", torch.matmul, [randn(2, 4, 3), randn(3, 5)])
    case("matmul (2,4,3)@(2,3,5)", "matmul", torch.matmul, [randn(2, 4, 3), randn(2, 3, 5)])
    case("matmul (4,3)@(2,3,5)", "matmul", torch.matmul, [randn(4, 3), randn(2, 3, 5)])
    case("matmul (2,2,3,4)@(2,2,4,3)", "matmul", torch.matmul, [randn(2, 2, 3, 4), randn(2, 2, 4, 3)])
    case("linear (2,3,4) W(5,4) b(5)", "linear", F.linear, [randn(2, 3, 4), randn(5, 4), randn(5)])
    case("linear (3,4) W(5,4) no bias", "linear_nobias", lambda x, w: F.linear(x, w), [randn(3, 4), randn(5, 4)])
    # ---- shapes and indexing
    case("view (2,3,4)->(6,-1)", "view", lambda x: x.view(6, -1), [randn(2, 3, 4)], args={"shape": [6, -1]})
    case("view used twice", "view_twice", lambda x: x.view(12) * x.view(12), [randn(3, 4)])
    case("transpose (2,3,4) 1,2", "transpose", lambda x: x.transpose(1, 2), [randn(2, 3, 4)], args={"d0": 1, "d1": 2})
    case("transpose 2-D", "transpose", lambda x: x.transpose(0, 1), [randn(3, 5)], args={"d0": 0, "d1": 1})
    case("permute (2,3,4) -> (2,0,1)", "permute", lambda x: x.permute(2, 0, 1), [randn(2, 3, 4)], args={"dims": [2, 0, 1]})
    C = randn(5, 3)
    X = torch.tensor([[0, 1, 1, 4], [4, 4, 2, 0]])
    case("C[X] embedding lookup with repeats", "index", lambda c, x: c[x], [C], longs=[X])
    case("x[ix] row selection", "index", lambda c, x: c[x], [randn(6, 4)], longs=[torch.tensor([5, 0, 5, 2])])
    case("x[2] one row", "row", lambda x: x[2], [randn(4, 3)], args={"i": 2})
    case("x[-1] of 3-D", "row", lambda x: x[-1], [randn(3, 2, 4)], args={"i": -1})
    case("slice x[:, 1:3]", "slice", lambda x: x[:, 1:3], [randn(3, 5)], args={"dim": 1, "start": 1, "end": 3})
    case("slice x[:, -2:] 3-D dim 1", "slice", lambda x: x[:, -2:], [randn(2, 4, 3)], args={"dim": 1, "start": -2, "end": 4})
    case("select x[:, -1, :]", "select", lambda x: x[:, -1, :], [randn(2, 4, 3)], args={"dim": 1, "index": -1})
    case("cat dim 0", "cat", lambda a, b, c: torch.cat([a, b, c], 0), [randn(2, 3), randn(1, 3), randn(3, 3)], args={"dim": 0})
    case("cat dim -1 3-D", "cat", lambda a, b: torch.cat([a, b], -1), [randn(2, 3, 2), randn(2, 3, 4)], args={"dim": -1})
    case("gather last dim", "gather", lambda x, i: x.gather(-1, i), [randn(4, 5)], longs=[torch.tensor([[1], [0], [4], [4]])])
    case("logprobs[range(n), Y]", "gather", lambda x, i: x.gather(-1, i), [randn(3, 6)], longs=[torch.tensor([[5, 0], [2, 2], [1, 3]])])
    case("one_hot", "one_hot", lambda x: F.one_hot(x, 6).float(), [], longs=[torch.tensor([[0, 5, 2], [3, 3, 1]])], args={"n": 6}, grad=False)
    case("tril", "tril", torch.tril, [randn(2, 4, 4)])
    # ---- neural-net functions
    case("softmax (3,5)", "softmax", lambda x: F.softmax(x, -1), [randn(3, 5)])
    case("softmax (2,3,5) large", "softmax", lambda x: F.softmax(x, -1), [randn(2, 3, 5, scale=30.0)])
    case("log_softmax (3,5)", "log_softmax", lambda x: F.log_softmax(x, -1), [randn(3, 5)])
    case("log_softmax (2,3,27)", "log_softmax", lambda x: F.log_softmax(x, -1), [randn(2, 3, 27, scale=3.0)])
    Y = torch.tensor([1, 0, 4, 4, 2, 3])
    case("cross_entropy (6,5)", "cross_entropy", lambda x, y: F.cross_entropy(x, y), [randn(6, 5)], longs=[Y], args={"ignore_index": -100})
    case("cross_entropy (32,27) lecture-sized", "cross_entropy", lambda x, y: F.cross_entropy(x, y), [randn(32, 27, scale=2.0)],
         longs=[torch.tensor([(i * 7) % 27 for i in range(32)])], args={"ignore_index": -100})
    case("cross_entropy stable for logits near 100", "cross_entropy", lambda x, y: F.cross_entropy(x, y), [randn(6, 5, scale=50.0, shift=100.0)], longs=[Y], args={"ignore_index": -100})
    case("cross_entropy ignore_index -1", "cross_entropy", lambda x, y: F.cross_entropy(x, y, ignore_index=-1), [randn(6, 5)],
         longs=[torch.tensor([1, -1, 4, -1, 2, 3])], args={"ignore_index": -1})
    mask = (torch.tril(torch.ones(4, 4)) == 0).float()
    case("masked_fill with a causal mask", "masked_fill", lambda x, m: x.masked_fill(m != 0, 0.5), [randn(2, 4, 4), mask], args={"value": 0.5})
    case("causal softmax: softmax(masked_fill(tril == 0, -inf))", "causal_softmax",
         lambda x: F.softmax(x.masked_fill(torch.tril(torch.ones(4, 4)) == 0, float("-inf")), -1), [randn(2, 4, 4)])
    case("layer_norm (2,3,6)", "layer_norm", lambda x, w, b: F.layer_norm(x, (6,), w, b), [randn(2, 3, 6, scale=2.0, shift=1.0), randn(6), randn(6)], args={"eps": 1e-5})
    case("layer_norm (4,32)", "layer_norm", lambda x, w, b: F.layer_norm(x, (32,), w, b), [randn(4, 32), positive(32), randn(32)], args={"eps": 1e-5})

    def bn(x, g, b):  # lecture 4/6 BatchNorm1d.__call__ in training mode
        dim = 0 if x.ndim == 2 else (0, 1)
        xmean = x.mean(dim, keepdim=True)
        xvar = x.var(dim, keepdim=True)
        return g * ((x - xmean) / torch.sqrt(xvar + 1e-5)) + b
    case("batch_norm (8,5) over dim 0", "batch_norm", bn, [randn(8, 5, scale=2.0, shift=0.5), positive(5), randn(5)], args={"eps": 1e-5})
    case("batch_norm (4,3,5) over dims (0,1)", "batch_norm", bn, [randn(4, 3, 5, scale=2.0), positive(5), randn(5)], args={"eps": 1e-5})
    # dropout draws from the global generator, as F.dropout does
    torch.manual_seed(1337)
    xd = randn(4, 8)
    torch.manual_seed(1337)
    case("dropout p=0.2 (global seed 1337)", "dropout", lambda x: F.dropout(x, 0.2, True), [xd], args={"p": 0.2, "seed": 1337})


# ---- the lectures' module classes, as the stages' reference scripts write them once ---------------
def load_reference(stage):
    """A stage's reference.py as a module (importing it runs nothing but definitions)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', stage, 'reference.py')
    spec = importlib.util.spec_from_file_location(stage.replace('-', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lecture4 = load_reference('04-batchnorm')  # Linear(fan_in, fan_out, g, bias) draws from the generator g
lecture6 = load_reference('06-wavenet')    # Embedding, FlattenConsecutive, Linear, BatchNorm1d (3-D: dims (0, 1)),
                                           # Tanh, Sequential: draws from the global generator


def make_nn():
    nn_cases = {}
    # lecture 4 init: C then Linear layers from one generator
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((27, 10), generator=g)
    l1 = lecture4.Linear(30, 200, g)
    l2 = lecture4.Linear(200, 27, g, bias=False)
    nn_cases["lecture_init"] = {"C": enc(C), "W1": enc(l1.weight), "W2": enc(l2.weight)}
    # lecture 6 Embedding (global generator), torch.nn.Linear / nn.Embedding defaults (lecture 7)
    torch.manual_seed(42)
    e = lecture6.Embedding(27, 24)
    torch.manual_seed(1337)
    tl = torch.nn.Linear(32, 16)
    tl2 = torch.nn.Linear(16, 4, bias=False)
    te = torch.nn.Embedding(65, 8)
    nn_cases["defaults_init"] = {"embedding_seed42": enc(e.weight), "torch_linear_w": enc(tl.weight),
                                 "torch_linear_b": enc(tl.bias), "torch_linear2_w": enc(tl2.weight),
                                 "torch_embedding_w": enc(te.weight)}
    # BatchNorm1d: two training batches, then eval; 2-D and 3-D
    for name, shape in [("batchnorm_2d", (8, 5)), ("batchnorm_3d", (4, 3, 5))]:
        bn = lecture6.BatchNorm1d(5)
        bn.gamma = positive(5).requires_grad_()
        bn.beta = randn(5).requires_grad_()
        x1 = randn(*shape, scale=2.0, shift=1.0).requires_grad_()
        x2 = randn(*shape, scale=0.5, shift=-1.0)
        x3 = randn(*shape)
        w = randn(*shape)
        gamma0, beta0 = bn.gamma.detach().clone(), bn.beta.detach().clone()
        out1 = bn(x1)
        (out1 * w).sum().backward()
        out2 = bn(x2)
        rm2, rv2 = bn.running_mean.reshape(-1), bn.running_var.reshape(-1)
        bn.training = False
        out3 = bn(x3)
        nn_cases[name] = {"gamma": enc(gamma0), "beta": enc(beta0), "x1": enc(x1), "x2": enc(x2), "x3": enc(x3),
                          "w": enc(w), "out1": enc(out1), "grad_x1": enc(x1.grad), "grad_gamma": enc(bn.gamma.grad),
                          "grad_beta": enc(bn.beta.grad), "out2": enc(out2), "running_mean": enc(rm2),
                          "running_var": enc(rv2), "out3_eval": enc(out3)}
    # a lecture-6 model in miniature: global seed 42, init, one batch, loss and every gradient
    torch.manual_seed(42)
    L = lecture6
    model = L.Sequential([
        L.Embedding(27, 4),
        L.FlattenConsecutive(2), L.Linear(8, 6, bias=False), L.BatchNorm1d(6), L.Tanh(),
        L.FlattenConsecutive(2), L.Linear(12, 6, bias=False), L.BatchNorm1d(6), L.Tanh(),
        L.Linear(6, 27),
    ])
    with torch.no_grad():
        model.layers[-1].weight *= 0.1
    params = model.parameters()
    for p in params:
        p.requires_grad = True
    Xb = torch.randint(0, 27, (5, 4))
    Yb = torch.randint(0, 27, (5,))
    logits = model(Xb)
    loss = F.cross_entropy(logits, Yb)
    loss.backward()
    nn_cases["wavenet_mini"] = {"X": enc_long(Xb), "Y": enc_long(Yb), "logits": enc(logits), "loss": num(loss.item()),
                                "params": [enc(p) for p in params], "grads": [enc(p.grad) for p in params]}
    # torch.nn modules on a 3-D input: LayerNorm -> Linear -> ReLU, with dropout off (eval)
    torch.manual_seed(7)
    ln = torch.nn.LayerNorm(8)
    lin = torch.nn.Linear(8, 4)
    x = randn(2, 3, 8, scale=2.0).requires_grad_()
    out = torch.relu(lin(ln(x)))
    w = randn(2, 3, 4)
    (out * w).sum().backward()
    nn_cases["torch_modules"] = {"x": enc(x), "w": enc(w), "out": enc(out), "grad_x": enc(x.grad),
                                 "grad_lin_w": enc(lin.weight.grad), "grad_lin_b": enc(lin.bias.grad),
                                 "grad_ln_w": enc(ln.weight.grad), "grad_ln_b": enc(ln.bias.grad)}
    return nn_cases


def make_optim():
    res = {}
    X = randn(8, 5)
    Yt = randn(8, 3)
    W0 = randn(5, 3)
    b0 = randn(3)
    res["X"], res["Y"], res["W0"], res["b0"] = enc(X), enc(Yt), enc(W0), enc(b0)

    def run(make_opt, schedule=None):
        W = W0.clone().requires_grad_()
        b = b0.clone().requires_grad_()
        opt = make_opt([W, b]) if make_opt else None
        traj = []
        for i in range(10):
            loss = ((X @ W + b - Yt) ** 2).mean()
            if schedule is None:
                opt.zero_grad()
                loss.backward()
                opt.step()
            else:  # the lectures' update: p.grad = None; backward; p.data += -lr * p.grad
                for p in (W, b):
                    p.grad = None
                loss.backward()
                lr = schedule(i)
                for p in (W, b):
                    p.data += -lr * p.grad
            traj.append({"loss": num(loss.item()), "W": enc(W), "b": enc(b)})
        return traj

    res["adamw"] = run(lambda ps: torch.optim.AdamW(ps, lr=1e-2))
    res["adamw_wd"] = run(lambda ps: torch.optim.AdamW(ps, lr=3e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1))
    res["sgd_schedule"] = run(None, schedule=lambda i: 0.1 if i < 5 else 0.01)
    return res


def dump(name, obj):
    path = os.path.join(OUT, name)
    support.write_json(path, obj, indent=None, separators=(",", ":"), end="")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    os.makedirs(OUT, exist_ok=True)
    make_ops()
    dump("tensor_ops.json", {"command": COMMAND, "torch": torch.__version__, "cases": CASES})
    dump("tensor_nn.json", {"command": COMMAND, "torch": torch.__version__, **make_nn()})
    dump("tensor_optim.json", {"command": COMMAND, "torch": torch.__version__, **make_optim()})
    path = os.path.join(OUT, "tensor_from_torch.safetensors")
    write_safetensors(path, {"weight": torch.arange(6.0).view(2, 3) * 0.5, "bias": torch.tensor([-1.0, 2.5]),
                             "emb": torch.randn((27, 10), generator=torch.Generator().manual_seed(2147483647))},
                      {"format": "pt", "command": COMMAND})
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
