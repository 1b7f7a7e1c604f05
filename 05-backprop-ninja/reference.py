#!/usr/bin/python3
"""Stage 05-backprop-ninja in PyTorch: makemore_part4_backprop.ipynb, cell by cell.

This is the Python side of stage 05-backprop-ninja. It is never needed to build, run or test the
C++ program; it is used for two things:

  * goldens: the numbers the C++ tests compare against (tests/goldens/<kernel>/, each file records the
    command that wrote it and the OpenBLAS kernel set it ran on). Run it once per kernel:
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 05-backprop-ninja/reference.py --goldens 05-backprop-ninja/tests/goldens
      OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell /usr/bin/python3 05-backprop-ninja/reference.py --goldens 05-backprop-ninja/tests/goldens
  * the side-by-side benchmark (05-backprop-ninja/bench.sh, docs/benchmarks.md): exercise 4,
      /usr/bin/python3 05-backprop-ninja/reference.py --threads 1 --quiet --exercise 4 --scatter loop
      /usr/bin/python3 05-backprop-ninja/reference.py --threads 1 --quiet --exercise 4 --scatter index_add

With no flags it runs the notebook: exercise 1 (the chunked forward pass, its manual backward and
the cmp table), exercise 2 (cross-entropy backward in one go), exercise 3 (batch-norm backward in
one go), exercise 4 (200000 steps on the manual gradients, batch-norm calibration, train/val
losses, 20 samples). Everything is the notebook's code, with one change: the notebook draws
bngain and bnbias from the unseeded global generator (torch.randn((1, n_hidden))), so nobody can
reproduce its numbers; here they come from g right after b2, bngain first.

--scatter chooses the embedding gradient of exercise 4: `loop` is the notebook's Python double
loop (dC[ix] += demb[k, j]), `index_add` is the same sum as one dC.index_add_(0, Xb.view(-1),
demb.view(-1, n_embd)) (the same additions in the same order, so the same bits, ~10x faster).

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
from safetensors_check import save as write_safetensors  # noqa: E402 (the format by hand: no package in Debian)

LECTURE_SEED = 2147483647
HERE = os.path.dirname(os.path.abspath(__file__))


# ---- cell 7 ------------------------------------------------------------------------------------------
def cmp(s, dt, t, quiet=False):
    ex = torch.all(dt == t.grad).item()
    app = torch.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    if not quiet:
        print(f'{s:15s} | exact: {str(ex):5s} | approximate: {str(app):5s} | maxdiff: {maxdiff}')
    return {'name': s, 'exact': ex, 'approximate': app, 'maxdiff': maxdiff}


# ---- cell 8: the init (bngain, bnbias from g: the one change) -----------------------------------------
def init_params(g, n_hidden, n_embd=10, block_size=3, vocab_size=27):
    C = torch.randn((vocab_size, n_embd), generator=g)
    # Layer 1
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / ((n_embd * block_size) ** 0.5)
    b1 = torch.randn(n_hidden, generator=g) * 0.1  # using b1 just for fun, it's useless because of BN
    # Layer 2
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.1
    b2 = torch.randn(vocab_size, generator=g) * 0.1
    # BatchNorm parameters (the notebook: torch.randn((1, n_hidden)) from the unseeded global generator)
    bngain = torch.randn((1, n_hidden), generator=g) * 0.1 + 1.0
    bnbias = torch.randn((1, n_hidden), generator=g) * 0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    return parameters


# ---- cells 8-21: exercises 1-3 ------------------------------------------------------------------------
EX1_NAMES = ['logprobs', 'probs', 'counts_sum_inv', 'counts_sum', 'counts', 'norm_logits', 'logit_maxes',
             'logits', 'h', 'W2', 'b2', 'hpreact', 'bngain', 'bnbias', 'bnraw', 'bnvar_inv', 'bnvar',
             'bndiff2', 'bndiff', 'bnmeani', 'hprebn', 'embcat', 'W1', 'b1', 'emb', 'C']


def exercises_1_to_3(splits, seed=LECTURE_SEED, n_hidden=64, quiet=False):
    """Returns a dict: the loss, the three cmp tables, the printed numbers, and every gradient
    (manual: the notebook's hand-written ones; autograd: t.grad) by name."""
    say = (lambda *a: None) if quiet else print
    Xtr, Ytr = splits['train']
    n_embd = 10
    g = torch.Generator().manual_seed(seed)
    C, W1, b1, W2, b2, bngain, bnbias = parameters = init_params(g, n_hidden)
    say(sum(p.nelement() for p in parameters))  # number of parameters in total

    batch_size = 32
    n = batch_size  # a shorter variable also, for convenience
    # construct a minibatch
    ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
    Xb, Yb = Xtr[ix], Ytr[ix]  # batch X,Y

    # forward pass, "chunkated" into smaller steps that are possible to backward one at a time
    emb = C[Xb]  # embed the characters into vectors
    embcat = emb.view(emb.shape[0], -1)  # concatenate the vectors
    # Linear layer 1
    hprebn = embcat @ W1 + b1  # hidden layer pre-activation
    # BatchNorm layer
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff ** 2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)  # note: Bessel's correction (dividing by n-1, not n)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    # Non-linearity
    h = torch.tanh(hpreact)  # hidden layer
    # Linear layer 2
    logits = h @ W2 + b2  # output layer
    # cross entropy loss (same as F.cross_entropy(logits, Yb))
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes  # subtract max for numerical stability
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum ** -1  # if I use (1.0 / counts_sum) instead then I can't get backprop to be bit exact...
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()

    # PyTorch backward pass
    for p in parameters:
        p.grad = None
    for t in [logprobs, probs, counts, counts_sum, counts_sum_inv,  # afaik there is no cleaner way
              norm_logits, logit_maxes, logits, h, hpreact, bnraw,
              bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani,
              embcat, emb]:
        t.retain_grad()
    loss.backward()
    say(loss)

    # Exercise 1: backprop through the whole thing manually (cell 11, the notebook's code)
    with torch.no_grad():
        dlogprobs = torch.zeros_like(logprobs)
        dlogprobs[range(n), Yb] = -1.0 / n
        dprobs = (1.0 / probs) * dlogprobs
        dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
        dcounts = counts_sum_inv * dprobs
        dcounts_sum = (-counts_sum ** -2) * dcounts_sum_inv
        dcounts += torch.ones_like(counts) * dcounts_sum
        dnorm_logits = counts * dcounts
        dlogits = dnorm_logits.clone()
        dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
        dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
        dh = dlogits @ W2.T
        dW2 = h.T @ dlogits
        db2 = dlogits.sum(0)
        dhpreact = (1.0 - h ** 2) * dh
        dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
        dbnraw = bngain * dhpreact
        dbnbias = dhpreact.sum(0, keepdim=True)
        dbndiff = bnvar_inv * dbnraw
        dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
        dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
        dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar
        dbndiff += (2 * bndiff) * dbndiff2
        dhprebn = dbndiff.clone()
        dbnmeani = (-dbndiff).sum(0)
        dhprebn += 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)
        dembcat = dhprebn @ W1.T
        dW1 = embcat.T @ dhprebn
        db1 = dhprebn.sum(0)
        demb = dembcat.view(emb.shape)
        dC = torch.zeros_like(C)
        for k in range(Xb.shape[0]):
            for j in range(Xb.shape[1]):
                ix = Xb[k, j]
                dC[ix] += demb[k, j]

    manual = dict(logprobs=dlogprobs, probs=dprobs, counts_sum_inv=dcounts_sum_inv, counts_sum=dcounts_sum,
                  counts=dcounts, norm_logits=dnorm_logits, logit_maxes=dlogit_maxes, logits=dlogits, h=dh,
                  W2=dW2, b2=db2, hpreact=dhpreact, bngain=dbngain, bnbias=dbnbias, bnraw=dbnraw,
                  bnvar_inv=dbnvar_inv, bnvar=dbnvar, bndiff2=dbndiff2, bndiff=dbndiff, bnmeani=dbnmeani,
                  hprebn=dhprebn, embcat=dembcat, W1=dW1, b1=db1, emb=demb, C=dC)
    tensors = dict(logprobs=logprobs, probs=probs, counts_sum_inv=counts_sum_inv, counts_sum=counts_sum,
                   counts=counts, norm_logits=norm_logits, logit_maxes=logit_maxes, logits=logits, h=h,
                   W2=W2, b2=b2, hpreact=hpreact, bngain=bngain, bnbias=bnbias, bnraw=bnraw,
                   bnvar_inv=bnvar_inv, bnvar=bnvar, bndiff2=bndiff2, bndiff=bndiff, bnmeani=bnmeani,
                   hprebn=hprebn, embcat=embcat, W1=W1, b1=b1, emb=emb, C=C)
    table = [cmp(name, manual[name], tensors[name], quiet) for name in EX1_NAMES]

    # Exercise 2: backprop through cross_entropy but all in one go (cells 12-18)
    loss_fast = F.cross_entropy(logits, Yb)
    say(loss_fast.item(), 'diff:', (loss_fast - loss).item())
    with torch.no_grad():
        dlogits_fast = F.softmax(logits, 1)
        dlogits_fast[range(n), Yb] -= 1
        dlogits_fast /= n
    ex2 = cmp('logits', dlogits_fast, logits, quiet)  # I can only get approximate to be true, my maxdiff is 6e-9
    softmax0 = F.softmax(logits, 1)[0].detach()
    say(softmax0)
    say(dlogits_fast[0] * n)
    say(dlogits_fast[0].sum())

    # Exercise 3: backprop through batchnorm but all in one go (cells 19-21)
    hpreact_fast = bngain * (hprebn - hprebn.mean(0, keepdim=True)) / torch.sqrt(
        hprebn.var(0, keepdim=True, unbiased=True) + 1e-5) + bnbias
    bn_maxdiff = (hpreact_fast - hpreact).abs().max()
    say('max diff:', bn_maxdiff)
    with torch.no_grad():
        dhprebn_fast = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (
            dhpreact * bnraw).sum(0))
    ex3 = cmp('hprebn', dhprebn_fast, hprebn, quiet)  # I can only get approximate to be true, my maxdiff is 9e-10
    say((dhprebn_fast.shape, bngain.shape, bnvar_inv.shape, dbnraw.shape, dbnraw.sum(0).shape))

    return {'params': sum(p.nelement() for p in parameters),
            'loss': loss.item(), 'loss_fast': loss_fast.item(), 'loss_fast_diff': (loss_fast - loss).item(),
            'cmp': table, 'ex2_cmp': ex2, 'ex3_cmp': ex3,
            'softmax0': softmax0.tolist(), 'dlogits0_times_n': (dlogits_fast[0] * n).tolist(),
            'dlogits0_sum': dlogits_fast[0].sum().item(), 'bn_forward_maxdiff': bn_maxdiff.item(),
            'manual': manual, 'autograd': {k: tensors[k].grad for k in EX1_NAMES},
            'dlogits_fast': dlogits_fast, 'dhprebn_fast': dhprebn_fast, 'Yb': Yb.tolist()}


