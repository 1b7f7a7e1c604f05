#!/usr/bin/env bash
# 07-gpt/bench.sh <bin-dir> — the default run (the Colab's 0.21 M model), C++ and PyTorch side by side.
#
#   ./z2h bench 07-gpt                  (builds, then runs this with build/release/bin)
#   07-gpt/bench.sh build/release/bin   (STEPS=500 07-gpt/bench.sh ... for a quick look)
#
# One thread each, one run after the other. Both report the wall time of the training loop with its
# evaluations (every 100 steps, 200 batches per split) and its tokens/s; each run's user CPU time is
# printed too (on a busy machine wall time lies, CPU time much less). FLOPs are counted from the
# shapes (2·m·n·k per product, ×3 for forward + backward, the evaluations' forwards ×1), so the
# achieved GFLOP/s can be set against the FMA peak (common/tests/bench_roofline).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common/app/bench_setup.sh"
bench_setup 07-gpt 5000 "import torch" "python3-torch" "$@"
field() { "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$@"; }
cpu() { TIMEFORMAT=%U; { time "$@" >>"$tmp/log" 2>&1 || { cat "$tmp/log" >&3; exit 1; }; } 3>&2 2>&1; }  # a failing run's log to stderr, not into the captured time
echo "config:  the Colab's finished model, $steps steps, batch 16, block 32, 1 thread each, kernel $("$python" -c "import ctypes,torch; l=ctypes.CDLL('libopenblas.so.0'); l.openblas_get_corename.restype=ctypes.c_char_p; print(l.openblas_get_corename().decode())")"

bench_load "C++"
cpp_cpu=$(cpu "$bin/07-gpt" --threads 1 --quiet --steps "$steps" --gen 0 --out "$tmp/cpp")
cpp=$(field "$tmp/cpp/summary.json" "['wall_s']")
cpp_val=$(field "$tmp/cpp/summary.json" "['loss']['val']")

bench_load "PyTorch"
torch_cpu=$(cpu "$python" 07-gpt/reference.py train --threads 1 --quiet --steps "$steps" --gen 0 --json "$tmp/torch.json")
torch=$(field "$tmp/torch.json" "['wall_s']")
torch_val=$(field "$tmp/torch.json" "['evals'][str($steps - 1)]['val']")

"$python" - "$cpp" "$torch" "$steps" "$cpp_val" "$torch_val" "$cpp_cpu" "$torch_cpu" <<'PY'
import sys
cpp, torch, steps, cv, tv, cc, tc = map(float, sys.argv[1:])
# FLOPs of one training step of the 0.21 M model (B=16, T=32, C=64, 4 layers, V=65): per layer
# q,k,v,proj (4·C·C), ffwd (8·C·C) per token, attention 2·T·C per token; lm_head C·V per token.
B, T, C, L, V = 16, 32, 64, 4, 65
per_token_fwd = 2 * (L * (12 * C * C + 2 * T * C) + C * V)
evals = (int(steps) - 1) // 100 + 1 + (1 if (int(steps) - 1) % 100 else 0)
flops = per_token_fwd * B * T * (3 * steps + evals * 400)
print(f"C++ 07-gpt:        {cpp:7.1f} s  val {cv:.4f}  {flops / cpp / 1e9:5.1f} GFLOP/s  (whole program: {cc:.1f} s user CPU)")
print(f"PyTorch reference: {torch:7.1f} s  val {tv:.4f}  {flops / torch / 1e9:5.1f} GFLOP/s  (whole program: {tc:.1f} s user CPU)")
print(f"ratio PyTorch / C++ wall time: {torch / cpp:.2f}x ({flops / 1e12:.2f} TFLOP counted)")
PY
