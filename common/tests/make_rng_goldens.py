#!/usr/bin/python3
"""Goldens for common/'s random streams: PyTorch 1.13.1's CPU generator, CPython's `random`, numpy's
legacy RandomState and scikit-learn's make_moons.

Regenerate (from the repository root, with Debian's python3-torch 1.13.1, python3-numpy 1.24 and
python3-sklearn 1.2; /usr/bin/python3, not a pyenv python without torch):
    /usr/bin/python3 common/tests/make_rng_goldens.py

It must run on an x86 machine with AVX-512 (the project's machines): torch's default randn kernel is
then its AVX2 one, and numpy computes np.cos/np.sin with SVML, which is what make_moons' default mode
reproduces. The script re-runs itself twice in child processes for the other variants:
ATEN_CPU_CAPABILITY=default (torch's scalar randn kernel) and NPY_DISABLE_CPU_FEATURES=AVX512...
(numpy's libm cos/sin).

Writes common/tests/goldens/:
  rng_torch.json    torch.Generator streams: rand/randn (both kernels)/randint/randperm/exponential_/
                    bernoulli_/multinomial/uniform_/normal_, the Box-Muller cache, nn.Linear and
                    nn.Embedding inits, the global generator (torch.manual_seed); seeds 2147483647, 42, 1337
  rng_names.json    from data/names.txt: 300-name bigram chains (multinomial with and without
                    replacement) and random.seed(42); random.shuffle(words) with the lecture's splits
  rng_python.json   CPython random: random, uniform, getrandbits, _randbelow, shuffle for several seeds
  rng_numpy.json    RandomState: random_sample, standard_normal (polar, cached), normal, randint
                    (= random_interval), permutation, shuffle; make_moons with both trig variants

Encodings: float32 values are their uint32 bit patterns; arrays longer than 64 are stored as
{"n", "fnv1a64" of the little-endian bytes, "head" (first 8), "tail" (last 24)}; float64 values are
Python reprs (they round-trip). "next" lists the low 31 bits of the generator's next 4 draws
(torch.randint(0, 2**31)), which checks how many draws an operation consumed.
"""
import argparse
import json
import os
import random
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "goldens")
COMMAND = "/usr/bin/python3 common/tests/make_rng_goldens.py"
TORCH_SEEDS = [2147483647, 42, 1337]
SIZES = {"1": (1,), "5": (5,), "15": (15,), "16": (16,), "17": (17,), "27": (27,), "27x27": (27, 27),
         "30x200": (30, 200), "200x27": (200, 27)}
NPY_NO_AVX512 = "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL"
LECTURE_NAMES = ["mor.", "axx.", "minaymoryles.", "kondlaisah.", "anchshizarie."]


def fnv1a64(data: bytes) -> str:
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def f32(t):
    """float32 tensor -> bit patterns, summarised when long."""
    a = np.ascontiguousarray(t.detach().reshape(-1).numpy(), dtype="<f4")
    bits = a.view("<u4").tolist()
    if len(bits) <= 64:
        return {"bits": bits}
    return {"n": len(bits), "fnv1a64": fnv1a64(a.tobytes()), "head": bits[:8], "tail": bits[-24:]}


def ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


# ---- torch -----------------------------------------------------------------------------------

