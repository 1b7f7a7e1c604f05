#!/usr/bin/python3
"""The PyTorch side of bench_mlp_step.cpp: one lecture-3 MLP training step, 1 thread.

    /usr/bin/python3 common/tests/bench_mlp_step.py [--steps 20000]

Prints the steps per second (after 1000 warm-up steps), by wall clock and by process CPU time (the
CPU figure is the fair one on a busy machine; Google Benchmark's "CPU" column is the same measure).
"""
import argparse
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20000)
    args = ap.parse_args()
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((27, 10), generator=g)
    W1 = torch.randn((30, 200), generator=g)
    b1 = torch.randn(200, generator=g)
    W2 = torch.randn((200, 27), generator=g)
    b2 = torch.randn(27, generator=g)
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    N = 182625
    X = torch.randint(0, 27, (N, 3), generator=g)
    Y = torch.randint(0, 27, (N,), generator=g)

    def step():
        ix = torch.randint(0, N, (32,), generator=g)
        emb = C[X[ix]]                                  # (32, 3, 10)
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)      # (32, 200)
        logits = h @ W2 + b2                            # (32, 27)
        loss = F.cross_entropy(logits, Y[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -0.1 * p.grad
        return loss

    for _ in range(1000):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        loss = step()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}: {args.steps} steps; "
          f"wall {dt / args.steps * 1e6:.1f} us/step = {args.steps / dt:.0f} steps/s; "
          f"cpu {dc / args.steps * 1e6:.1f} us/step = {args.steps / dc:.0f} steps/s (last loss {loss.item():.4f})")


if __name__ == "__main__":
    main()
