#!/usr/bin/python3
"""Stage 02-bigram in PyTorch: makemore_part1_bigrams.ipynb, cell by cell, plus the exercises.

This is the Python side of stage 02-bigram. It is never needed to build, run or test the C++
program; it is used for three things:

  * side-by-side checks: it prints the same lines as the C++ program, for any --seed/--samples,
      /usr/bin/python3 02-bigram/reference.py --seed 42 --samples 10
  * goldens: the numbers the C++ tests compare against, in 02-bigram/tests/goldens/<kernel>/, one
    folder per OpenBLAS kernel set (the one it runs on; OPENBLAS_CORETYPE=Haswell in front forces it):
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 02-bigram/reference.py --goldens 02-bigram/tests/goldens
    (or ./z2h goldens 02-bigram)
  * the benchmark (02-bigram/bench.sh, docs/benchmarks.md): the lecture's 100 full-batch steps,
      /usr/bin/python3 02-bigram/reference.py --bench

Run it with Debian's /usr/bin/python3 (python3-torch 1.13.1, the lecture's PyTorch generation:
its multinomial(p, 1, replacement=True) is the CDF search that gives the lecture's names).
"""
import argparse
import os
import sys
import time

# torch.set_num_threads() does not reach the OpenBLAS that Debian's torch calls for its matmuls, and
# a multi-threaded OpenBLAS splits dW = xencᵀ·dlogits (a sum over 228146 rows) differently from a
# single-threaded one — a last-bit difference in some steps' losses. One thread, as the C++ program
# and the side-by-side benchmark run (set OPENBLAS_NUM_THREADS yourself to try others).
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import torch  # noqa: E402 (after the environment is set)
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common', 'tests'))
import reference_support as support  # noqa: E402 (load_words, make_vocab, split_words, ...)

LECTURE_SEED = 2147483647
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, '..', 'data', 'names.txt')


# ---- data (names.txt, the vocabulary and the 80/10/10 split: support's) -------------------------
def bigrams(words, stoi):
    """xs, ys as Python lists: every (character, next character) of every '.'-padded word."""
    xs, ys = [], []
    for w in words:
        chs = ['.'] + list(w) + ['.']
        for ch1, ch2 in zip(chs, chs[1:]):
            xs.append(stoi[ch1])
            ys.append(stoi[ch2])
    return xs, ys


def trigrams(words, stoi):
    """xs = 27*ix1 + ix2 (the pair of previous characters as one index), ys = the next one."""
    xs, ys = [], []
    for w in words:
        chs = ['.', '.'] + list(w) + ['.']
        for ch1, ch2, ch3 in zip(chs, chs[1:], chs[2:]):
            xs.append(27 * stoi[ch1] + stoi[ch2])
            ys.append(stoi[ch3])
    return xs, ys


# ---- the counting model ----------------------------------------------------------------------
def count(xs, ys, rows):
    N = torch.zeros((rows, 27), dtype=torch.int32)
    for ix1, ix2 in zip(xs, ys):
        N[ix1, ix2] += 1
    return N


def count_fast(xs, ys, rows):
    N = torch.zeros((rows, 27), dtype=torch.int64)
    N.index_put_((torch.tensor(xs), torch.tensor(ys)), torch.ones(len(xs), dtype=torch.int64), accumulate=True)
    return N


def probabilities(N, smoothing):
    P = (N + smoothing).float()
    P /= P.sum(1, keepdims=True)  # (27, 27) / (27, 1): each row divided by its own sum
    return P


def sample(n, g, itos, probs, context=1):
    """The lecture's loop: start at '.', draw the next character from probs(ix) until '.' again."""
    names = []
    for _ in range(n):
        out = []
        ix = 0  # bigram: the row is the previous character; trigram: 27*prev2 + prev1
        while True:
            p = probs(ix)
            nxt = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            out.append(itos[nxt])
            if nxt == 0:
                break
            ix = nxt if context == 1 else (27 * (ix % 27) + nxt)
        names.append(''.join(out))
    return names


def sample_counts(P, n, g, itos, context=1):
    return sample(n, g, itos, lambda ix: P[ix], context)