# ---- cells 22-27: exercise 4 --------------------------------------------------------------------------
def exercise_4(splits, itos, seed=LECTURE_SEED, steps=200000, n_hidden=200, scatter='loop', quiet=False,
               samples=20, max_steps_printed=None):
    """The notebook's training loop on the manual gradients under torch.no_grad(), then the batch-norm
    calibration, train/val losses and sampling. Returns the per-step losses, the split losses,
    the samples and the loop's wall time."""
    say = (lambda *a: None) if quiet else print
    Xtr, Ytr = splits['train']
    n_embd = 10
    block_size = 3
    g = torch.Generator().manual_seed(seed)
    C, W1, b1, W2, b2, bngain, bnbias = parameters = init_params(g, n_hidden)
    say(sum(p.nelement() for p in parameters))  # number of parameters in total

    max_steps = steps
    shown = steps if max_steps_printed is None else max_steps_printed
    batch_size = 32
    n = batch_size  # convenience
    lossi = []
    t0 = time.time()
    with torch.no_grad():
        # kick off optimization
        for i in range(max_steps):
            # minibatch construct
            ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]  # batch X,Y

            # forward pass
            emb = C[Xb]  # embed the characters into vectors
            embcat = emb.view(emb.shape[0], -1)  # concatenate the vectors
            # Linear layer
            hprebn = embcat @ W1 + b1  # hidden layer pre-activation
            # BatchNorm layer
            bnmean = hprebn.mean(0, keepdim=True)
            bnvar = hprebn.var(0, keepdim=True, unbiased=True)
            bnvar_inv = (bnvar + 1e-5) ** -0.5
            bnraw = (hprebn - bnmean) * bnvar_inv
            hpreact = bngain * bnraw + bnbias
            # Non-linearity
            h = torch.tanh(hpreact)  # hidden layer
            logits = h @ W2 + b2  # output layer
            loss = F.cross_entropy(logits, Yb)  # loss function

            # backward pass
            for p in parameters:
                p.grad = None

            # manual backprop! #swole_doge_meme
            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            # 2nd layer backprop
            dh = dlogits @ W2.T
            dW2 = h.T @ dlogits
            db2 = dlogits.sum(0)
            # tanh
            dhpreact = (1.0 - h ** 2) * dh
            # batchnorm backprop
            dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
            dbnbias = dhpreact.sum(0, keepdim=True)
            dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (
                dhpreact * bnraw).sum(0))
            # 1st layer
            dembcat = dhprebn @ W1.T
            dW1 = embcat.T @ dhprebn
            db1 = dhprebn.sum(0)
            # embedding
            demb = dembcat.view(emb.shape)
            dC = torch.zeros_like(C)
            if scatter == 'loop':
                for k in range(Xb.shape[0]):
                    for j in range(Xb.shape[1]):
                        ix = Xb[k, j]
                        dC[ix] += demb[k, j]
            else:
                dC.index_add_(0, Xb.view(-1), demb.view(-1, n_embd))
            grads = [dC, dW1, db1, dW2, db2, dbngain, dbnbias]

            # update
            lr = 0.1 if i < 100000 else 0.01  # step learning rate decay
            for p, grad in zip(parameters, grads):
                p.data += -lr * grad

            # track stats
            if i % 10000 == 0 and not quiet:  # print every once in a while
                print(f'{i:7d}/{shown:7d}: {loss.item():.4f}', flush=True)
            lossi.append(loss.item())
    wall = time.time() - t0

    # calibrate the batch norm at the end of training
    with torch.no_grad():
        # pass the training set through
        emb = C[Xtr]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1 + b1
        # measure the mean/std over the entire training set
        bnmean = hpreact.mean(0, keepdim=True)
        bnvar = hpreact.var(0, keepdim=True, unbiased=True)

    @torch.no_grad()  # this decorator disables gradient tracking
    def split_loss(split):
        x, y = splits[split]
        emb = C[x]  # (N, block_size, n_embd)
        embcat = emb.view(emb.shape[0], -1)  # concat into (N, block_size * n_embd)
        hpreact = embcat @ W1 + b1
        hpreact = bngain * (hpreact - bnmean) * (bnvar + 1e-5) ** -0.5 + bnbias
        h = torch.tanh(hpreact)  # (N, n_hidden)
        logits = h @ W2 + b2  # (N, vocab_size)
        loss = F.cross_entropy(logits, y)
        say(split, loss.item())
        return loss.item()

    res = {'params': sum(p.nelement() for p in parameters), 'losses': lossi, 'wall_s': wall,
           'steps': steps, 'steps_per_s': steps / max(wall, 1e-9),
           'train': split_loss('train'), 'val': split_loss('val')}

    # sample from the model
    def logits_of(context):
        # forward pass:
        emb = C[context]  # (1,block_size,d)
        embcat = emb.view(emb.shape[0], -1)  # concat into (N, block_size * n_embd)
        hpreact = embcat @ W1 + b1
        hpreact = bngain * (hpreact - bnmean) * (bnvar + 1e-5) ** -0.5 + bnbias
        h = torch.tanh(hpreact)  # (N, n_hidden)
        return h @ W2 + b2  # (N, vocab_size)

    res['samples'] = support.sample_names(logits_of, itos, samples, block_size,
                                          torch.Generator().manual_seed(seed + 10))
    for name in res['samples']:
        say(name)
    return res


