#!/usr/bin/env bash
# 05-backprop-ninja/bench.sh <bin-dir> — exercise 4 (training on the hand-written gradients), C++ and
# PyTorch side by side: the notebook's loop, and the same loop with index_add_ for the embedding gradient.
#
#   ./z2h bench 05-backprop-ninja                  (builds, then runs this with build/release/bin)
#   05-backprop-ninja/bench.sh build/release/bin   (STEPS=20000 05-backprop-ninja/bench.sh ... for a quick look)
#
# One thread each (--threads 1; reference.py calls torch.set_num_threads(1); OPENBLAS_NUM_THREADS=1),
# one run each, one after the other so they do not compete for the cores. All three time only the
# training loop (exercises 1-3, calibration, evaluation and sampling are outside it) and report
# steps/s; the ratios are C++ / PyTorch. The notebook's loop spends ~3.7 ms per step in its Python
# double loop over the 96 embedding rows, the same at every step, so it runs LOOP_STEPS steps
# (default 20000, ~1.5 minutes) and its steps/s stands for the whole run; STEPS (default 200000)
# sets the other two. Each run's user CPU time is printed too: on a busy machine wall time lies,
# CPU time much less. The load average is printed before each run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common/app/bench_setup.sh"
bench_setup 05-backprop-ninja 200000 "import torch" "python3-torch" "$@"
loop_steps=${LOOP_STEPS:-20000}
field() { "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$@"; }
# user CPU seconds of a command; its own output goes to $tmp/log (shown if it fails)
cpu() { TIMEFORMAT=%U; { time "$@" >>"$tmp/log" 2>&1 || { cat "$tmp/log" >&3; exit 1; }; } 3>&2 2>&1; }  # a failing run's log to stderr, not into the captured time
echo "config:  exercise 4's batch-norm MLP (12297 parameters), batch 32, 1 thread each; $steps steps (notebook loop: $loop_steps)"

bench_load "C++"
cpp_cpu=$(cpu "$bin/05-backprop-ninja" --threads 1 --quiet --steps "$steps" --samples 0 --out "$tmp/cpp")
cpp=$(field "$tmp/cpp/summary.json" "['steps_per_s']")
cpp_val=$(field "$tmp/cpp/summary.json" "['loss']['val']")

bench_load "PyTorch, index_add_"
ia_cpu=$(cpu "$python" 05-backprop-ninja/reference.py --threads 1 --quiet --exercise 4 --scatter index_add --steps "$steps" --json "$tmp/ia.json")
ia=$(field "$tmp/ia.json" "['steps_per_s']")
ia_val=$(field "$tmp/ia.json" "['loss']['val']")

bench_load "PyTorch, the notebook's loop"
loop_cpu=$(cpu "$python" 05-backprop-ninja/reference.py --threads 1 --quiet --exercise 4 --scatter loop --steps "$loop_steps" --json "$tmp/loop.json")
loop=$(field "$tmp/loop.json" "['steps_per_s']")

"$python" - "$cpp" "$ia" "$loop" "$steps" "$loop_steps" "$cpp_val" "$ia_val" "$cpp_cpu" "$ia_cpu" "$loop_cpu" <<'PY'
import sys
cpp, ia, loop, steps, loop_steps, cv, iv, cc, ic, lc = map(float, sys.argv[1:])
print(f"C++ 05-backprop-ninja:        {cpp:8.0f} steps/s  ({steps / cpp:7.1f} s for {steps:.0f} steps)  val {cv:.4f}  (whole program: {cc:.1f} s user CPU)")
print(f"PyTorch, index_add_:          {ia:8.0f} steps/s  ({steps / ia:7.1f} s for {steps:.0f} steps)  val {iv:.4f}  (whole program: {ic:.1f} s user CPU)")
print(f"PyTorch, the notebook's loop: {loop:8.0f} steps/s  ({steps / loop:7.1f} s for {steps:.0f} steps, measured over {loop_steps:.0f})  (whole program: {lc:.1f} s user CPU)")
print(f"ratio C++ / notebook loop: {cpp / loop:.1f}x;  C++ / index_add_: {cpp / ia:.1f}x (training loop, wall clock)")
PY