def nll_double(N, smoothing, xs, ys):
    """Mean negative log-likelihood, the lecture's loop over every bigram, in double."""
    P = N.double() + smoothing
    P /= P.sum(1, keepdims=True)
    L = P.log().tolist()
    log_likelihood = 0.0
    for ix1, ix2 in zip(xs, ys):
        log_likelihood += L[ix1][ix2]
    return -log_likelihood / len(xs), log_likelihood


def nll_float32_loop(P, xs, ys):
    """The lecture's cell exactly: a float32 tensor accumulating torch.log(prob) one bigram at a time."""
    log_likelihood = torch.tensor(0.0)
    logP = P.log()
    for ix1, ix2 in zip(xs, ys):
        log_likelihood += logP[ix1, ix2]
    return (-log_likelihood / len(xs)).item(), log_likelihood.item()


# ---- the neural net --------------------------------------------------------------------------
def forward_onehot(W, xs, ys, reg):
    xenc = F.one_hot(xs, num_classes=27).float()  # input to the network: one-hot encoding
    logits = xenc @ W  # predict log-counts
    counts = logits.exp()  # counts, equivalent to N
    probs = counts / counts.sum(1, keepdims=True)  # probabilities for next character
    return -probs[torch.arange(len(xs)), ys].log().mean() + reg * (W**2).mean()


def forward_index(W, xs, ys, reg):
    logits = W[xs]  # E04: the one-hot row times W is just row xs of W
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    return -probs[torch.arange(len(xs)), ys].log().mean() + reg * (W**2).mean()


def forward_fused(W, xs, ys, reg):
    return F.cross_entropy(W[xs], ys) + reg * (W**2).mean()  # E05


def train(W, xs, ys, steps, lr, reg, forward=forward_onehot, log=None):
    losses = []
    for k in range(steps):
        loss = forward(W, xs, ys, reg)
        losses.append(loss.item())
        if log is not None and (k % 10 == 0 or k == steps - 1):
            log(f'{k:7d}/{steps:7d}: {loss.item()!r}')
        W.grad = None  # set to zero the gradient
        loss.backward()
        W.data += -lr * W.grad
    return losses


def nll_eval(W, xs, ys):
    with torch.no_grad():
        return F.cross_entropy(W[xs], ys).item()


def sample_net(W, n, g, itos, context=1):
    def probs(ix):
        xenc = F.one_hot(torch.tensor([ix]), num_classes=W.shape[0]).float()
        logits = xenc @ W  # predict log-counts
        counts = logits.exp()  # counts, equivalent to N
        return counts / counts.sum(1, keepdims=True)  # probabilities for next character
    return sample(n, g, itos, probs, context)


def fmt_probs(p):
    return '[' + ', '.join(f'{v:.4f}' for v in p.tolist()) + ']'


