#!/usr/bin/python3
"""Stage 04-batchnorm in PyTorch: makemore_part3_bn.ipynb, cell by cell.

This is the Python side of stage 04-batchnorm. It is never needed to build, run or test the C++
program; it is used for two things:

  * goldens: the numbers the C++ tests compare against (tests/goldens/<kernel>/*.json, one folder
    per OpenBLAS kernel set, each file with the command that wrote it):
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 04-batchnorm/reference.py --goldens 04-batchnorm/tests/goldens
    (or ./z2h goldens 04-batchnorm; OPENBLAS_CORETYPE=Haswell in front makes Haswell's).
  * the side-by-side benchmark (04-batchnorm/bench.sh, docs/benchmarks.md): the default run,
      /usr/bin/python3 04-batchnorm/reference.py --threads 1

Modes (the same names as the C++ program's --mode):
  train   the MLP of the lecture's first half, in one of the --variant's of the video's loss log:
          original | softmax | tanh | kaiming | batchnorm (the default, the notebook's final cell)
  deep    the "PyTorch-ified" 6-layer net, 1001 steps, and its activation/gradient statistics
  bonus   the two "BONUS content" cells: Linear and Linear+BatchNorm statistics at 1000x1000
  e01     exercise 1: every weight and bias initialised to zero
  e02     exercise 2: fold BatchNorm into the preceding Linear and compare the inference outputs

Everything is the notebook's code; the variants are the video's intermediate states (the notebook
keeps only the last one, and a "loss log" of the others), reconstructed as the video shows them:
  original   C, W1, b1, W2, b2 = randn, unscaled (lecture 3's init)
  softmax    ... W2 * 0.01, b2 * 0           ("fix softmax confidently wrong")
  tanh       ... W1 * 0.2, b1 * 0.01         ("fix tanh layer too saturated at init")
  kaiming    ... W1 * (5/3)/sqrt(30)         ("semi-principled kaiming init")
  batchnorm  no b1; batch-norm with batch mean/std and running statistics (the notebook's cells 6-10)

Run it with Debian's /usr/bin/python3 (python3-torch 1.13.1, the lecture's PyTorch generation).
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common', 'tests'))
import reference_support as support  # noqa: E402 (names.txt and its split, goldens' command and JSON)

VARIANTS = ['original', 'softmax', 'tanh', 'kaiming', 'batchnorm']
LECTURE_SEED = 2147483647


# ---- the MLP of the lecture's first half (cells 6-10) --------------------------------------------
class MLP:
    """C -> concat -> W1 (+b1) [-> batch norm] -> tanh -> W2 + b2, the notebook's tensors by name."""

    def __init__(self, variant, g, n_embd=10, n_hidden=200, block_size=3, vocab_size=27):
        self.variant = variant
        self.bn = variant == 'batchnorm'
        fan_in = n_embd * block_size
        self.C = torch.randn((vocab_size, n_embd), generator=g)
        self.W1 = torch.randn((fan_in, n_hidden), generator=g)
        if not self.bn:  # the batch-norm net has no b1: the mean subtraction would cancel it
            self.b1 = torch.randn(n_hidden, generator=g)
        self.W2 = torch.randn((n_hidden, vocab_size), generator=g)
        self.b2 = torch.randn(vocab_size, generator=g)
        if variant != 'original':  # fix softmax confidently wrong: logits ~ 0 at init
            self.W2 *= 0.01
            self.b2 *= 0
        if variant == 'tanh':      # fix tanh layer too saturated at init
            self.W1 *= 0.2
        if variant in ('kaiming', 'batchnorm'):
            self.W1 *= (5 / 3) / (fan_in ** 0.5)
        if variant in ('tanh', 'kaiming'):
            self.b1 *= 0.01
        if self.bn:
            self.bngain = torch.ones((1, n_hidden))
            self.bnbias = torch.zeros((1, n_hidden))
            self.bnmean_running = torch.zeros((1, n_hidden))
            self.bnstd_running = torch.ones((1, n_hidden))
            self.parameters = [self.C, self.W1, self.W2, self.b2, self.bngain, self.bnbias]
        else:
            self.parameters = [self.C, self.W1, self.b1, self.W2, self.b2]
        for p in self.parameters:
            p.requires_grad = True

    def forward(self, X, training):
        """Logits for contexts X; in training mode also updates the running BN statistics.
        Keeps hpreact (before BN) and h for the step-0 plots."""
        emb = self.C[X]                              # (B, block_size, n_embd)
        embcat = emb.view(emb.shape[0], -1)          # (B, block_size*n_embd)
        hpreact = embcat @ self.W1                   # (B, n_hidden)
        if not self.bn:
            hpreact = hpreact + self.b1
        self.hpreact = hpreact
        if self.bn:
            if training:
                bnmeani = hpreact.mean(0, keepdim=True)
                bnstdi = hpreact.std(0, keepdim=True)
                hpreact = self.bngain * (hpreact - bnmeani) / bnstdi + self.bnbias
                with torch.no_grad():
                    self.bnmean_running = 0.999 * self.bnmean_running + 0.001 * bnmeani
                    self.bnstd_running = 0.999 * self.bnstd_running + 0.001 * bnstdi
            else:
                hpreact = self.bngain * (hpreact - self.bnmean_running) / self.bnstd_running + self.bnbias
        self.h = torch.tanh(hpreact)                 # (B, n_hidden)
        return self.h @ self.W2 + self.b2            # (B, vocab_size)


