#!/usr/bin/python3
"""Stage 06-wavenet in PyTorch: makemore_part5_cnn1.ipynb, cell by cell.

This is the Python side of stage 06-wavenet. It is never needed to build, run or test the C++
program; it is used for two things:

  * goldens: the numbers the C++ tests compare against (tests/goldens/modules.json and tests/goldens/<kernel>/*.json, each with the command
    and the OpenBLAS kernel that wrote it). Run it once with the machine's own kernel and once with
    OPENBLAS_CORETYPE=Haswell (the kernel most laptops get), one thread each:
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 06-wavenet/reference.py --goldens 06-wavenet/tests/goldens
      OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell /usr/bin/python3 06-wavenet/reference.py --goldens 06-wavenet/tests/goldens
  * the side-by-side benchmark (06-wavenet/bench.sh, docs/benchmarks.md): the default run,
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 06-wavenet/reference.py --threads 1

--variant picks a row of the notebook's "performance log" (the video's road to the final model):
  original      block 3, Embedding(27,10) -> FlattenConsecutive(3) -> Linear(30,200) BN Tanh -> Linear   12097
  context8      block 8, the same flat MLP over 8 characters (FlattenConsecutive(8), Linear(80,200))      22097
  hierarchical  block 8, three FlattenConsecutive(2) levels, n_embd 10, n_hidden 68, the buggy BatchNorm  22397
  bnfix         the same with BatchNorm1d over dims (0, 1) for 3-D input                                  22397
  scaled        n_embd 24, n_hidden 128: the notebook's final model (the default)                         76579
The "buggy BatchNorm" is the video's first version, x.mean(0) / x.var(0) whatever the input's rank:
for (B, T, C) input it keeps T separate statistics, and its running buffers become (1, T, C).

Every random number comes from the global generator seeded by torch.manual_seed(seed), in the
notebook's order: the layers' weights, 200000 randint minibatches, then the multinomial samples.

Run it with Debian's /usr/bin/python3 (python3-torch 1.13.1, the lecture's PyTorch generation).
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common', 'tests'))
import reference_support as support  # noqa: E402 (names.txt and its split, goldens' command and JSON)

VARIANTS = {  # name: (block_size, n_embd, n_hidden, hierarchical, fixed batchnorm)
    'original': (3, 10, 200, False, True),
    'context8': (8, 10, 200, False, True),
    'hierarchical': (8, 10, 68, True, False),
    'bnfix': (8, 10, 68, True, True),
    'scaled': (8, 24, 128, True, True),
}


# ---- the notebook's modules (cell 7) ---------------------------------------------------------------
class Linear:
    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = torch.randn((fan_in, fan_out)) / fan_in ** 0.5  # note: kaiming init
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1, fixed=True):
        self.eps = eps
        self.momentum = momentum
        self.training = True
        self.fixed = fixed  # False: the video's first version, which reduces over dim 0 only
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            if x.ndim == 2 or not self.fixed:
                dim = 0
            elif x.ndim == 3:
                dim = (0, 1)
            xmean = x.mean(dim, keepdim=True)  # batch mean
            xvar = x.var(dim, keepdim=True)  # batch variance
        else:
            xmean = self.running_mean
            xvar = self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)  # normalize to unit variance
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


class Embedding:
    def __init__(self, num_embeddings, embedding_dim):
        self.weight = torch.randn((num_embeddings, embedding_dim))

    def __call__(self, IX):
        self.out = self.weight[IX]
        return self.out

    def parameters(self):
        return [self.weight]


class FlattenConsecutive:
    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        self.out = x
        return self.out

    def parameters(self):
        return []


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        self.out = x
        return self.out

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


# ---- the model (cell 9) ----------------------------------------------------------------------------
def make_model(variant, vocab_size=27):
    block_size, n_embd, n_hidden, hierarchical, fixed = VARIANTS[variant]
    if hierarchical:
        layers = [Embedding(vocab_size, n_embd)]
        fan_in = n_embd * 2
        for _ in range(3):
            layers += [FlattenConsecutive(2), Linear(fan_in, n_hidden, bias=False),
                       BatchNorm1d(n_hidden, fixed=fixed), Tanh()]
            fan_in = n_hidden * 2
        layers += [Linear(n_hidden, vocab_size)]
    else:
        layers = [Embedding(vocab_size, n_embd), FlattenConsecutive(block_size),
                  Linear(n_embd * block_size, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
                  Linear(n_hidden, vocab_size)]
    model = Sequential(layers)
    with torch.no_grad():
        model.layers[-1].weight *= 0.1  # last layer make less confident
    for p in model.parameters():
        p.requires_grad = True
    return model


def set_training(model, on):
    for layer in model.layers:
        layer.training = on


# ---- training (cell 10) ----------------------------------------------------------------------------
def train(model, Xtr, Ytr, steps, lr_decay_step=150000, quiet=False, max_steps_printed=None):
    """The notebook's loop. Returns the losses (loss.item(), not their log10)."""
    parameters = model.parameters()
    batch_size = 32
    losses = []
    shown = steps if max_steps_printed is None else max_steps_printed
    for i in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (batch_size,))
        Xb, Yb = Xtr[ix], Ytr[ix]
        logits = model(Xb)
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < lr_decay_step else 0.01  # step learning rate decay
        for p in parameters:
            p.data += -lr * p.grad
        if i % 10000 == 0 and not quiet:
            print(f'{i:7d}/{shown:7d}: {loss.item():.4f}', flush=True)
        losses.append(loss.item())
    return losses