# ---- the stage -------------------------------------------------------------------------------
def run(args, out):
    """Runs the lecture (and the exercises asked for); prints like the C++ program; returns the numbers."""
    torch.set_num_threads(args.threads)
    say = print if not args.quiet_print else (lambda *a, **k: None)
    R = {'seed': args.seed, 'samples': args.samples, 'steps': args.steps}
    words = support.load_words(args.data)
    stoi, itos = support.make_vocab(words)
    say(f'words: {len(words)} (shortest {min(len(w) for w in words)}, longest {max(len(w) for w in words)})')

    # counting
    xs, ys = bigrams(words, stoi)
    N = count_fast(xs, ys, 27)
    R['N'] = N.tolist()
    R['total'] = int(N.sum())
    R['distinct'] = int((N > 0).sum())
    flat = sorted(((N[i, j].item(), i, j) for i in range(27) for j in range(27)), key=lambda t: -t[0])
    R['top'] = [[itos[i] + itos[j], c] for c, i, j in flat[:10]]
    say(f'bigrams: {R["total"]} ({R["distinct"]} distinct, {729 - R["distinct"]} of 729 cells zero)')
    say('top 10: ' + '  '.join(f'{s} {c}' for s, c in R['top']))

    P = probabilities(N, args.smoothing)
    R['P0'] = P[0].tolist()
    g = torch.Generator().manual_seed(args.seed)
    R['samples_counts'] = sample_counts(P, args.samples, g, itos)
    say('samples (counts):', ' '.join(R['samples_counts']))

    R['nll'], R['log_likelihood'] = nll_double(N, args.smoothing, xs, ys)
    R['nll_unsmoothed'], _ = nll_double(N, 0, xs, ys)
    if not args.skip_float_loop:
        R['nll_float32_loop'], R['log_likelihood_float32'] = nll_float32_loop(P, xs, ys)
    say(f'nll (double, +{args.smoothing:g} smoothing) = {R["nll"]!r}')
    say(f'nll (double, no smoothing) = {R["nll_unsmoothed"]!r}')
    if 'nll_float32_loop' in R:
        say(f'nll (float32 running sum, the lecture\'s loop) = {R["nll_float32_loop"]!r}')

    # the neural net: the 'emma' breakdown
    g = torch.Generator().manual_seed(args.seed)
    W = torch.randn((27, 27), generator=g)
    ex, ey = torch.tensor(xs[:5]), torch.tensor(ys[:5])
    counts = (F.one_hot(ex, num_classes=27).float() @ W).exp()
    probs = counts / counts.sum(1, keepdims=True)
    nlls = torch.zeros(5)
    R['emma'] = []
    for i in range(5):
        x, y = ex[i].item(), ey[i].item()
        p = probs[i, y]
        nlls[i] = -torch.log(p)
        R['emma'].append({'bigram': itos[x] + itos[y], 'p': p.item(), 'nll': nlls[i].item()})
        say(f'example {i + 1}: {itos[x]}{itos[y]} p={p.item()!r} nll={nlls[i].item()!r}')
    R['emma_loss'] = nlls.mean().item()
    say(f'average negative log likelihood, i.e. loss = {R["emma_loss"]!r}')

    # gradient descent, full batch
    X, Y = torch.tensor(xs), torch.tensor(ys)
    g = torch.Generator().manual_seed(args.seed)
    W = torch.randn((27, 27), generator=g, requires_grad=True)
    t0 = time.time()
    R['losses'] = train(W, X, Y, args.steps, args.lr, args.reg, log=say)
    R['train_s'] = time.time() - t0
    g = torch.Generator().manual_seed(args.seed)  # the lecture re-seeds before sampling
    R['samples_neural'] = sample_net(W.detach(), args.samples, g, itos)
    say('samples (net):', ' '.join(R['samples_neural']))

    ex = set(args.exercise)
    if 'e01' in ex:
        R['e01'] = exercise_trigram(args, words, stoi, itos, say)
    if 'e02' in ex or 'e03' in ex:
        tr, dev, te = support.split_words(words)
        if 'e02' in ex:
            R['e02'] = exercise_split(args, tr, dev, te, stoi, say)
        if 'e03' in ex:
            R['e03'] = exercise_sweep(tr, dev, te, stoi, say)
    if 'e04' in ex:
        R['e04'] = exercise_variant(args, X, Y, R['losses'], W, forward_index, itos, say)
    if 'e05' in ex:
        R['e05'] = exercise_variant(args, X, Y, R['losses'], W, forward_fused, itos, say)
    return R


def exercise_trigram(args, words, stoi, itos, say):
    xs, ys = trigrams(words, stoi)
    N3 = count_fast(xs, ys, 729)
    E = {'examples': len(xs)}
    E['nll_counts'], _ = nll_double(N3, args.smoothing, xs, ys)
    g = torch.Generator().manual_seed(args.seed)
    E['samples_counts'] = sample_counts(probabilities(N3, args.smoothing), args.samples, g, itos, context=2)
    g = torch.Generator().manual_seed(args.seed)
    W = torch.randn((729, 27), generator=g, requires_grad=True)
    E['losses'] = train(W, torch.tensor(xs), torch.tensor(ys), args.tri_steps, args.tri_lr, args.reg,
                        forward=forward_index)
    g = torch.Generator().manual_seed(args.seed)
    E['samples_net'] = sample_net(W.detach(), args.samples, g, itos, context=2)
    say(f'E01 trigram: counts nll {E["nll_counts"]!r}, net loss at step {args.tri_steps - 1}: {E["losses"][-1]!r}')
    say('E01 samples (counts):', ' '.join(E['samples_counts']))
    say('E01 samples (net):', ' '.join(E['samples_net']))
    return E


