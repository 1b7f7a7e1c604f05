#!/usr/bin/python3
"""Stage 07-gpt in PyTorch: the lecture's Colab (gpt_dev.ipynb) and ng-video-lecture's gpt.py.

This is the Python side of stage 07-gpt. It is never needed to build, run or test the C++ program;
it is used for two things:

  * goldens (07-gpt/tests/goldens/*.json, and the runs through OpenBLAS in tests/goldens/<kernel>/,
    each recording the command that wrote it and the OpenBLAS kernel set it ran on):
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 07-gpt/reference.py --goldens 07-gpt/tests/goldens
      OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell /usr/bin/python3 07-gpt/reference.py --goldens 07-gpt/tests/goldens
    (or ./z2h goldens 07-gpt [--kernel Haswell]; --only add: exercise 2's golden alone, <kernel>/add.json)
  * side-by-side runs and benchmarks (07-gpt/bench.sh): the default model,
      /usr/bin/python3 07-gpt/reference.py train --json out.json

Subcommands:
  train    the Colab's "full finished code" (the default) or any config of it: --config bigram | colab
           | cpu | gpt, and every hyper-parameter as a flag. Prints the lecture's lines; --json
           writes every step's loss, the eval lines, the sample and the timing.
  add      exercise 2: a GPT that learns a+b=c (--digits, and the model's hyper-parameters as flags);
           prints the eval lines, the accuracy on the held-out problems and a few answers.
  lecture  the Colab's cells before the finished model, with their numbers (JSON on stdout).
  grads    a tiny GPT's loss and every parameter's gradient (JSON on stdout).

The model is gpt.py's, written once; two switches give the Colab's version (the default here):
  --scale n_embd    the Colab's `wei = q @ k.transpose(-2,-1) * C**-0.5` with C = n_embd;
  --scale head      gpt.py's HEAD `* k.shape[-1]**-0.5` (head size);
  --init torch      PyTorch's default inits (the Colab and the video);
  --init gpt        gpt.py's HEAD `_init_weights`: N(0, 0.02) weights, zero biases.

Run it with Debian's /usr/bin/python3 (python3-torch 1.13.1).
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
from torch.nn import functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common', 'tests'))
import reference_support as support  # noqa: E402 (the OpenBLAS kernel set, the command line, JSON files)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.environ.get('Z2H_DATA_DIR', os.path.join(HERE, '..', 'data')), 'tinyshakespeare.txt')

# name: batch, block, iters, eval_interval, lr, eval_iters, n_embd, n_head, n_layer, dropout, scale, init,
# activation (relu: the lecture; gelu: exercise 4), lr_schedule and warmup (constant: the lecture; cosine:
# exercise 4, nanoGPT's get_lr). The C++ program trains 'cpu' as 2 replicas of 16 rows (--replicas 2): the same
# batches of 32 as here, the gradient summed in another order.
CONFIGS = {
    'colab': dict(batch=16, block=32, steps=5000, eval_interval=100, lr=1e-3, eval_iters=200,
                  n_embd=64, n_head=4, n_layer=4, dropout=0.0, scale='n_embd', init='torch', activation='relu',
                  lr_schedule='constant', warmup=0),
    'bigram': dict(batch=32, block=8, steps=3000, eval_interval=300, lr=1e-2, eval_iters=200,
                   n_embd=0, n_head=0, n_layer=0, dropout=0.0, scale='n_embd', init='torch', activation='relu',
                   lr_schedule='constant', warmup=0),
    'cpu': dict(batch=32, block=64, steps=2500, eval_interval=500, lr=2e-3, eval_iters=50,
                n_embd=128, n_head=4, n_layer=4, dropout=0.0, scale='head', init='gpt', activation='relu',
                lr_schedule='cosine', warmup=100),
    'gpt': dict(batch=64, block=256, steps=5000, eval_interval=500, lr=3e-4, eval_iters=200,
                n_embd=384, n_head=6, n_layer=6, dropout=0.2, scale='head', init='gpt', activation='relu',
                lr_schedule='constant', warmup=0),
}


def command():
    return support.command('07-gpt/reference.py')


# ---- data ----------------------------------------------------------------------------------------
def load_text():
    with open(DATA, 'r', encoding='utf-8') as f:
        return f.read()


class Data:
    def __init__(self, text):
        self.chars = sorted(list(set(text)))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        self.itos = {i: ch for i, ch in enumerate(self.chars)}
        self.data = torch.tensor(self.encode(text), dtype=torch.long)
        n = int(0.9 * len(self.data))
        self.train, self.val = self.data[:n], self.data[n:]

    def encode(self, s):
        return [self.stoi[c] for c in s]

    def decode(self, l):
        return ''.join([self.itos[i] for i in l])

    def get_batch(self, split, batch, block):
        data = self.train if split == 'train' else self.val
        ix = torch.randint(len(data) - block, (batch,))
        x = torch.stack([data[i:i + block] for i in ix])
        y = torch.stack([data[i + 1:i + block + 1] for i in ix])
        return x, y


# ---- the model: gpt.py's classes, with the Colab's scale and init as switches --------------------
class Head(nn.Module):
    def __init__(self, cfg, head_size):
        super().__init__()
        self.cfg = cfg
        self.key = nn.Linear(cfg.n_embd, head_size, bias=False)
        self.query = nn.Linear(cfg.n_embd, head_size, bias=False)
        self.value = nn.Linear(cfg.n_embd, head_size, bias=False)
        self.register_buffer('tril', torch.tril(torch.ones(cfg.block, cfg.block)))
        self.dropout = nn.Dropout(cfg.dropout)
        self.last_wei = None

    def forward(self, x):
        B, T, C = x.shape
        k = self.key(x)
        q = self.query(x)
        scale = C ** -0.5 if self.cfg.scale == 'n_embd' else k.shape[-1] ** -0.5
        wei = q @ k.transpose(-2, -1) * scale
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float('-inf'))
        wei = F.softmax(wei, dim=-1)
        self.last_wei = wei.detach()
        wei = self.dropout(wei)
        v = self.value(x)
        return wei @ v


class MultiHeadAttention(nn.Module):
    def __init__(self, cfg, num_heads, head_size):
        super().__init__()
        self.heads = nn.ModuleList([Head(cfg, head_size) for _ in range(num_heads)])
        self.proj = nn.Linear(head_size * num_heads, cfg.n_embd)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)
        return self.dropout(self.proj(out))


class FeedFoward(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd),
                                 nn.GELU() if getattr(cfg, 'activation', 'relu') == 'gelu' else nn.ReLU(),
                                 nn.Linear(4 * cfg.n_embd, cfg.n_embd), nn.Dropout(cfg.dropout))

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        head_size = cfg.n_embd // cfg.n_head
        self.sa = MultiHeadAttention(cfg, cfg.n_head, head_size)
        self.ffwd = FeedFoward(cfg)
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.ln2 = nn.LayerNorm(cfg.n_embd)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))
        x = x + self.ffwd(self.ln2(x))
        return x


class GPTLanguageModel(nn.Module):
    def __init__(self, cfg, vocab_size):
        super().__init__()
        self.cfg = cfg
        self.token_embedding_table = nn.Embedding(vocab_size, cfg.n_embd)
        self.position_embedding_table = nn.Embedding(cfg.block, cfg.n_embd)
        self.blocks = nn.Sequential(*[Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, vocab_size)
        if cfg.init == 'gpt':
            self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)
        pos_emb = self.position_embedding_table(torch.arange(T))
        x = tok_emb + pos_emb
        x = self.blocks(x)
        x = self.ln_f(x)
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        B, T, C = logits.shape
        # exercise 2 marks the prompt's targets with -1 and ignores them (ignore_index=-1)
        ignore_index = getattr(self.cfg, 'ignore_index', -100)
        return logits, F.cross_entropy(logits.view(B * T, C), targets.view(B * T), ignore_index=ignore_index)

    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -self.cfg.block:]
            logits, _ = self(idx_cond)
            probs = F.softmax(logits[:, -1, :], dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
        return idx


class BigramLanguageModel(nn.Module):
    """bigram.py's model: a (V, V) table of next-token logits."""

    def __init__(self, cfg, vocab_size):
        super().__init__()
        self.cfg = cfg
        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.token_embedding_table(idx)
        if targets is None:
            return logits, None
        B, T, C = logits.shape
        return logits, F.cross_entropy(logits.view(B * T, C), targets.view(B * T))

    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx)
            probs = F.softmax(logits[:, -1, :], dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
        return idx


def make_model(cfg, vocab_size):
    return BigramLanguageModel(cfg, vocab_size) if cfg.n_layer == 0 else GPTLanguageModel(cfg, vocab_size)


# ---- training: the script's loop ------------------------------------------------------------------
@torch.no_grad()
def estimate_loss(model, eval_iters, get_batch):
    """The script's estimate_loss(), over any source of batches: get_batch(split) -> X, Y."""
    out = {}
    model.eval()
    for split in ['train', 'val']:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            _, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


def lr_at(cfg, it):
    """The learning rate of iteration it: cfg.lr, or with lr_schedule 'cosine' nanoGPT's get_lr() — a
    linear warm-up to cfg.lr over cfg.warmup iterations, then half a cosine down to cfg.lr / 10 at the
    last one (07-gpt's lr_at(), the same float operations)."""
    if cfg.lr_schedule == 'constant':
        return cfg.lr
    if it < cfg.warmup:
        return cfg.lr * (it + 1) / cfg.warmup
    min_lr = cfg.lr / 10
    progress = (it - cfg.warmup) / max(1, cfg.steps - 1 - cfg.warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))) * (cfg.lr - min_lr)