@torch.no_grad()
def split_loss(model, data, split):
    x, y = data[split]
    return F.cross_entropy(model(x), y).item()


def sample(model, itos, block_size, n=20):
    return support.sample_names(model, itos, n, block_size)  # draws from the global generator


def run(variant, seed, steps, data, itos, quiet=False, samples=20, lr_decay_step=150000):
    """The notebook from torch.manual_seed to the last sample; a dict of everything it printed."""
    block_size = VARIANTS[variant][0]
    torch.manual_seed(seed)
    model = make_model(variant)
    params = sum(p.nelement() for p in model.parameters())
    if not quiet:
        print(params)
    Xtr, Ytr = data['train']
    t0 = time.time()
    losses = train(model, Xtr, Ytr, steps, lr_decay_step, quiet)
    wall = time.time() - t0
    set_training(model, False)
    loss = {s: split_loss(model, data, s) for s in ('train', 'val', 'test')}
    if not quiet:
        print('train', loss['train'])
        print('val', loss['val'])
    names = sample(model, itos, block_size, samples)
    if not quiet:
        print('\n'.join(names))
        print(f'{steps} steps in {wall:.1f} s ({steps / max(wall, 1e-9):.0f} steps/s)')
    return {'variant': variant, 'seed': seed, 'steps': steps, 'params': params, 'losses': losses,
            'printed': [f'{i:7d}/{steps:7d}: {losses[i]:.4f}' for i in range(0, steps, 10000)],
            'loss': loss, 'samples': names, 'wall_s': wall, 'steps_per_s': steps / max(wall, 1e-9),
            'model': model}


# ---- goldens ---------------------------------------------------------------------------------------
def module_goldens():
    """Each module's forward and backward on small inputs, d(sum(out * w))/d(input and parameters).
    The inputs are stored in the file, so the C++ side needs no random numbers to use them."""
    torch.manual_seed(1234)
    cases = {}

    def backward_case(name, module, x, params):
        x = x.clone().requires_grad_(x.dtype == torch.float32)
        for p in params:
            p.requires_grad_(True)
        out = module(x)
        w = torch.randn(out.shape)
        (out * w).sum().backward()
        case = {'x': support.tolist(x), 'x_shape': list(x.shape),
                'out': support.tolist(out), 'out_shape': list(out.shape), 'w': support.tolist(w)}
        if x.dtype == torch.float32:
            case['dx'] = support.tolist(x.grad)
        for i, p in enumerate(params):
            case[f'p{i}'] = support.tolist(p)
            case[f'dp{i}'] = support.tolist(p.grad)
        cases[name] = case

    lin = Linear(6, 5)
    lin.bias = torch.randn(5)
    backward_case('linear_3d', lin, torch.randn(3, 4, 6), [lin.weight, lin.bias])
    lin2 = Linear(6, 5, bias=False)
    backward_case('linear_2d_nobias', lin2, torch.randn(7, 6), [lin2.weight])

    for name, shape, fixed in [('batchnorm_2d', (8, 5), True), ('batchnorm_3d', (4, 3, 5), True),
                               ('batchnorm_3d_buggy', (4, 3, 5), False)]:
        torch.manual_seed(99)
        bn = BatchNorm1d(5, fixed=fixed)
        bn.gamma = torch.randn(5)
        bn.beta = torch.randn(5)
        x = torch.randn(*shape) * 3 + 0.5
        backward_case(name, bn, x, [bn.gamma, bn.beta])
        # the buffers after this call and one more, then eval mode (a fresh call: no_grad)
        with torch.no_grad():
            x2 = torch.randn(*shape) * 2 + 1
            bn.training = True
            bn(x2)
            x_eval = torch.randn(*shape)
            bn.training = False
            y = bn(x_eval)
        cases[name].update({'x2': support.tolist(x2), 'running_mean': support.tolist(bn.running_mean),
                            'running_mean_shape': list(bn.running_mean.shape),
                            'running_var': support.tolist(bn.running_var), 'x_eval': support.tolist(x_eval),
                            'out_eval': support.tolist(y)})

    backward_case('tanh', Tanh(), torch.randn(4, 6) * 2, [])
    backward_case('flatten_consecutive_2', FlattenConsecutive(2), torch.randn(3, 8, 4), [])
    backward_case('flatten_consecutive_squeeze', FlattenConsecutive(4), torch.randn(3, 4, 5), [])
    emb = Embedding(7, 3)
    backward_case('embedding', emb, torch.randint(0, 7, (4, 5)), [emb.weight])
    seq = Sequential([Embedding(7, 3), FlattenConsecutive(2), Linear(6, 4, bias=False), BatchNorm1d(4), Tanh(),
                      FlattenConsecutive(2), Linear(8, 5)])
    backward_case('sequential', seq, torch.randint(0, 7, (6, 4)), seq.parameters())
    return cases