def exercise_split(args, tr, dev, te, stoi, say):
    E = {'words': [len(tr), len(dev), len(te)]}
    for name, make, rows, steps, lr in (('bigram', bigrams, 27, args.steps, args.lr),
                                        ('trigram', trigrams, 729, args.tri_steps, args.tri_lr)):
        data = [make(ws, stoi) for ws in (tr, dev, te)]
        N = count_fast(*data[0], rows)
        counts = [nll_double(N, args.smoothing, x, y)[0] for x, y in data]
        g = torch.Generator().manual_seed(args.seed)
        W = torch.randn((rows, 27), generator=g, requires_grad=True)
        X, Y = torch.tensor(data[0][0]), torch.tensor(data[0][1])
        losses = train(W, X, Y, steps, lr, args.reg, forward=forward_index)
        net = [nll_eval(W.detach(), torch.tensor(x), torch.tensor(y)) for x, y in data]
        E[name] = {'examples': [len(x) for x, _ in data], 'counts': counts, 'net': net, 'net_last_loss': losses[-1]}
        say(f'E02 {name}: counts train/dev/test {counts}, net {net}')
    return E


SWEEP = [10 ** (k / 4) for k in range(-12, 5)]  # 0.001 ... 10, four per decade


def exercise_sweep(tr, dev, te, stoi, say):
    (xtr, ytr), (xdev, ydev), (xte, yte) = (trigrams(ws, stoi) for ws in (tr, dev, te))
    N = count_fast(xtr, ytr, 729)
    E = {'alphas': SWEEP, 'train': [], 'dev': []}
    for a in SWEEP:
        E['train'].append(nll_double(N, a, xtr, ytr)[0])
        E['dev'].append(nll_double(N, a, xdev, ydev)[0])
    best = min(range(len(SWEEP)), key=lambda i: E['dev'][i])
    E['best_alpha'] = SWEEP[best]
    E['test'] = nll_double(N, SWEEP[best], xte, yte)[0]
    say(f'E03 best smoothing {SWEEP[best]!r}: dev {E["dev"][best]!r}, test {E["test"]!r}')
    return E


def exercise_variant(args, X, Y, reference_losses, W_ref, forward, itos, say):
    g = torch.Generator().manual_seed(args.seed)
    W = torch.randn((27, 27), generator=g, requires_grad=True)
    with torch.no_grad():
        same_logits = bool(torch.equal(F.one_hot(X, num_classes=27).float() @ W, W[X]))
    losses = train(W, X, Y, args.steps, args.lr, args.reg, forward=forward)
    diff = max((abs(a - b) for a, b in zip(losses, reference_losses)), default=0.0)
    g = torch.Generator().manual_seed(args.seed)
    E = {'losses': losses, 'max_loss_diff': diff, 'logits_equal': same_logits,
         'max_w_diff': (W.detach() - W_ref).abs().max().item(),
         'samples_net': sample_net(W.detach(), args.samples, g, itos)}
    say(f'{forward.__name__}: max |loss - one-hot loss| = {diff!r}')
    return E