def train_mlp(model, splits, g, steps, quiet=False, max_steps_printed=None, on_step=None):
    """The notebook's loop: seeded randint minibatches of 32, lr 0.1 -> 0.01 at step 100000."""
    Xtr, Ytr = splits['train']
    batch_size = 32
    lossi = []
    shown = steps if max_steps_printed is None else max_steps_printed
    for i in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]
        logits = model.forward(Xb, training=True)
        loss = F.cross_entropy(logits, Yb)
        for p in model.parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 100000 else 0.01  # step learning rate decay
        for p in model.parameters:
            p.data += -lr * p.grad
        if i % 10000 == 0 and not quiet:
            print(f'{i:7d}/{shown:7d}: {loss.item():.4f}', flush=True)
        lossi.append(loss.item())
        if on_step is not None:
            on_step(i, model)
    return lossi


@torch.no_grad()
def split_loss_mlp(model, splits, split):
    x, y = splits[split]
    return F.cross_entropy(model.forward(x, training=False), y).item()


def sample_mlp(model, itos, n=20, seed=LECTURE_SEED + 10, block_size=3):
    return support.sample_names(lambda X: model.forward(X, training=False), itos, n, block_size,
                                torch.Generator().manual_seed(seed))


# ---- the "PyTorch-ified" modules (cell 13) -------------------------------------------------------
class Linear:
    def __init__(self, fan_in, fan_out, g, bias=True):
        self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in ** 0.5
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.training = True
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            xmean = x.mean(0, keepdim=True)  # batch mean
            xvar = x.var(0, keepdim=True)    # batch variance (unbiased, as the lecture)
        else:
            xmean = self.running_mean
            xvar = self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        self.out = self.gamma * xhat + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