def torch_section(normal_only):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(1)

    def nxt(g):
        return ints(torch.randint(0, 2**31, (4,), generator=g))

    def per_seed(seed):
        def gen():
            return torch.Generator().manual_seed(seed)

        out = {"seed": seed}
        out["randn"] = {}
        for label, shape in SIZES.items():
            g = gen()
            out["randn"][label] = {"values": f32(torch.randn(shape, generator=g)), "next": nxt(g)}
        g = gen()
        out["normal_small"] = {"mean": 0.5, "std": 2.0, "values": f32(torch.empty(5).normal_(0.5, 2.0, generator=g)),
                               "next": nxt(g)}
        g = gen()
        out["normal_big"] = {"mean": 0.5, "std": 2.0, "values": f32(torch.empty(33).normal_(0.5, 2.0, generator=g)),
                             "next": nxt(g)}
        # The Box-Muller cache survives across calls: randn(5) leaves one value for randn(1), ...
        g = gen()
        seq = [f32(torch.randn(n, generator=g)) for n in (5, 1, 3, 20, 2)]
        seq.append(f32(torch.rand(2, generator=g)))
        out["box_muller"] = {"sizes": [5, 1, 3, 20, 2], "randn": seq[:5], "rand2": seq[5], "next": nxt(g)}
        if normal_only:
            return out

        g = gen()
        raw = np.random.RandomState(seed & 0xFFFFFFFF).randint(0, 2**32, size=1000, dtype=np.uint64)
        low31 = ints(torch.randint(0, 2**31, (1000,), generator=g))
        assert low31 == [int(r) & 0x7FFFFFFF for r in raw], "torch's engine is not init_genrand MT19937?"
        out["random"] = [int(r) for r in raw[:8]]
        out["rand"] = {}
        for label, shape in SIZES.items():
            g = gen()
            out["rand"][label] = {"values": f32(torch.rand(shape, generator=g)), "next": nxt(g)}
        g = gen()
        out["uniform"] = {"from": -0.5, "to": 0.7, "values": f32(torch.empty(1000).uniform_(-0.5, 0.7, generator=g)),
                          "next": nxt(g)}
        g = gen()
        u = torch.empty(20, dtype=torch.float64).uniform_(-2.0, 3.5, generator=g)
        out["uniform_double"] = {"from": -2.0, "to": 3.5, "values": [float(v) for v in u.tolist()], "next": nxt(g)}

        out["randint"] = []
        for low, high, n in [(0, 27, 32), (0, 228146, 32), (5, 10, 16), (-100, 100, 16), (0, 2**32 - 1, 4),
                             (0, 2**32, 4), (0, 2**40, 8), (0, 2**62, 4), (-(2**40), 2**40, 8)]:
            g = gen()
            out["randint"].append({"low": low, "high": high, "values": ints(torch.randint(low, high, (n,), generator=g)),
                                   "next": nxt(g)})
        out["randperm"] = []
        for n in (1, 2, 10, 100):
            g = gen()
            out["randperm"].append({"n": n, "values": ints(torch.randperm(n, generator=g)), "next": nxt(g)})
        g = gen()
        e1 = f32(torch.empty(27).exponential_(1.0, generator=g))
        e2 = f32(torch.empty(10).exponential_(2.5, generator=g))
        out["exponential"] = {"lambd": [1.0, 2.5], "sizes": [27, 10], "values": [e1, e2], "next": nxt(g)}
        g = gen()
        b = torch.empty(64).bernoulli_(0.8, generator=g)
        out["bernoulli"] = {"p": 0.8, "values": ints(b), "next": nxt(g)}

        # multinomial, each case on a fresh generator; the weights come from the same generator
        m = {}
        g = gen()
        p = torch.rand(3, generator=g)
        p = p / p.sum()  # 3 floats: torch sums them left to right
        m["lecture_p100"] = {"samples": ints(torch.multinomial(p, 100, replacement=True, generator=g)), "next": nxt(g)}
        g = gen()
        w = torch.rand(4, 27, generator=g)
        m["rows4x27_k5_replacement"] = {"samples": ints(torch.multinomial(w, 5, replacement=True, generator=g)),
                                        "next": nxt(g)}
        g = gen()
        w = torch.rand(4, 65, generator=g)
        m["rows4x65_k1_no_replacement"] = {"samples": ints(torch.multinomial(w, 1, generator=g)), "next": nxt(g)}
        g = gen()
        w = torch.rand(2, 10, generator=g)
        m["rows2x10_k3_no_replacement"] = {"samples": ints(torch.multinomial(w, 3, generator=g)), "next": nxt(g)}
        g = gen()
        w = torch.tensor([0.0, 3.0, 0.0, 1.0, 0.0])
        m["zeros_k20_replacement"] = {"samples": ints(torch.multinomial(w, 20, replacement=True, generator=g)),
                                      "next": nxt(g)}
        m["zeros_k1_no_replacement_x5"] = {"samples": [int(torch.multinomial(w, 1, generator=g)) for _ in range(5)],
                                           "next": nxt(g)}
        out["multinomial"] = m
        return out

    def global_section(seed):
        g = torch.manual_seed(seed)
        out = {"seed": seed}
        out["randn_27x10"] = f32(torch.randn((27, 10)))
        out["randint_0_1000_8"] = ints(torch.randint(0, 1000, (8,)))
        out["rand_5"] = f32(torch.rand(5))
        x = F.dropout(torch.ones(64), p=0.2, training=True)
        out["dropout_p0.2_keep"] = [int(v != 0) for v in x.tolist()]
        assert all(v in (0.0, 1.25) for v in x.tolist())
        out["next"] = nxt(g)
        return out

    def init_section(seed):
        torch.manual_seed(seed)
        l1 = nn.Linear(30, 200)
        l2 = nn.Linear(32, 16, bias=False)
        l3 = nn.Linear(1, 3)
        e1 = nn.Embedding(27, 10)
        e2 = nn.Embedding(3, 4)
        return {"seed": seed, "order": "Linear(30,200) Linear(32,16,bias=False) Linear(1,3) Embedding(27,10) Embedding(3,4)",
                "linear_30_200": {"weight": f32(l1.weight), "bias": f32(l1.bias)},
                "linear_32_16_nobias": {"weight": f32(l2.weight)},
                "linear_1_3": {"weight": f32(l3.weight), "bias": f32(l3.bias)},
                "embedding_27_10": f32(e1.weight), "embedding_3_4": f32(e2.weight),
                "next": nxt(torch.default_generator)}

    capability = [l for l in torch.__config__.show().splitlines() if "CPU capability usage" in l][0].split(":")[1].strip()
    out = {"capability": capability, "seeds": [per_seed(s) for s in TORCH_SEEDS]}
    out["init"] = [init_section(s) for s in TORCH_SEEDS]
    if not normal_only:
        out["global"] = [global_section(s) for s in TORCH_SEEDS]
        out["default_seed"] = torch.Generator().initial_seed()
        g = torch.Generator().manual_seed(2**40 + 5)
        out["seed_2^40+5"] = {"initial_seed": g.initial_seed(), "next": nxt(g)}
    return out