# ---- goldens and the benchmark ---------------------------------------------------------------
def write_goldens(args):
    """The files in 02-bigram/tests/goldens/<kernel>/, each with the command that made it."""
    if os.environ.get('OPENBLAS_NUM_THREADS') != '1':
        sys.exit('error: make the goldens single-threaded: OPENBLAS_NUM_THREADS=1 ' + ' '.join(sys.argv))
    meta = support.stamp(support.command('02-bigram/reference.py'))
    meta['cpu_capability'] = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, 'cpu') else 'AVX2'
    outdir = os.path.join(args.goldens, meta['openblas_core'])  # one folder per kernel set: tests/goldens/Haswell/...
    os.makedirs(outdir, exist_ok=True)

    def dump(name, obj):
        support.write_json(os.path.join(outdir, name), {**meta, **obj})

    def with_(**kw):
        a = argparse.Namespace(**vars(args))
        a.__dict__.update(kw)
        return a

    # The lecture: seed 2147483647, 5 names, 100 steps.
    L = run(with_(exercise=[], skip_float_loop=False), None)
    dump('lecture.json', {k: L[k] for k in ('N', 'total', 'distinct', 'top', 'P0', 'samples_counts', 'nll',
                                            'log_likelihood', 'nll_unsmoothed', 'nll_float32_loop',
                                            'log_likelihood_float32', 'emma', 'emma_loss', 'losses',
                                            'samples_neural')})
    # Other seeds: 10 names, 20 steps (the tests stay fast).
    seeds = {}
    for s in (42, 1337, 2024, 123456789012):
        R = run(with_(seed=s, samples=10, steps=20, exercise=[], skip_float_loop=True), None)
        seeds[str(s)] = {k: R[k] for k in ('samples_counts', 'nll', 'emma', 'emma_loss', 'losses', 'samples_neural')}
    dump('seeds.json', {'samples': 10, 'steps': 20, 'seeds': seeds})
    # The exercises with few steps: 3 bigram steps, 3 trigram steps.
    R = run(with_(steps=3, tri_steps=3, exercise=['e01', 'e02', 'e03', 'e04', 'e05'], skip_float_loop=True), None)
    dump('exercises.json', {'steps': 3, 'tri_steps': 3, **{k: R[k] for k in ('e01', 'e02', 'e03', 'e04', 'e05')}})


def bench(args):
    """The lecture's 100 full-batch steps (one-hot, manual softmax, reg), timed; prints steps/s."""
    torch.set_num_threads(args.threads)
    words = support.load_words(args.data)
    stoi, _ = support.make_vocab(words)
    xs, ys = bigrams(words, stoi)
    X, Y = torch.tensor(xs), torch.tensor(ys)
    g = torch.Generator().manual_seed(args.seed)
    W = torch.randn((27, 27), generator=g, requires_grad=True)
    t0, c0 = time.time(), time.process_time()
    losses = train(W, X, Y, args.steps, args.lr, args.reg)
    dt, cpu = time.time() - t0, time.process_time() - c0
    print(f'pytorch {torch.__version__}: {args.steps} steps in {dt:.3f} s = {args.steps / dt:.3f} steps/s '
          f'(threads {torch.get_num_threads()}, loss at step {args.steps - 1}: {losses[-1]!r})')
    if args.json:
        support.write_json(args.json, {'steps': args.steps, 'train_s': dt, 'train_cpu_s': cpu,
                                       'steps_per_s': args.steps / dt, 'losses': losses}, indent=None, end='')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seed', type=int, default=LECTURE_SEED)
    ap.add_argument('--samples', type=int, default=5)
    ap.add_argument('--steps', type=int, default=100)
    ap.add_argument('--lr', type=float, default=50.0)
    ap.add_argument('--reg', type=float, default=0.01)
    ap.add_argument('--smoothing', type=float, default=1.0)
    ap.add_argument('--tri-steps', type=int, default=300)
    ap.add_argument('--tri-lr', type=float, default=50.0)
    ap.add_argument('--exercise', default='', help='comma list of e01..e05, or all')
    ap.add_argument('--data', default=DEFAULT_DATA)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--json', help='write every number to this file')
    ap.add_argument('--goldens', help='write the test goldens into this directory/<OpenBLAS kernel>/')
    ap.add_argument('--bench', action='store_true', help='time the lecture\'s training loop only')
    args = ap.parse_args()
    ex = [e.strip().lower() for e in args.exercise.split(',') if e.strip()]
    args.exercise = ['e01', 'e02', 'e03', 'e04', 'e05'] if ex == ['all'] else ex
    args.skip_float_loop = False
    args.quiet_print = bool(args.goldens)
    if args.goldens:
        write_goldens(args)
    elif args.bench:
        bench(args)
    else:
        R = run(args, None)
        if args.json:
            support.write_json(args.json, R, end='')


if __name__ == '__main__':
    sys.exit(main())
