#!/usr/bin/env bash
# 04-batchnorm/bench.sh <bin-dir> — the default 200k-step batch-norm MLP, C++ and PyTorch side by side.
#
#   ./z2h bench 04-batchnorm                  (builds, then runs this with build/release/bin)
#   04-batchnorm/bench.sh build/release/bin   (STEPS=20000 04-batchnorm/bench.sh ... for a quick look)
#
# One thread each (--threads 1; reference.py calls torch.set_num_threads(1)), one run each, one after
# the other so they do not compete for the cores. Both time only the training loop (data building,
# evaluation and sampling are outside it) and report steps/s; the ratio is C++ / PyTorch. Each run's
# user CPU time is printed too: on a busy machine wall time lies, CPU time much less. The load
# average is printed before each run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common/app/bench_setup.sh"
bench_setup 04-batchnorm 200000 "import torch" "python3-torch" "$@"
field() { "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$@"; }
# user CPU seconds of a command; its own output goes to $tmp/log (shown if it fails)
cpu() { TIMEFORMAT=%U; { time "$@" >>"$tmp/log" 2>&1 || { cat "$tmp/log" >&3; exit 1; }; } 3>&2 2>&1; }  # a failing run's log to stderr, not into the captured time
echo "config:  the lecture's batch-norm MLP, $steps steps, batch 32, 1 thread each"

bench_load "C++"
cpp_cpu=$(cpu "$bin/04-batchnorm" --threads 1 --quiet --steps "$steps" --samples 0 --out "$tmp/cpp")
cpp=$(field "$tmp/cpp/summary.json" "['steps_per_s']")
cpp_val=$(field "$tmp/cpp/summary.json" "['loss']['val']")

bench_load "PyTorch"
torch_cpu=$(cpu "$python" 04-batchnorm/reference.py --threads 1 --quiet --steps "$steps" --json "$tmp/torch.json")
torch=$(field "$tmp/torch.json" "['steps_per_s']")
torch_val=$(field "$tmp/torch.json" "['loss']['val']")

"$python" - "$cpp" "$torch" "$steps" "$cpp_val" "$torch_val" "$cpp_cpu" "$torch_cpu" <<'PY'
import sys
cpp, torch, steps, cv, tv, cc, tc = map(float, sys.argv[1:])
print(f"C++ 04-batchnorm:  {cpp:9.0f} steps/s  ({steps / cpp:6.1f} s for {steps:.0f} steps)  val {cv:.4f}  (whole program: {cc:.1f} s user CPU)")
print(f"PyTorch reference: {torch:9.0f} steps/s  ({steps / torch:6.1f} s for {steps:.0f} steps)  val {tv:.4f}  (whole program: {tc:.1f} s user CPU)")
print(f"ratio C++ / PyTorch: {cpp / torch:.1f}x (training loop, wall clock)")
PY
