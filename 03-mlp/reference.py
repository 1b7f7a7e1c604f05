#!/usr/bin/python3
"""Stage 03-mlp in PyTorch: the final version of makemore_part2_mlp.ipynb (Bengio et al. 2003).

This is the Python side of stage 03-mlp. It is never needed to build, run or test the C++ program;
it is used for two things:

  * goldens: the numbers the C++ tests compare against, in tests/goldens/<kernel>/ (init digest,
    the first 300 minibatch losses (1000 for the default run), step-0 losses for other seeds,
    samples, the lr-finder's first losses, the overfit-one-batch demo), one folder per OpenBLAS
    kernel set (see below):
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 03-mlp/reference.py --goldens 03-mlp/tests/goldens
    (or ./z2h goldens 03-mlp; OPENBLAS_CORETYPE=Haswell in front makes Haswell's).
  * the side-by-side benchmark (03-mlp/bench.sh, docs/benchmarks.md): the default 200k-step run,
      /usr/bin/python3 03-mlp/reference.py --threads 1
  * the notebook's first training, which overfits the 32 examples of the first five names:
      /usr/bin/python3 03-mlp/reference.py --overfit-batch
  * and it reads the C++ program's checkpoint, evaluates and samples it with PyTorch:
      /usr/bin/python3 03-mlp/reference.py --load out/03-mlp/model.safetensors

The model and the loop are the notebook's, line for line, with one difference: the notebook drew
its minibatch indices from torch's *global, unseeded* generator (`torch.randint(0, N, (32,))`), so
nobody can reproduce its losses. Here they come from the seeded generator `g` that made the
parameters, continuing after them, as lecture 4 does: `torch.randint(0, N, (32,), generator=g)`.

Run it with Debian's /usr/bin/python3 (python3-torch 1.13.1, the lecture's PyTorch generation).
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common', 'tests'))
import reference_support as support  # noqa: E402 (names.txt, the vocabulary, the split, goldens' JSON)
from safetensors_check import load as load_safetensors  # noqa: E402 (a checkpoint of the C++ program)


# ---- model ---------------------------------------------------------------------------------------
def init_params(cfg, g):
    """The notebook's parameters, drawn in its order with unscaled randn (cfg.init == 'lecture').

    'tuned' (exercise E02) draws the very same numbers and only scales them: Kaiming-like W1,
    small b1, and a near-zero output layer, so the initial predictions are almost uniform.
    'direct' (exercise E03) adds Bengio et al.'s direct embedding->output weights W3, drawn last.
    """
    n_in = cfg.block_size * cfg.emb
    C = torch.randn((27, cfg.emb), generator=g)
    W1 = torch.randn((n_in, cfg.hidden), generator=g)
    b1 = torch.randn(cfg.hidden, generator=g)
    W2 = torch.randn((cfg.hidden, 27), generator=g)
    b2 = torch.randn(27, generator=g)
    params = {'C': C, 'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2}
    if cfg.direct:
        params['W3'] = torch.randn((n_in, 27), generator=g)
    if cfg.init == 'tuned':
        with torch.no_grad():
            W1 *= (5 / 3) / n_in ** 0.5
            b1 *= 0.01
            W2 *= 0.01
            b2 *= 0
            if cfg.direct:
                params['W3'] *= 0.01
    for p in params.values():
        p.requires_grad = True
    return params


def forward(params, X, block_size, emb_dim):
    emb = params['C'][X]                                              # (B, block_size, emb)
    x = emb.view(-1, block_size * emb_dim)                            # (B, block_size*emb)
    h = torch.tanh(x @ params['W1'] + params['b1'])                   # (B, hidden)
    logits = h @ params['W2'] + params['b2']                          # (B, 27)
    if 'W3' in params:
        logits = logits + x @ params['W3']                            # direct connections
    return logits


# ---- training ------------------------------------------------------------------------------------
def train(params, Xtr, Ytr, cfg, g, lrs=None, quiet=False, log_every=10000):
    """Minibatch SGD. Returns the minibatch loss of every step, computed before its update."""
    losses = []
    steps = len(lrs) if lrs is not None else cfg.steps
    for i in range(steps):
        # minibatch construct: from the seeded g (the notebook used the global unseeded generator)
        ix = torch.randint(0, Xtr.shape[0], (cfg.batch_size,), generator=g)
        logits = forward(params, Xtr[ix], cfg.block_size, cfg.emb)
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in params.values():
            p.grad = None
        loss.backward()
        if lrs is not None:
            lr = lrs[i]
        else:
            lr = cfg.lr if i < cfg.decay_step else cfg.lr_final
        for p in params.values():
            p.data += -lr * p.grad
        if not quiet and i % log_every == 0:
            print(f'{i:7d}/{steps:7d}: {loss.item():.4f}', flush=True)
        losses.append(loss.item())
    return losses


@torch.no_grad()
def split_loss(params, X, Y, cfg):
    return F.cross_entropy(forward(params, X, cfg.block_size, cfg.emb), Y).item()


def sample(params, cfg, itos, n, seed):
    return support.sample_names(lambda X: forward(params, X, cfg.block_size, cfg.emb), itos, n, cfg.block_size,
                                torch.Generator().manual_seed(seed))


# ---- overfitting one batch ---------------------------------------------------------------------------
def overfit_batch(words, stoi, cfg, steps, n_words=5):
    """The notebook's first training: the examples of words[:5] (32 with block_size 3), all of them
    in every step, with C (27, 2), W1 (6, 100), b1, W2 (100, 27), b2 (3481 parameters) drawn from
    Generator().manual_seed(2147483647), plain SGD at lr 0.1 for 1000 steps. 32 examples and 3481
    parameters: the net memorises them, except where one context is followed by several characters
    ('...' starts all five names). Returns the parameters, X, Y and the loss of every step."""
    X, Y = support.build_dataset(words[:n_words], cfg.block_size, stoi)
    g = torch.Generator().manual_seed(cfg.seed)
    params = init_params(cfg, g)
    losses = []
    for _ in range(steps):
        logits = forward(params, X, cfg.block_size, cfg.emb)
        loss = F.cross_entropy(logits, Y)
        for p in params.values():
            p.grad = None
        loss.backward()
        for p in params.values():
            p.data += -cfg.lr * p.grad
        losses.append(loss.item())
    return params, X, Y, losses


# ---- goldens -------------------------------------------------------------------------------------
def digest(t):
    """A small exact fingerprint of a tensor: shape, first/last 4 values and float64 sums."""
    flat = t.detach().reshape(-1).double()
    return {
        'shape': list(t.shape),
        'first': flat[:4].tolist(),
        'last': flat[-4:].tolist(),
        'sum': flat.sum().item(),
        'sum_abs': flat.abs().sum().item(),
    }


def run_for_goldens(cfg, splits, itos, steps, samples=0):
    """Init digest, `steps` minibatch losses, and optionally samples before and after them."""
    g = torch.Generator().manual_seed(cfg.seed)
    params = init_params(cfg, g)
    out = {'init': {k: digest(v) for k, v in params.items()}}
    if samples:
        out['samples_init'] = sample(params, cfg, itos, samples, cfg.seed + 10)
    cfg_steps = argparse.Namespace(**vars(cfg))
    cfg_steps.steps = steps
    out['losses'] = train(params, *splits['train'], cfg_steps, g, quiet=True)
    if samples:
        out['eval'] = {s: split_loss(params, *splits[s], cfg) for s in ('train', 'val', 'test')}
        out['samples'] = sample(params, cfg, itos, samples, cfg.seed + 10)
    return out


def write_goldens(base_dir, words, base):
    meta = support.stamp(support.command('03-mlp/reference.py'))
    meta['threads'] = torch.get_num_threads()
    directory = os.path.join(base_dir, meta['openblas_core'])  # one folder per kernel set: tests/goldens/Haswell/...
    os.makedirs(directory, exist_ok=True)

    def cfg_with(**kw):
        c = argparse.Namespace(**vars(base))
        for k, v in kw.items():
            setattr(c, k, v)
        c.steps = 0
        return c

    def dump(name, obj):
        support.write_json(os.path.join(directory, name), {**meta, **obj})

    splits, itos = support.make_splits(words, base.block_size)
    sizes = {s: list(splits[s][0].shape) for s in splits}
    config_keys = ('seed', 'block_size', 'emb', 'hidden', 'batch_size', 'lr', 'lr_final',
                   'decay_step', 'init', 'direct')

    # 1. the default configuration and the tuned init of exercise E02: init digest, 20 samples
    #    from the untrained model, the minibatch loss of steps 0..299 (each before its update),
    #    the full-split losses and 20 samples after them
    for name, kw in (('default_300.json', {}), ('tuned_300.json', {'init': 'tuned'})):
        cfg = cfg_with(**kw)
        r = run_for_goldens(cfg, splits, itos, 300, samples=20)
        dump(name, {'what': 'init digest, samples of the untrained model (seed+10), minibatch '
                    'losses of steps 0..299, full-split losses and samples (seed+10) after them',
                    'config': {k: getattr(cfg, k) for k in config_keys}, 'split_sizes': sizes, **r})

    # 1b. the default (chaotic, lecture-init) run for longer: the minibatch losses of steps 0..999.
    #     The C++ step reproduces PyTorch's arithmetic to the bit, so these match exactly.
    cfg = cfg_with()
    r = run_for_goldens(cfg, splits, itos, 1000)
    dump('default_1000.json', {'what': 'minibatch losses of steps 0..999 of the default run',
                               'config': {k: getattr(cfg, k) for k in config_keys},
                               'losses': r['losses']})

    # 2. the step-0 minibatch loss of the default model for other seeds (each a fresh generator)
    step0 = {}
    for s in [0, 1, 42, 1337, 3407, 123456789, 2**40 + 7]:
        step0[str(s)] = run_for_goldens(cfg_with(seed=s), splits, itos, 1)['losses'][0]
    dump('step0_seeds.json', {'what': 'step-0 minibatch loss of the default model, other --seed',
                              'step0': step0})

    # 3. other configurations: the first 20 minibatch losses
    variants = {}
    for name, kw in {'emb2_hidden100': dict(emb=2, hidden=100),
                     'direct': dict(direct=True),
                     'tuned_direct': dict(init='tuned', direct=True),
                     'block5_emb16_hidden64_batch50': dict(block_size=5, emb=16, hidden=64,
                                                           batch_size=50)}.items():
        c = cfg_with(**kw)
        sp = splits if c.block_size == base.block_size else support.make_splits(words, c.block_size)[0]
        r = run_for_goldens(c, sp, itos, 20)
        variants[name] = {'config': {k: getattr(c, k) for k in config_keys},
                          'split_sizes': {s: list(sp[s][0].shape) for s in sp},
                          'init': r['init'], 'losses': r['losses']}
    dump('variants_20.json', {'what': 'init digest and the first 20 minibatch losses of other '
                              'configurations', 'variants': variants})

    # 4. the learning-rate finder: from the default init, step i uses lr = 10**lre[i]
    g = torch.Generator().manual_seed(base.seed)
    params = init_params(base, g)
    lre = torch.linspace(-3, 0, 1000)
    lrs = 10 ** lre
    losses = train(params, *splits['train'], base, g, lrs=lrs, quiet=True)
    dump('lr_find.json', {'what': 'lr finder from the default init: lre = linspace(-3, 0, 1000), '
                          'lr = 10**lre (float32); 1000 steps, losses of the first 100 and the '
                          'mean of the last 100',
                          'lre_first': lre[:5].tolist(), 'lre_mid': lre[498:502].tolist(),
                          'lre_last': lre[-5:].tolist(),
                          'lr_first': lrs[:5].tolist(), 'lr_last': lrs[-5:].tolist(),
                          'losses_first100': losses[:100],
                          'mean_loss_last100': sum(losses[-100:]) / 100})


    # 5. overfitting one batch: the notebook's first training (words[:5], C 27x2, hidden 100,
    #    lr 0.1, 1000 full-batch steps): init digest, every loss, and logits.max(1) at the end
    cfg = cfg_with(emb=2, hidden=100)
    params, X, Y, losses = overfit_batch(words, support.make_vocab(words)[0], cfg, 1000)
    with torch.no_grad():
        best = forward(params, X, cfg.block_size, cfg.emb).max(1)
    g = torch.Generator().manual_seed(cfg.seed)
    dump('overfit_batch.json', {'what': 'overfitting one batch: the examples of words[:5], C 27x2, '
                                'hidden 100, lr 0.1, full batch; init digest, the loss of steps '
                                '0..999 (each before its update), logits.max(1) after them',
                                'config': {k: getattr(cfg, k) for k in config_keys},
                                'X': X.tolist(), 'Y': Y.tolist(),
                                'init': {k: digest(v) for k, v in init_params(cfg, g).items()},
                                'losses': losses, 'max_values': best.values.tolist(),
                                'max_indices': best.indices.tolist()})


# ---- main ----------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default='data/names.txt')
    ap.add_argument('--seed', type=int, default=2147483647)
    ap.add_argument('--steps', type=int, default=200000)
    ap.add_argument('--block-size', type=int, default=3)
    ap.add_argument('--emb', type=int, default=10)
    ap.add_argument('--hidden', type=int, default=200)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--lr-final', type=float, default=0.01)
    ap.add_argument('--decay-step', type=int, default=100000)
    ap.add_argument('--init', choices=['lecture', 'tuned'], default='lecture')
    ap.add_argument('--direct', action='store_true')
    ap.add_argument('--samples', type=int, default=20)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--quiet', action='store_true')
    ap.add_argument('--load', metavar='PATH', help='evaluate and sample a checkpoint of the C++ '
                    'program (model.safetensors) instead of training')
    ap.add_argument('--json', help='write the run (printed lines, losses, samples, timing) as JSON')
    ap.add_argument('--overfit-batch', action='store_true', help="the notebook's first training: "
                    'the examples of the first 5 names, full batch, until memorised (emb 2, hidden 100, '
                    '1000 steps unless given)')
    ap.add_argument('--goldens', metavar='DIR', help='write the test goldens into DIR/<OpenBLAS kernel>/ '
                    'and exit')
    cfg = ap.parse_args()
    torch.set_num_threads(cfg.threads)

    words = support.load_words(cfg.data)
    if cfg.goldens:
        if os.environ.get('OPENBLAS_NUM_THREADS') != '1':  # torch.set_num_threads does not reach it
            sys.exit('error: make the goldens single-threaded: OPENBLAS_NUM_THREADS=1 ' + ' '.join(sys.argv))
        write_goldens(cfg.goldens, words, cfg)
        return

    if cfg.overfit_batch:
        if '--emb' not in sys.argv:
            cfg.emb = 2
        if '--hidden' not in sys.argv:
            cfg.hidden = 100
        if '--steps' not in sys.argv:
            cfg.steps = 1000
        stoi, _ = support.make_vocab(words)
        params, X, Y, losses = overfit_batch(words, stoi, cfg, cfg.steps)
        print('X', tuple(X.shape), 'Y', tuple(Y.shape), 'params', sum(p.nelement() for p in params.values()))
        for i in range(0, cfg.steps, 100):
            print(f'{i:7d}/{cfg.steps:7d}: {losses[i]:.4f}')
        print('loss', losses[-1])
        with torch.no_grad():
            best = forward(params, X, cfg.block_size, cfg.emb).max(1)
        print('logits.max(1).indices', best.indices.tolist())
        print('Y                    ', Y.tolist())
        return

    if cfg.load:
        params, meta = load_safetensors(cfg.load)
        cfg.block_size, cfg.emb = int(meta['block_size']), int(meta['emb'])
        splits, itos = support.make_splits(words, cfg.block_size)
        for s in ('train', 'val'):
            print(s, split_loss(params, *splits[s], cfg))
        for n in sample(params, cfg, itos, cfg.samples, int(meta['seed']) + 10):
            print(n)
        return

    splits, itos = support.make_splits(words, cfg.block_size)
    for s in ('train', 'val', 'test'):
        print(s, tuple(splits[s][0].shape))
    g = torch.Generator().manual_seed(cfg.seed)
    params = init_params(cfg, g)
    print('params', sum(p.nelement() for p in params.values()))

    t0 = time.time()
    losses = train(params, *splits['train'], cfg, g, quiet=cfg.quiet)
    wall = time.time() - t0
    final = {s: split_loss(params, *splits[s], cfg) for s in ('train', 'val', 'test')}
    for s in ('train', 'val', 'test'):
        print(s, final[s])
    names = sample(params, cfg, itos, cfg.samples, cfg.seed + 10)
    for n in names:
        print(n)
    sps = cfg.steps / wall if wall > 0 else 0.0
    print(f'train time {wall:.2f} s, {sps:.0f} steps/s, {torch.get_num_threads()} thread(s)')
    if cfg.json:
        support.write_json(cfg.json, {'command': ' '.join(sys.argv), 'torch': torch.__version__,
                                      'config': {k: v for k, v in vars(cfg).items() if k not in ('json', 'goldens')},
                                      'printed': [f'{i:7d}/{cfg.steps:7d}: {losses[i]:.4f}'
                                                  for i in range(0, cfg.steps, 10000)],
                                      'loss': final, 'samples': names, 'wall_s': wall, 'steps_per_s': sps,
                                      'threads': torch.get_num_threads()})


if __name__ == '__main__':
    main()
