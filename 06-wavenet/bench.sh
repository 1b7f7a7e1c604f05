#!/usr/bin/env bash
# 06-wavenet/bench.sh <bin-dir> — the default 200k-step WaveNet, C++ and PyTorch side by side, and
# the step's speed as a fraction of one core's FMA peak.
#
#   ./z2h bench 06-wavenet                  (builds, then runs this with build/release/bin)
#   06-wavenet/bench.sh build/release/bin   (STEPS=5000 06-wavenet/bench.sh ... for a quick look)
#
# One thread each (--threads 1; reference.py calls torch.set_num_threads(1); OPENBLAS_NUM_THREADS=1),
# one run each, one after the other. Both time only the training loop and report steps/s; the
# ratio is C++ / PyTorch. Both call the same OpenBLAS, whose kernel (printed) decides most of the
# time: set OPENBLAS_CORETYPE=Haswell to compare on the kernel most laptops get.
# Then 06-wavenet-bench measures the FMA peak, the step's 12 products alone, and the whole step.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common/app/bench_setup.sh"
bench_setup 06-wavenet 200000 "import torch" "python3-torch" "$@"
field() { "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$@"; }
cpu() { TIMEFORMAT=%U; { time "$@" >>"$tmp/log" 2>&1 || { cat "$tmp/log" >&3; exit 1; }; } 3>&2 2>&1; }  # a failing run's log to stderr, not into the captured time
echo "config:  the notebook's final model (76579 parameters), $steps steps, batch 32, 1 thread each"

bench_load "C++"
cpp_cpu=$(cpu "$bin/06-wavenet" --threads 1 --quiet --steps "$steps" --samples 0 --out "$tmp/cpp")
cpp=$(field "$tmp/cpp/summary.json" "['steps_per_s']")
cpp_val=$(field "$tmp/cpp/summary.json" "['loss']['val']")
core=$(field "$tmp/cpp/summary.json" "['openblas_core']")

bench_load "PyTorch"
torch_cpu=$(cpu "$python" 06-wavenet/reference.py --threads 1 --quiet --steps "$steps" --samples 0 --json "$tmp/torch.json")
torch=$(field "$tmp/torch.json" "['steps_per_s']")
torch_val=$(field "$tmp/torch.json" "['loss']['val']")

"$python" - "$cpp" "$torch" "$steps" "$cpp_val" "$torch_val" "$cpp_cpu" "$torch_cpu" "$core" <<'PY'
import sys
cpp, torch, steps, cv, tv, cc, tc = map(float, sys.argv[1:8])
print(f"OpenBLAS kernel: {sys.argv[8]}")
print(f"C++ 06-wavenet:    {cpp:7.0f} steps/s  ({steps / cpp:6.1f} s for {steps:.0f} steps)  val {cv:.4f}  (whole program: {cc:.1f} s user CPU)")
print(f"PyTorch reference: {torch:7.0f} steps/s  ({steps / torch:6.1f} s for {steps:.0f} steps)  val {tv:.4f}  (whole program: {tc:.1f} s user CPU)")
print(f"ratio C++ / PyTorch: {cpp / torch:.2f}x (training loop, wall clock)")
PY
bench_load "06-wavenet-bench"
"$bin/06-wavenet-bench" data/names.txt