def deep_net(g, n_embd=10, n_hidden=100, block_size=3, vocab_size=27):
    """Cell 13: C, then 6 Linear/BatchNorm1d(/Tanh) blocks, last gamma * 0.1; 47024 parameters."""
    C = torch.randn((vocab_size, n_embd), generator=g)
    layers = [Linear(n_embd * block_size, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh()]
    for _ in range(4):
        layers += [Linear(n_hidden, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh()]
    layers += [Linear(n_hidden, vocab_size, g, bias=False), BatchNorm1d(vocab_size)]
    with torch.no_grad():
        layers[-1].gamma *= 0.1  # last layer: make less confident
        for layer in layers[:-1]:
            if isinstance(layer, Linear):
                layer.weight *= 1.0  # the video tries 5/3 here; with batch norm it hardly matters
    parameters = [C] + [p for layer in layers for p in layer.parameters()]
    for p in parameters:
        p.requires_grad = True
    return C, layers, parameters


def deep_forward(C, layers, X):
    emb = C[X]
    x = emb.view(emb.shape[0], -1)
    for layer in layers:
        x = layer(x)
    return x


def run_deep(splits, itos, seed, steps, quiet=False):
    """Cells 13-20: train 1001 steps, print the four diagnostics, evaluate and sample."""
    g = torch.Generator().manual_seed(seed)
    C, layers, parameters = deep_net(g)
    n_params = sum(p.nelement() for p in parameters)
    say = (lambda *a: None) if quiet else print
    say(n_params)
    Xtr, Ytr = splits['train']
    batch_size = 32
    lossi, ud = [], []
    max_steps = 200000  # the notebook's loop; it breaks after step 1000
    for i in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]
        x = deep_forward(C, layers, Xb)
        loss = F.cross_entropy(x, Yb)
        for layer in layers:
            layer.out.retain_grad()
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 150000 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        if i % 10000 == 0 and not quiet:
            print(f'{i:7d}/{max_steps:7d}: {loss.item():.4f}')
        lossi.append(loss.item())
        with torch.no_grad():
            ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])

    stats = {'params': n_params, 'losses': lossi, 'activations': [], 'gradients': [], 'weights': []}
    for i, layer in enumerate(layers[:-1]):
        if isinstance(layer, Tanh):
            t = layer.out
            sat = ((t.abs() > 0.97).float().mean() * 100).item()
            say('layer %d (%10s): mean %+.2f, std %.2f, saturated: %.2f%%' % (i, 'Tanh', t.mean(), t.std(), sat))
            stats['activations'].append({'layer': i, 'mean': t.mean().item(), 'std': t.std().item(), 'saturated': sat})
    for i, layer in enumerate(layers[:-1]):
        if isinstance(layer, Tanh):
            t = layer.out.grad
            say('layer %d (%10s): mean %+f, std %e' % (i, 'Tanh', t.mean(), t.std()))
            stats['gradients'].append({'layer': i, 'mean': t.mean().item(), 'std': t.std().item()})
    for i, p in enumerate(parameters):
        t = p.grad
        if p.ndim == 2:
            ratio = (t.std() / p.std()).item()
            say('weight %10s | mean %+f | std %e | grad:data ratio %e' % (tuple(p.shape), t.mean(), t.std(), ratio))
            stats['weights'].append({'param': i, 'shape': list(p.shape), 'mean': t.mean().item(),
                                     'std': t.std().item(), 'grad_data': ratio, 'update_data_log10': ud[-1][i]})
    for layer in layers:
        layer.training = False
    with torch.no_grad():
        for split in ('train', 'val'):
            x, y = splits[split]
            stats[split] = F.cross_entropy(deep_forward(C, layers, x), y).item()
            say(split, stats[split])
    stats['samples'] = sample_deep(C, layers, itos)
    for s in stats['samples']:
        say(s)
    return stats


def sample_deep(C, layers, itos, n=20, seed=LECTURE_SEED + 10, block_size=3):
    return support.sample_names(lambda X: deep_forward(C, layers, X), itos, n, block_size,
                                torch.Generator().manual_seed(seed))