def torch_goldens():
    import torch
    avx2 = torch_section(normal_only=False)
    assert avx2["capability"] == "AVX2", "expected torch's AVX2 kernels, got " + avx2["capability"]
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    scalar = json.loads(subprocess.run([sys.executable, __file__, "--child", "torch-scalar"], env=env,
                                       check=True, capture_output=True, text=True).stdout)
    assert scalar["capability"] == "NO AVX", scalar["capability"]  # torch's name for DEFAULT
    for s in scalar["init"]:  # the scalar build's uniform_ is unfused: only its normals are kept
        for k in [k for k in s if k.startswith("linear")] + ["next"]:
            del s[k]
    return {"generated_by": COMMAND, "torch": torch.__version__, "avx2": avx2, "scalar": scalar}


# ---- names.txt: bigram chains and the lecture's split ------------------------------------------

def names_goldens(names_path):
    import torch
    torch.set_num_threads(1)
    words = open(names_path).read().splitlines()
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    N = torch.zeros((27, 27), dtype=torch.int32)
    for w in words:
        chs = ["."] + list(w) + ["."]
        for a, b in zip(chs, chs[1:]):
            N[stoi[a], stoi[b]] += 1
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)  # integer row sums < 2**24: exact in any summation order

    def chain(replacement):
        g = torch.Generator().manual_seed(2147483647)
        out = []
        for _ in range(300):
            ix, name = 0, []
            while True:
                ix = torch.multinomial(P[ix], num_samples=1, replacement=replacement, generator=g).item()
                name.append(itos[ix])
                if ix == 0:
                    break
            out.append("".join(name))
        return {"names": out, "next": ints(torch.randint(0, 2**31, (4,), generator=g))}

    with_r = chain(True)
    assert with_r["names"][:5] == LECTURE_NAMES, with_r["names"][:5]

    random.seed(42)
    shuffled = list(words)
    random.shuffle(shuffled)
    n1, n2 = int(0.8 * len(shuffled)), int(0.9 * len(shuffled))

    def examples(ws):  # block_size 3: one example per character plus the closing '.'
        return sum(len(w) + 1 for w in ws)

    return {"generated_by": COMMAND, "torch": torch.__version__, "python": sys.version.split()[0],
            "words": len(words),
            "bigram_chain": {"seed": 2147483647, "smoothing": 1, "replacement": with_r, "no_replacement": chain(False)},
            "shuffle_seed42": {"first": shuffled[:10], "last": shuffled[-10:],
                               "fnv1a64": fnv1a64("\n".join(shuffled).encode()),
                               "n1": n1, "n2": n2,
                               "block3_examples": [examples(shuffled[:n1]), examples(shuffled[n1:n2]),
                                                   examples(shuffled[n2:])]}}


# ---- CPython random ------------------------------------------------------------------------------