def train_loop(model, cfg, get_batch, eval_last, say):
    """gpt.py's loop: AdamW at cfg.lr for cfg.steps minibatches of get_batch('train'); every
    cfg.eval_interval steps (and at the last one where eval_last) both splits' estimate_loss, each
    line given to say(). Returns the parameter count, every step's loss, the evals and the time."""
    params = sum(p.numel() for p in model.parameters())
    if not cfg.quiet:
        print(params / 1e6, 'M parameters')
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)

    step_losses, evals = [], {}
    t0 = time.time()
    for it in range(cfg.steps):
        if it % cfg.eval_interval == 0 or (eval_last and it == cfg.steps - 1):
            losses = estimate_loss(model, cfg.eval_iters, get_batch)
            line = f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}"
            evals[str(it)] = {'train': losses['train'].item(), 'val': losses['val'].item(), 'line': line}
            say(line)
        xb, yb = get_batch('train')
        _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for group in optimizer.param_groups:
            group['lr'] = lr_at(cfg, it)
        optimizer.step()
        step_losses.append(loss.item())
    return params, step_losses, evals, time.time() - t0


def train(cfg):
    torch.manual_seed(cfg.seed)
    d = Data(load_text())
    model = make_model(cfg, len(d.chars))
    params, step_losses, evals, wall = train_loop(
        model, cfg, lambda split: d.get_batch(split, cfg.batch, cfg.block), cfg.n_layer > 0,
        lambda line: print(line, flush=True))
    context = torch.zeros((1, 1), dtype=torch.long)
    with torch.no_grad():
        sample = d.decode(model.generate(context, max_new_tokens=cfg.gen)[0].tolist())
    if not cfg.quiet:
        print(sample)
    result = {'command': command(), 'openblas_core': support.openblas_core(), 'torch': torch.__version__,
              'threads': torch.get_num_threads(), 'config': {k: getattr(cfg, k) for k in CONFIGS['colab']},
              'seed': cfg.seed, 'params': params, 'losses': step_losses, 'evals': evals, 'sample': sample,
              'wall_s': wall, 'steps_per_s': cfg.steps / wall if wall > 0 else None,
              'tokens_per_s': cfg.steps * cfg.batch * cfg.block / wall if wall > 0 else None}
    return result