# ---- bonus cells ---------------------------------------------------------------------------------
def run_bonus(quiet=False):
    """The notebook's two "BONUS content" cells, printed as it prints them."""
    say = (lambda *a: None) if quiet else print
    out = {}
    g = torch.Generator().manual_seed(LECTURE_SEED)
    a = torch.randn((1000, 1), requires_grad=True, generator=g)     # a.grad = b.T @ c.grad
    b = torch.randn((1000, 1000), requires_grad=True, generator=g)  # b.grad = c.grad @ a.T
    c = b @ a
    loss = torch.randn(1000, generator=g) @ c
    a.retain_grad()
    b.retain_grad()
    c.retain_grad()
    loss.backward()
    lin = {'a std': a.std().item(), 'b std': b.std().item(), 'c std': c.std().item(),
           'c grad std': c.grad.std().item(), 'a grad std': a.grad.std().item(), 'b grad std': b.grad.std().item()}
    for k in ('a std', 'b std', 'c std'):
        say(f'{k}:', lin[k])
    say('-----')
    for k in ('c grad std', 'a grad std', 'b grad std'):
        say(f'{k}:', lin[k])
    out['linear'] = lin

    g = torch.Generator().manual_seed(LECTURE_SEED)
    n = 1000
    inp = torch.randn(n, requires_grad=True, generator=g)
    w = torch.randn((n, n), requires_grad=True, generator=g)
    x = w @ inp
    xmean = x.mean()
    xvar = x.var()
    out_ = (x - xmean) / torch.sqrt(xvar + 1e-5)
    loss = out_ @ torch.randn(n, generator=g)
    inp.retain_grad()
    x.retain_grad()
    w.retain_grad()
    out_.retain_grad()
    loss.backward()
    bn = {'inp std': inp.std().item(), 'w std': w.std().item(), 'x std': x.std().item(),
          'out std': out_.std().item(), 'out grad std': out_.grad.std().item(),
          'x grad std': x.grad.std().item(), 'w grad std': w.grad.std().item(),
          'inp grad std': inp.grad.std().item()}
    say()
    for k in ('inp std', 'w std', 'x std', 'out std'):
        say(f'{k}: ', bn[k])
    say('------')
    for k in ('out grad std', 'x grad std', 'w grad std', 'inp grad std'):
        say(f'{k}: ', bn[k])
    out['linear_bn'] = bn

    g = torch.Generator().manual_seed(LECTURE_SEED + 1)  # the normshow widget's base vector
    out['normshow_x'] = (torch.randn(5, generator=g) * 5).tolist()
    say()
    say('normshow x:', [round(v, 4) for v in out['normshow_x']])
    return out


# ---- exercises -----------------------------------------------------------------------------------
def run_e01(splits, seed, steps):
    """E01: every weight and bias zero (the tanh MLP with b1). Only b2 gets a gradient."""
    g = torch.Generator().manual_seed(seed)
    model = MLP('original', g)
    with torch.no_grad():
        for p in model.parameters:
            p.zero_()
    grads0 = {}

    def record(i, m):
        if i == 0:
            for name, p in zip(['C', 'W1', 'b1', 'W2', 'b2'], m.parameters):
                grads0[name] = p.grad.abs().max().item()

    lossi = train_mlp(model, splits, g, steps)
    # the gradients were taken before the update; recompute the step-0 gradient for the report
    g2 = torch.Generator().manual_seed(seed)
    m2 = MLP('original', g2)
    with torch.no_grad():
        for p in m2.parameters:
            p.zero_()
    train_mlp(m2, splits, g2, 1, quiet=True, on_step=record)
    _, Ytr = splits['train']
    freq = torch.bincount(Ytr, minlength=27).float() / Ytr.shape[0]
    unigram = -(freq * freq.log()).sum().item()
    res = {'losses': lossi, 'max_abs_grad_step0': grads0, 'unigram_entropy': unigram,
           'train': split_loss_mlp(model, splits, 'train'), 'val': split_loss_mlp(model, splits, 'val'),
           'nonzero': {name: int((p != 0).sum().item()) for name, p in
                       zip(['C', 'W1', 'b1', 'W2', 'b2'], model.parameters)}}
    print(json.dumps({k: v for k, v in res.items() if k != 'losses'}, indent=1))
    return res