def python_goldens():
    out = []
    for seed in [42, 1337, 2147483647, 0, 2**32 - 1, 2**32, 2**40 + 5, 2**64 - 1]:
        r = random.Random(seed)
        case = {"seed": seed, "uniform_-1_1": [r.uniform(-1, 1) for _ in range(4)],
                "random": [r.random() for _ in range(6)]}
        case["getrandbits"] = [[k, r.getrandbits(k)] for k in (0, 1, 5, 31, 32, 33, 53, 64)]
        case["randbelow"] = [[n, r._randbelow(n)] for n in (1, 2, 7, 100, 2**31, 2**32, 2**32 + 5, 2**63, 2**64 - 1)]
        lst = list(range(20))
        r.shuffle(lst)
        case["shuffle_range20"] = lst
        case["random_after"] = r.random()
        out.append(case)
    return {"generated_by": COMMAND, "python": sys.version.split()[0], "cases": out}


# ---- numpy RandomState and make_moons ---------------------------------------------------------------

def numpy_streams():
    out = []
    for seed in [1337, 42, 0, 2147483647, 4294967295]:
        rs = np.random.RandomState(seed)
        case = {"seed": seed, "random_sample": [float(v) for v in rs.random_sample(6)],
                "standard_normal": [float(rs.standard_normal()) for _ in range(7)],
                "normal_0_0.1": [float(v) for v in rs.normal(0.0, 0.1, 3)],
                "normal_3_2": [float(v) for v in rs.normal(3.0, 2.0, 2)]}
        case["random_interval"] = [[m, int(rs.randint(0, m + 1, dtype=np.int64))]
                                   for m in (0, 1, 5, 99, 2**32 - 1, 2**32, 2**40 + 3, 2**62)]
        case["permutation10"] = [int(v) for v in rs.permutation(10)]
        lst = list(range(20))
        rs.shuffle(lst)
        case["shuffle_range20"] = lst
        case["random_after"] = float(rs.random_sample())
        out.append(case)
    return out


def moons_section():
    from sklearn.datasets import make_moons
    feats = np.core._multiarray_umath.__cpu_features__
    out = {"avx512_skx": bool(feats.get("AVX512_SKX"))}
    np.random.seed(1337)  # micrograd's demo.ipynb: np.random.seed(1337); make_moons(n_samples=100, noise=0.1)
    cases = [("global1337", 100, 0.1, None)]
    rs = np.random.RandomState(42)
    cases += [("rs42_seq", 7, 0.3, rs), ("rs42_seq", 1, 0.2, rs), ("rs42_seq", 2, 0.2, rs), ("rs42_seq", 8, 0.0, rs)]
    out["cases"] = []
    for name, n, noise, state in cases:
        X, y = make_moons(n_samples=n, noise=noise, random_state=state)
        out["cases"].append({"stream": name, "n_samples": n, "noise": noise,
                             "X": [[float(a), float(b)] for a, b in X], "y": [int(v) for v in y]})
    return out


def numpy_goldens():
    import sklearn
    svml = moons_section()
    if not svml["avx512_skx"]:
        sys.exit("error: numpy here does not use AVX-512 (SVML) for cos/sin; make the goldens on an AVX-512 "
                 "x86 machine, where make_moons' default NumpyTrig::Avx512Svml applies")
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=NPY_NO_AVX512)
    libm = json.loads(subprocess.run([sys.executable, __file__, "--child", "numpy-libm"], env=env,
                                     check=True, capture_output=True, text=True).stdout)
    assert not libm["avx512_skx"]
    x0 = svml["cases"][0]["X"][0]
    assert x0 == [1.1221146075409683, 0.08147717341718697], x0  # micrograd demo.ipynb's printed X[0]
    return {"generated_by": COMMAND, "numpy": np.__version__, "sklearn": sklearn.__version__,
            "streams": numpy_streams(), "make_moons": {"avx512_svml": svml["cases"], "libm": libm["cases"]}}


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.relpath(path, ROOT), os.path.getsize(path), "bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "names.txt"), help="names.txt")
    ap.add_argument("--child", choices=["torch-scalar", "numpy-libm"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "torch-scalar":
        print(json.dumps(torch_section(normal_only=True)))
        return
    if args.child == "numpy-libm":
        print(json.dumps(moons_section()))
        return
    if not os.path.exists(args.data):
        sys.exit("error: %s not found (copy names.txt into data/ or pass --data PATH)" % args.data)
    write("rng_torch.json", torch_goldens())
    write("rng_names.json", names_goldens(args.data))
    write("rng_python.json", python_goldens())
    write("rng_numpy.json", numpy_goldens())


if __name__ == "__main__":
    main()