# ---- exercise 2: a GPT that learns to add ---------------------------------------------------------
# The Colab's EX2: "train the GPT on a+b=c ... predict the digits of c in reverse order ... mask out
# the loss at the input positions of a+b that just specify the problem using y=-1 in the targets".
ADD_CONFIG = dict(digits=2, batch=64, steps=1500, eval_interval=250, lr=1e-3, eval_iters=20,
                  n_embd=64, n_head=4, n_layer=2, dropout=0.0, scale='head', init='gpt', activation='relu')
ADD_VOCAB = '0123456789+='  # token i is ADD_VOCAB[i]


class Addition:
    """Every problem a+b with a, b < 10**digits, as the integer a * 10**digits + b; a randperm of all
    of them, split 90/10: the model trains on the first 90 % and is scored on the other 10 %.
    A problem is the token sequence  a (digits) + b (digits) = c (digits + 1, reversed), zero-padded:
    12+34=64 with 2 digits is 1 2 + 3 4 = 6 4 0 ("046" reversed)."""

    def __init__(self, digits):
        self.digits = digits
        n = 10 ** (2 * digits)
        perm = torch.randperm(n)
        n_train = n - n // 10
        self.train, self.val = perm[:n_train], perm[n_train:]
        self.prompt_len = 2 * digits + 2        # "a+b="
        self.length = 3 * digits + 3            # "a+b=c"

    def sequences(self, problems):
        D = self.digits
        a, b = problems // 10 ** D, problems % 10 ** D
        c = a + b
        cols = [(a // 10 ** (D - 1 - i)) % 10 for i in range(D)] + [torch.full_like(a, 10)]
        cols += [(b // 10 ** (D - 1 - i)) % 10 for i in range(D)] + [torch.full_like(a, 11)]
        cols += [(c // 10 ** i) % 10 for i in range(D + 1)]  # c's digits, the ones first
        return torch.stack(cols, dim=1)  # (N, 3D+3)

    def get_batch(self, split, batch):
        problems = self.train if split == 'train' else self.val
        ix = torch.randint(len(problems), (batch,))
        seq = self.sequences(problems[ix])
        x, y = seq[:, :-1], seq[:, 1:].clone()
        y[:, :self.prompt_len - 1] = -1  # no loss on predicting the prompt, only c's digits
        return x, y


@torch.no_grad()
def add_accuracy(model, data, problems, chunk=1000):
    """Greedy decoding (argmax) of c's digits after each prompt "a+b="; a problem counts when all
    digits + 1 are right. Returns (correct, total, the first chunk's answers)."""
    model.eval()
    correct, answers = 0, None
    for s in range(0, len(problems), chunk):
        seq = data.sequences(problems[s:s + chunk])
        idx = seq[:, :data.prompt_len]
        for _ in range(data.digits + 1):
            logits, _ = model(idx)
            idx = torch.cat((idx, logits[:, -1, :].argmax(-1, keepdim=True)), dim=1)
        got = idx[:, data.prompt_len:]
        correct += int((got == seq[:, data.prompt_len:]).all(dim=1).sum())
        if answers is None:
            answers = got
    model.train()
    return correct, len(problems), answers


def add_problem_text(data, problem, answer_rev):
    """'12+34=46' with the model's answer turned back from its reversed digits."""
    D = data.digits
    a, b = problem // 10 ** D, problem % 10 ** D
    return f'{a}+{b}={int("".join(str(int(d)) for d in reversed(answer_rev)))}'


def train_add(cfg):
    torch.manual_seed(cfg.seed)
    data = Addition(cfg.digits)
    cfg.block = data.length - 1
    cfg.ignore_index = -1
    model = GPTLanguageModel(cfg, len(ADD_VOCAB))
    params, step_losses, evals, wall = train_loop(
        model, cfg, lambda split: data.get_batch(split, cfg.batch), True,
        lambda line: None if cfg.quiet else print(line, flush=True))
    correct, total, answers = add_accuracy(model, data, data.val)
    shown = [add_problem_text(data, int(data.val[i]), answers[i].tolist()) for i in range(min(8, total))]
    if not cfg.quiet:
        print(f'held-out accuracy: {correct}/{total} = {100.0 * correct / total:.2f} %')
        for i, line in enumerate(shown):  # as the C++ program prints them
            a_b = int(data.val[i])
            right = a_b // 10 ** cfg.digits + a_b % 10 ** cfg.digits
            print(line if line.endswith('=' + str(right)) else f'{line}   (wrong: the sum is {right})')
    return {'command': command(), 'openblas_core': support.openblas_core(), 'torch': torch.__version__,
            'threads': torch.get_num_threads(), 'config': {k: getattr(cfg, k) for k in ADD_CONFIG},
            'seed': cfg.seed, 'params': params, 'val_problems': data.val[:8].tolist(), 'losses': step_losses,
            'evals': evals, 'correct': correct, 'total': total, 'shown': shown, 'wall_s': wall}


# ---- the Colab's cells before the finished model --------------------------------------------------
def lecture():
    r = {}
    text = load_text()
    d = Data(text)
    r['length'] = len(text)
    r['vocab'] = ''.join(d.chars)
    r['encode_hii_there'] = d.encode('hii there')
    r['data_9'] = d.data[:9].tolist()
    r['split'] = [len(d.train), len(d.val)]
    torch.manual_seed(1337)
    xb, yb = d.get_batch('train', 4, 8)
    r['xb'], r['yb'] = xb.tolist(), yb.tolist()

    class Cfg:
        n_layer = 0
    torch.manual_seed(1337)
    m = BigramLanguageModel(Cfg, len(d.chars))
    logits, loss = m(xb, yb)
    r['bigram_logits_shape'] = list(logits.shape)
    r['bigram_loss'] = loss.item()
    r['bigram_untrained_100'] = d.decode(m.generate(torch.zeros((1, 1), dtype=torch.long), 100)[0].tolist())
    optimizer = torch.optim.AdamW(m.parameters(), lr=1e-3)
    for steps in range(100):
        xb, yb = d.get_batch('train', 32, 8)
        logits, loss = m(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    r['bigram_loss_100'] = loss.item()
    r['bigram_trained_500'] = d.decode(m.generate(torch.zeros((1, 1), dtype=torch.long), 500)[0].tolist())
    # the mathematical trick
    torch.manual_seed(42)
    a = torch.tril(torch.ones(3, 3))
    a = a / torch.sum(a, 1, keepdim=True)
    b = torch.randint(0, 10, (3, 2)).float()
    c = a @ b
    r['trick_a'], r['trick_b'], r['trick_c'] = a.tolist(), b.tolist(), c.tolist()
    torch.manual_seed(1337)
    B, T, C = 4, 8, 2
    x = torch.randn(B, T, C)
    xbow = torch.zeros((B, T, C))
    for b_ in range(B):
        for t in range(T):
            xbow[b_, t] = torch.mean(x[b_, :t + 1], 0)
    wei = torch.tril(torch.ones(T, T))
    wei = wei / wei.sum(1, keepdim=True)
    xbow2 = wei @ x
    tril = torch.tril(torch.ones(T, T))
    wei3 = torch.zeros((T, T)).masked_fill(tril == 0, float('-inf'))
    wei3 = F.softmax(wei3, dim=-1)
    xbow3 = wei3 @ x
    r['trick_x0'], r['trick_xbow0'] = x[0].tolist(), xbow[0].tolist()
    r['trick_allclose'] = [bool(torch.allclose(xbow, xbow2)), bool(torch.allclose(xbow, xbow3))]
    # version 4: self-attention
    torch.manual_seed(1337)
    B, T, C = 4, 8, 32
    x = torch.randn(B, T, C)
    head_size = 16
    key = nn.Linear(C, head_size, bias=False)
    query = nn.Linear(C, head_size, bias=False)
    value = nn.Linear(C, head_size, bias=False)
    k, q = key(x), query(x)
    wei = q @ k.transpose(-2, -1)
    wei = wei.masked_fill(tril == 0, float('-inf'))
    wei = F.softmax(wei, dim=-1)
    out = wei @ value(x)
    r['head_wei0'] = wei[0].tolist()
    r['head_out_shape'] = list(out.shape)
    k = torch.randn(B, T, head_size)
    q = torch.randn(B, T, head_size)
    wei = q @ k.transpose(-2, -1) * head_size ** -0.5
    r['scaled_var'] = [k.var().item(), q.var().item(), wei.var().item()]
    s = torch.tensor([0.1, -0.2, 0.3, -0.2, 0.5])
    r['softmax'] = F.softmax(s, dim=-1).tolist()
    r['softmax_x8'] = F.softmax(s * 8, dim=-1).tolist()
    # LayerNorm1d
    torch.manual_seed(1337)
    x = torch.randn(32, 100)
    xmean = x.mean(1, keepdim=True)
    xvar = x.var(1, keepdim=True)
    xhat = (x - xmean) / torch.sqrt(xvar + 1e-5)
    r['ln_col0'] = [xhat[:, 0].mean().item(), xhat[:, 0].std().item()]
    r['ln_row0'] = [xhat[0, :].mean().item(), xhat[0, :].std().item()]
    return r


# ---- a tiny GPT's gradients ------------------------------------------------------------------------
def grads(seed, scale, init, dropout, n_embd=16, n_head=2, n_layer=2, block=8, batch=4, activation='relu'):
    cfg = argparse.Namespace(batch=batch, block=block, n_embd=n_embd, n_head=n_head, n_layer=n_layer,
                             dropout=dropout, scale=scale, init=init, activation=activation)
    torch.manual_seed(seed)
    d = Data(load_text())
    model = GPTLanguageModel(cfg, len(d.chars))
    xb, yb = d.get_batch('train', batch, block)
    model.train()
    logits, loss = model(xb, yb)
    loss.backward()
    return {'config': {k: getattr(cfg, k) for k in ('batch', 'block', 'n_embd', 'n_head', 'n_layer', 'dropout', 'scale', 'init', 'activation')},
            'seed': seed, 'x': xb.tolist(), 'y': yb.tolist(), 'loss': loss.item(),
            'logits_sum': logits.double().sum().item(),
            'params': {n: p.detach().flatten().tolist() for n, p in model.named_parameters()},
            'grads': {n: p.grad.flatten().tolist() for n, p in model.named_parameters()}}


def goldens(out_dir, only=None):
    """The runs through OpenBLAS into out_dir/<kernel>/; bigram.py's run (no product) and the lecture
    cells (a few products, compared within 1e-6 by the tests) into out_dir itself, from whichever kernel
    set runs last (the committed ones: Prescott's)."""
    meta = support.stamp(command())
    core = meta['openblas_core']
    os.makedirs(os.path.join(out_dir, core), exist_ok=True)

    def write(name, obj):
        support.write_json(os.path.join(out_dir, name), {**meta, **obj}, indent=None, end='')
        print('wrote', os.path.join(out_dir, name))

    if only in (None, 'add'):
        # exercise 2: the addition GPT's first 100 steps, evaluations at 0, 50 and 99, held-out score
        r = train_add(argparse.Namespace(**dict(ADD_CONFIG, steps=100, eval_interval=50, seed=1337, quiet=True)))
        write(f'{core}/add.json', {k: r[k] for k in ('config', 'seed', 'params', 'val_problems', 'losses', 'evals',
                                                      'correct', 'total', 'shown')})
        if only == 'add':
            return
    if only in (None, 'cosine'):
        # exercise 4's schedule: the default model's first 60 steps with a warm-up and cosine decay
        r = train(argparse.Namespace(**dict(CONFIGS['colab'], seed=1337, gen=100, quiet=True, steps=60, eval_interval=100000,
                                            eval_iters=2, lr=3e-3, lr_schedule='cosine', warmup=10)))
        write(f'{core}/colab_cosine.json', {k: r[k] for k in ('config', 'seed', 'params', 'losses', 'evals', 'sample')})
        if only == 'cosine':
            return
    cases = [grads(1337, 'n_embd', 'torch', 0.0), grads(7, 'head', 'gpt', 0.0), grads(3, 'n_embd', 'torch', 0.2),
             grads(11, 'head', 'gpt', 0.1, activation='gelu')]
    write(f'{core}/grads.json', {'cases': cases})
    if only == 'grads':
        return
    write('lecture.json', lecture())
    # the default run's first 300 steps and a short full run at another seed (eval lines + sample)
    base = dict(CONFIGS['colab'], seed=1337, gen=2000, quiet=True)
    r = train(argparse.Namespace(**dict(base, steps=300)))
    write(f'{core}/colab_300.json', {k: r[k] for k in ('config', 'seed', 'params', 'losses', 'evals', 'sample')})
    r = train(argparse.Namespace(**dict(base, seed=42, steps=201, eval_interval=100, eval_iters=20, gen=300)))
    write(f'{core}/colab_seed42.json', {k: r[k] for k in ('config', 'seed', 'params', 'losses', 'evals', 'sample')})
    r = train(argparse.Namespace(**dict(CONFIGS['bigram'], seed=1337, gen=500, quiet=True)))
    write('bigram.json', {k: r[k] for k in ('config', 'seed', 'params', 'evals', 'sample')})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--goldens', metavar='DIR', help='write all the goldens the C++ tests read into DIR (and DIR/<kernel>/)')
    ap.add_argument('--only', choices=['grads', 'add', 'cosine'], default=None,
                    help="with --goldens: only the tiny GPTs' gradients (grads), exercise 2's run (add) or the "
                         "cosine schedule's run (cosine)")
    sub = ap.add_subparsers(dest='cmd')
    t = sub.add_parser('train')
    t.add_argument('--config', choices=sorted(CONFIGS), default='colab')
    for k, v in CONFIGS['colab'].items():
        t.add_argument('--' + k.replace('_', '-'), type=type(v), default=None)
    t.add_argument('--seed', type=int, default=1337)
    t.add_argument('--gen', type=int, default=None, help='characters to generate (2000 colab, 500 otherwise)')
    t.add_argument('--threads', type=int, default=1)
    t.add_argument('--quiet', action='store_true')
    t.add_argument('--json', default=None)
    t = sub.add_parser('add', help="exercise 2: a GPT that learns a+b=c")
    for k, v in ADD_CONFIG.items():
        t.add_argument('--' + k.replace('_', '-'), type=type(v), default=v)
    t.add_argument('--seed', type=int, default=1337)
    t.add_argument('--threads', type=int, default=1)
    t.add_argument('--quiet', action='store_true')
    t.add_argument('--json', default=None)
    sub.add_parser('lecture')
    g = sub.add_parser('grads')
    g.add_argument('--seed', type=int, default=1337)
    g.add_argument('--scale', default='n_embd')
    g.add_argument('--init', default='torch')
    g.add_argument('--dropout', type=float, default=0.0)
    a = ap.parse_args()
    if a.goldens:
        torch.set_num_threads(1)
        return goldens(a.goldens, a.only)
    if a.cmd is None:
        ap.error('give a command (train, add, lecture, grads) or --goldens DIR')
    torch.set_num_threads(getattr(a, 'threads', 1))
    if a.cmd == 'train':
        cfg = dict(CONFIGS[a.config])
        for k in cfg:
            if getattr(a, k) is not None:
                cfg[k] = getattr(a, k)
        cfg.update(seed=a.seed, quiet=a.quiet, gen=a.gen if a.gen is not None else (2000 if a.config == 'colab' else 500))
        r = train(argparse.Namespace(**cfg))
        if a.json:
            support.write_json(a.json, r, indent=None, end='')
    elif a.cmd == 'add':
        r = train_add(argparse.Namespace(**{k: getattr(a, k) for k in ADD_CONFIG}, seed=a.seed, quiet=a.quiet))
        if a.json:
            support.write_json(a.json, r, indent=None, end='')
    elif a.cmd == 'lecture':
        json.dump({'command': command(), 'openblas_core': support.openblas_core(), **lecture()}, sys.stdout, indent=1)
    elif a.cmd == 'grads':
        json.dump(grads(a.seed, a.scale, a.init, a.dropout), sys.stdout)


if __name__ == '__main__':
    main()