# ---- goldens -------------------------------------------------------------------------------------------
def write_goldens(splits, itos, out_dir):
    """Exercise 1-3 gradients and numbers; exercise 4's first 1000 losses; a run at another seed."""
    stamp = support.stamp(support.command('05-backprop-ninja/reference.py'))
    out_dir = os.path.join(out_dir, stamp['openblas_core'])  # one folder per kernel set: tests/goldens/Haswell/...
    os.makedirs(out_dir, exist_ok=True)

    r = exercises_1_to_3(splits, quiet=True)
    tensors = {f'manual.{k}': v for k, v in r['manual'].items()}
    tensors.update({f'autograd.{k}': v for k, v in r['autograd'].items()})
    tensors['ex2.dlogits'] = r['dlogits_fast']
    tensors['ex3.dhprebn'] = r['dhprebn_fast']
    write_safetensors(os.path.join(out_dir, 'ex1.safetensors'), tensors, stamp)
    numbers = {k: v for k, v in r.items() if k not in ('manual', 'autograd', 'dlogits_fast', 'dhprebn_fast')}
    # the loss at init at other seeds (exercise 1's net, n_hidden 64; and exercise 4's, n_hidden 200)
    numbers['loss_at_seeds'] = {str(s): exercises_1_to_3(splits, seed=s, quiet=True)['loss'] for s in (1, 42, 1337)}
    support.write_json(os.path.join(out_dir, 'ex1.json'), dict(stamp, **numbers))

    # exercise 4: the default run's first 1000 steps (the notebook's loop), then calibration,
    # train/val and samples after those 1000 steps; and seed 42, n_hidden 64, 2000 steps
    a = exercise_4(splits, itos, steps=1000, scatter='loop', quiet=True)
    b = exercise_4(splits, itos, seed=42, steps=2000, n_hidden=64, scatter='index_add', quiet=True)
    runs = {'default_1000': {'seed': LECTURE_SEED, 'n_hidden': 200, 'steps': 1000, 'scatter': 'loop'},
            'seed42_h64_2000': {'seed': 42, 'n_hidden': 64, 'steps': 2000, 'scatter': 'index_add'}}
    for key, res in (('default_1000', a), ('seed42_h64_2000', b)):
        runs[key].update({k: res[k] for k in ('params', 'losses', 'train', 'val', 'samples')})
    support.write_json(os.path.join(out_dir, 'train.json'), dict(stamp, runs=runs))
    print(f'wrote {out_dir}/ex1.safetensors, ex1.json, train.json')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--exercise', type=int, choices=[0, 1, 4], default=0,
                    help='0: the whole notebook; 1: exercises 1-3 only; 4: exercise 4 only')
    ap.add_argument('--seed', type=int, default=LECTURE_SEED)
    ap.add_argument('--steps', type=int, default=200000, help='exercise 4 training steps')
    ap.add_argument('--n-hidden', type=int, default=200, help='exercise 4 hidden neurons (exercises 1-3: 64)')
    ap.add_argument('--scatter', choices=['loop', 'index_add'], default='loop',
                    help="exercise 4's embedding gradient: the notebook's Python loop, or index_add_")
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'names.txt'))
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--json', help='write exercise 4 results (steps/s, losses, train/val, samples) to this file')
    ap.add_argument('--quiet', action='store_true', help='print only the final losses')
    ap.add_argument('--goldens', metavar='DIR', help='write the test goldens into DIR and exit')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    splits, itos = support.make_splits(args.data)
    if args.goldens:
        write_goldens(splits, itos, args.goldens)
        return
    if args.exercise in (0, 1):
        exercises_1_to_3(splits, seed=args.seed, quiet=args.quiet)
    if args.exercise in (0, 4):
        res = exercise_4(splits, itos, seed=args.seed, steps=args.steps, n_hidden=args.n_hidden,
                         scatter=args.scatter, quiet=args.quiet)
        if args.quiet:
            print('train', res['train'], 'val', res['val'], f"{res['steps_per_s']:.1f} steps/s")
        if args.json:
            support.write_json(args.json, {'command': ' '.join(sys.argv), 'openblas_core': support.openblas_core(),
                                           'steps': res['steps'], 'wall_s': res['wall_s'],
                                           'steps_per_s': res['steps_per_s'], 'params': res['params'],
                                           'loss': {'train': res['train'], 'val': res['val']},
                                           'losses': res['losses'], 'samples': res['samples']})


if __name__ == '__main__':
    main()