def write_goldens(outdir, data, itos):
    meta = support.stamp(support.command('06-wavenet/reference.py'))
    core = meta['openblas_core']
    os.makedirs(os.path.join(outdir, core), exist_ok=True)  # the runs: one folder per kernel set

    def dump(name, obj):
        support.write_json(os.path.join(outdir, name), {**meta, **obj}, indent=None, separators=(',', ':'), end='')
        print('wrote', os.path.join(outdir, name), file=sys.stderr)

    if core == 'Prescott' or not os.path.exists(os.path.join(outdir, 'modules.json')):
        dump('modules.json', {'cases': module_goldens()})
    # the default run's first 2000 steps, then evaluation and samples as after training
    r = run('scaled', 42, 2000, data, itos, quiet=True)
    dump(f'{core}/default_2000.json', {k: r[k] for k in ('seed', 'steps', 'params', 'losses', 'loss', 'samples')})
    # other seeds, variants and step counts: printed losses, final train/val/test, samples
    runs = []
    for variant, seed, steps in [('scaled', 1337, 3000), ('hierarchical', 7, 2500), ('original', 2024, 2000),
                                 ('bnfix', 42, 1500), ('context8', 5, 1200)]:
        d, it = support.make_splits(args.data, VARIANTS[variant][0])
        r = run(variant, seed, steps, d, it, quiet=True)
        runs.append({k: r[k] for k in ('variant', 'seed', 'steps', 'params', 'loss', 'samples')} |
                    {'losses': r['losses'][::100] + [r['losses'][-1]]})
    dump(f'{core}/runs.json', {'runs': runs, 'losses_every': 100})


def cells(data, itos):
    """The video's teaching cells, at init (seed 42): a batch of 4, each layer's output shape."""
    torch.manual_seed(42)
    model = make_model('scaled')
    Xtr, _ = data['train']
    ix = torch.randint(0, Xtr.shape[0], (4,))
    Xb = Xtr[ix]
    model(Xb)
    print(Xb.shape)
    print(Xb)
    for layer in model.layers:
        print(layer.__class__.__name__, ':', tuple(layer.out.shape))


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=os.path.join(os.path.dirname(__file__), '..', 'data', 'names.txt'))
    ap.add_argument('--variant', default='scaled', choices=list(VARIANTS))
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--steps', type=int, default=200000)
    ap.add_argument('--lr-decay-step', type=int, default=150000)
    ap.add_argument('--samples', type=int, default=20)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--quiet', action='store_true')
    ap.add_argument('--json', help='write the run (losses, split losses, samples, speed) here')
    ap.add_argument('--goldens', metavar='DIR', help='write the test goldens into DIR')
    ap.add_argument('--cells', action='store_true', help="print the video's batch-of-4 shape cell")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data, itos = support.make_splits(args.data, VARIANTS[args.variant][0])
    if args.goldens:
        write_goldens(args.goldens, data, itos)
    elif args.cells:
        cells(data, itos)
    else:
        print(*[list(data[s][0].shape) for s in ('train', 'val', 'test')])
        r = run(args.variant, args.seed, args.steps, data, itos, args.quiet, args.samples, args.lr_decay_step)
        if args.json:
            r.pop('model')
            r['openblas_core'] = support.openblas_core()
            r['threads'] = args.threads
            support.write_json(args.json, r, indent=None, end='')
