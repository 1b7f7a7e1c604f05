"""What the PyTorch scripts of the course share: the stages' reference.py and the golden makers here.

None of it is lecture code (that stays in each stage's reference.py, next to the notebook it
follows); it is the plumbing around it, written once:

  openblas_core()           the OpenBLAS kernel set torch's products run on (goldens go in a folder per set)
  command(script)           the command line that ran a script, with the environment that decides its bits
  stamp(command)            {'command', 'openblas_core', 'torch'}: what every golden file records first
  write_json(path, obj)     a JSON file written whole (a temporary file, then a rename), format as asked
  tolist, num, flat, digest a tensor as a flat list; floats to 9 significant digits (exact for float32)
  the makemore data         load_words, make_vocab, split_words, build_dataset, make_splits: lectures 2-6's
                            names.txt, vocabulary, random.seed(42) 80/10/10 split and (context, next) pairs
  sample_names(logits_of)   lectures 3-6's sampling loop around any model (common/data/sample_names.hpp's twin)

A script imports it with two lines relative to its own file, e.g. from <stage>/reference.py:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common', 'tests'))
    import reference_support as support
It imports torch only inside the functions that need it, so a script can set OPENBLAS_NUM_THREADS
before torch (and OpenBLAS) load.
"""
import ctypes
import json
import math
import os
import random
import sys


# ---- the environment that decides the bits ------------------------------------------------------
def openblas_core():
    """The kernel set OpenBLAS picked for this CPU (OPENBLAS_CORETYPE overrides it), e.g. 'Haswell'.

    Every product goes through OpenBLAS's sgemm, whose summation order is the kernel's, so long runs
    come out differently under each. The goldens therefore go into a folder named after the kernel
    that made them, and the C++ tests compare bit for bit against the folder of their own kernel."""
    try:
        lib = ctypes.CDLL('libopenblas.so.0')
    except OSError:
        return 'unknown'
    lib.openblas_get_corename.restype = ctypes.c_char_p
    return lib.openblas_get_corename().decode().strip()


def command(script):
    """'OPENBLAS_NUM_THREADS=1 [OPENBLAS_CORETYPE=X] /usr/bin/python3 <script> <this run's arguments>':
    the command line that makes a script's output again, with the environment it ran in."""
    env = [f'{k}={os.environ[k]}' for k in ('OPENBLAS_NUM_THREADS', 'OPENBLAS_CORETYPE') if k in os.environ]
    return ' '.join(env + ['/usr/bin/python3', script] + sys.argv[1:])


def stamp(cmd):
    """The fields a golden file starts with: the command that wrote it, the kernel set, torch's version."""
    import torch
    return {'command': cmd, 'openblas_core': openblas_core(), 'torch': torch.__version__}


def write_json(path, obj, indent=1, separators=None, end='\n'):
    """json.dump(obj, indent=indent, separators=separators) and `end`, written whole or not at all."""
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=indent, separators=separators)
        f.write(end)
    os.replace(tmp, path)


# ---- tensors as JSON numbers ----------------------------------------------------------------------
def tolist(t):
    """A tensor's values as one flat Python list."""
    return t.detach().reshape(-1).tolist()


def num(v):
    """A float with 9 significant digits (round-trips float32); 'nan', 'inf', '-inf' as strings."""
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)  # JSON has no such numbers
    return float('%.9g' % v)


def flat(t):
    """A tensor's values as one flat list of num()s."""
    return [num(v) for v in tolist(t)]


def digest(t):
    """The float64 sum of a tensor: what a C++ test checks first, to know it drew the same inputs."""
    return t.detach().double().sum().item()


# ---- the makemore data (lectures 2-6) -------------------------------------------------------------
def load_words(path):
    """names.txt: one name a line."""
    with open(path) as f:
        return f.read().splitlines()


def make_vocab(words):
    """stoi, itos: '.' is 0, the letters 1..26 in sorted order."""
    chars = sorted(list(set(''.join(words))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi['.'] = 0
    itos = {i: s for s, i in stoi.items()}
    return stoi, itos


def split_words(words, seed=42):
    """The makemore split: random.seed(42); random.shuffle(words); 80% train, 10% dev/val, 10% test."""
    words = list(words)
    random.seed(seed)
    random.shuffle(words)
    n1 = int(0.8 * len(words))
    n2 = int(0.9 * len(words))
    return words[:n1], words[n1:n2], words[n2:]


def build_dataset(words, block_size, stoi):
    """Every (context of block_size previous characters, next character) pair of every word, as X, Y."""
    import torch
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + '.':
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append
    return torch.tensor(X), torch.tensor(Y)


def make_splits(words, block_size=3):
    """{'train': (X, Y), 'val': ..., 'test': ...} of the makemore split, and itos. `words`: a list, or
    the path of names.txt."""
    if isinstance(words, str):
        words = load_words(words)
    stoi, itos = make_vocab(words)
    train, val, test = split_words(words)
    return {'train': build_dataset(train, block_size, stoi), 'val': build_dataset(val, block_size, stoi),
            'test': build_dataset(test, block_size, stoi)}, itos


def sample_names(logits_of, itos, n, block_size, g=None):
    """The notebooks' sampling loop: from the context '...', softmax(logits_of(context)) -> one draw
    (from g, or torch's global generator where g is None) -> slide the context, until '.'."""
    import torch
    import torch.nn.functional as F
    names = []
    with torch.no_grad():
        for _ in range(n):
            out = []
            context = [0] * block_size
            while True:
                logits = logits_of(torch.tensor([context]))
                probs = F.softmax(logits, dim=1)
                ix = torch.multinomial(probs, num_samples=1, generator=g).item()
                context = context[1:] + [ix]
                out.append(ix)
                if ix == 0:
                    break
            names.append(''.join(itos[i] for i in out))
    return names