def run_e02(splits, seed, steps):
    """E02: a 3-layer MLP with batch norms; fold each BN into the Linear before it; compare."""
    g = torch.Generator().manual_seed(seed)
    C = torch.randn((27, 10), generator=g)
    layers = [Linear(30, 100, g), BatchNorm1d(100), Tanh(),
              Linear(100, 100, g), BatchNorm1d(100), Tanh(),
              Linear(100, 27, g), BatchNorm1d(27)]
    with torch.no_grad():
        layers[-1].gamma *= 0.1
    parameters = [C] + [p for layer in layers for p in layer.parameters()]
    for p in parameters:
        p.requires_grad = True
    Xtr, Ytr = splits['train']
    for i in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        loss = F.cross_entropy(deep_forward(C, layers, Xtr[ix]), Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 100000 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        if i % 10000 == 0:
            print(f'{i:7d}/{steps:7d}: {loss.item():.4f}')
    for layer in layers:
        layer.training = False
    with torch.no_grad():
        folded = []
        for layer in layers:
            if isinstance(layer, BatchNorm1d):
                lin = folded[-1]
                scale = layer.gamma / torch.sqrt(layer.running_var + layer.eps)
                W = lin.weight * scale
                b = (lin.bias - layer.running_mean) * scale + layer.beta
                new = Linear.__new__(Linear)
                new.weight, new.bias = W, b.reshape(-1)
                folded[-1] = new
            else:
                folded.append(layer)
        x, y = splits['val']
        a = deep_forward(C, layers, x)
        b = deep_forward(C, folded, x)
        res = {'max_abs_diff': (a - b).abs().max().item(), 'val_bn': F.cross_entropy(a, y).item(),
               'val_folded': F.cross_entropy(b, y).item()}
    print(res)
    return res


# ---- module goldens: forward and backward of Linear -> BatchNorm1d -> Tanh -----------------------
def module_goldens():
    """A tiny batch through the three modules, all tensors from one seeded generator."""
    g = torch.Generator().manual_seed(42)
    x = torch.randn((8, 6), generator=g)
    lin = Linear(6, 5, g)                    # weight randn(6,5)/sqrt(6), bias zeros
    bn = BatchNorm1d(5)
    tanh = Tanh()
    with torch.no_grad():
        lin.bias += torch.randn(5, generator=g) * 0.1   # 5 < 16: torch's scalar (Box-Muller) path
        bn.gamma += torch.randn(5, generator=g) * 0.1
        bn.beta += torch.randn(5, generator=g) * 0.1
    dout = torch.randn((8, 5), generator=g)  # upstream gradient: loss = (out * dout).sum()
    for p in [x] + lin.parameters() + bn.parameters():
        p.requires_grad = True
    h = lin(x)
    y = bn(h)
    out = tanh(y)
    h.retain_grad()
    y.retain_grad()
    (out * dout).sum().backward()
    bn.training = False
    with torch.no_grad():
        out_eval = tanh(bn(lin(x)))
    fl = support.tolist
    return {
        'x': fl(x), 'weight': fl(lin.weight), 'bias': fl(lin.bias), 'gamma': fl(bn.gamma), 'beta': fl(bn.beta),
        'dout': fl(dout),
        'linear_out': fl(h), 'bn_out': fl(y), 'tanh_out': fl(out),
        'running_mean': fl(bn.running_mean), 'running_var': fl(bn.running_var), 'eval_out': fl(out_eval),
        'grad_x': fl(x.grad), 'grad_weight': fl(lin.weight.grad), 'grad_bias': fl(lin.bias.grad),
        'grad_gamma': fl(bn.gamma.grad), 'grad_beta': fl(bn.beta.grad),
        'grad_linear_out': fl(h.grad), 'grad_bn_out': fl(y.grad),
    }


# ---- the default run, and golden files -----------------------------------------------------------
def run_train(splits, itos, variant, seed, steps, quiet=False, step0_plots=None):
    g = torch.Generator().manual_seed(seed)
    model = MLP(variant, g)
    n_params = sum(p.nelement() for p in model.parameters)
    if not quiet:
        print(n_params)
    t0 = time.time()
    lossi = train_mlp(model, splits, g, steps, quiet=quiet)
    wall = time.time() - t0
    res = {'variant': variant, 'seed': seed, 'steps': steps, 'params': n_params, 'losses': lossi, 'wall_s': wall}
    for split in ('train', 'val', 'test'):
        res[split] = split_loss_mlp(model, splits, split)
        if not quiet:
            print(split, res[split])
    res['samples'] = sample_mlp(model, itos)
    if not quiet:
        print(f'{steps} steps in {wall:.1f} s = {steps / max(wall, 1e-9):.0f} steps/s')
    return res


def write_json(path, obj, command):
    """obj, then the command that wrote it and the OpenBLAS kernel set it ran on."""
    support.write_json(path, {**obj, 'command': command, 'openblas_core': support.openblas_core()})
    print('wrote', path, file=sys.stderr)


def write_goldens(splits, itos, base_dir):
    outdir = os.path.join(base_dir, support.openblas_core())  # one folder per kernel set: goldens/Haswell/...
    os.makedirs(outdir, exist_ok=True)
    cmd = support.command('04-batchnorm/reference.py')
    # 1. the default run's first 2000 steps, losses at full precision; the split losses and samples
    res = run_train(splits, itos, 'batchnorm', LECTURE_SEED, 2000, quiet=True)
    res.pop('wall_s')
    write_json(os.path.join(outdir, 'bn_mlp_2000.json'), res, cmd)
    # 2. step-0 loss of every variant at three seeds; short runs at other seeds and step counts
    step0 = {}
    for variant in VARIANTS:
        for seed in (LECTURE_SEED, 42, 1337):
            g = torch.Generator().manual_seed(seed)
            model = MLP(variant, g)
            step0[f'{variant}/{seed}'] = train_mlp(model, splits, g, 1, quiet=True)[0]
    runs = []
    for variant, seed, steps in (('batchnorm', 42, 700), ('batchnorm', 1337, 300), ('kaiming', 7, 500),
                                 ('original', LECTURE_SEED, 10)):
        r = run_train(splits, itos, variant, seed, steps, quiet=True)
        r.pop('wall_s')
        runs.append(r)
    write_json(os.path.join(outdir, 'variants.json'), {'step0': step0, 'runs': runs}, cmd)
    # 3. the deep net after 1001 steps
    deep = run_deep(splits, itos, LECTURE_SEED, 1001, quiet=True)
    write_json(os.path.join(outdir, 'deep_1001.json'), deep, cmd)
    # 4. modules, bonus
    write_json(os.path.join(outdir, 'modules.json'), module_goldens(), cmd)
    write_json(os.path.join(outdir, 'bonus.json'), run_bonus(quiet=True), cmd)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--mode', choices=['train', 'deep', 'bonus', 'e01', 'e02'], default='train')
    ap.add_argument('--variant', choices=VARIANTS, default='batchnorm')
    ap.add_argument('--seed', type=int, default=LECTURE_SEED)
    ap.add_argument('--steps', type=int, default=None, help='default: 200000 (train, e01), 1001 (deep), 20000 (e02)')
    ap.add_argument('--data', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'names.txt'))
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--losses', help='write the per-step losses (one per line) to this file')
    ap.add_argument('--json', help='mode train: write steps/s, wall time and the split losses to this file (bench.sh)')
    ap.add_argument('--quiet', action='store_true', help='mode train: print only the final losses')
    ap.add_argument('--goldens', metavar='DIR', help='write the test goldens into DIR/<OpenBLAS kernel>/ '
                    'and exit')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    if args.mode == 'bonus':
        run_bonus()
        return
    splits, itos = support.make_splits(args.data)
    if args.goldens:
        if os.environ.get('OPENBLAS_NUM_THREADS') != '1':  # torch.set_num_threads does not reach it
            sys.exit('error: make the goldens single-threaded: OPENBLAS_NUM_THREADS=1 ' + ' '.join(sys.argv))
        write_goldens(splits, itos, args.goldens)
        return
    if args.mode == 'train':
        res = run_train(splits, itos, args.variant, args.seed, 200000 if args.steps is None else args.steps, args.quiet)
        if not args.quiet:
            print(' '.join(res['samples']))
        if args.json:
            write_json(args.json, {'steps': res['steps'], 'wall_s': res['wall_s'],
                                   'steps_per_s': res['steps'] / max(res['wall_s'], 1e-9),
                                   'loss': {k: res[k] for k in ('train', 'val', 'test')}}, ' '.join(sys.argv))
    elif args.mode == 'deep':
        res = run_deep(splits, itos, args.seed, 1001 if args.steps is None else args.steps)
    elif args.mode == 'e01':
        res = run_e01(splits, args.seed, 200000 if args.steps is None else args.steps)
    else:
        res = run_e02(splits, args.seed, 20000 if args.steps is None else args.steps)
    if args.losses:
        with open(args.losses, 'w') as f:
            f.writelines(f'{v!r}\n' for v in res['losses'])


if __name__ == '__main__':
    main()
