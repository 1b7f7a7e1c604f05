#!/usr/bin/env bash
# 03-mlp/bench.sh <bin-dir> — the default 200k-step training run, C++ and PyTorch side by side.
#
#   ./z2h bench 03-mlp                  (builds, then runs this with build/release/bin)
#   03-mlp/bench.sh build/release/bin   (STEPS=20000 03-mlp/bench.sh ... for a quick look)
#
# One thread each (--threads 1; reference.py calls torch.set_num_threads(1)), one run each, one
# after the other so they do not compete for the cores. Both time only the training loop (data
# building, evaluation and sampling are outside it) and report steps/s; the ratio is C++ / PyTorch.
# The load average is printed before each run: on a busy machine, re-measure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common/app/bench_setup.sh"
bench_setup 03-mlp 200000 "import torch" "python3-torch" "$@"
echo "config:  the lecture's default run, $steps steps, batch 32, 1 thread each"

bench_load "C++"
"$bin/03-mlp" --threads 1 --quiet --steps "$steps" --out "$tmp/cpp" >"$tmp/cpp.log"
cpp=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['steps_per_s'])" "$tmp/cpp/summary.json")
cpp_val=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['loss']['val'])" "$tmp/cpp/summary.json")

bench_load "PyTorch"
"$python" 03-mlp/reference.py --threads 1 --quiet --steps "$steps" --json "$tmp/torch.json" >"$tmp/torch.log"
torch=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['steps_per_s'])" "$tmp/torch.json")
torch_val=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['loss']['val'])" "$tmp/torch.json")

"$python" - "$cpp" "$torch" "$steps" "$cpp_val" "$torch_val" <<'EOF'
import sys
cpp, torch, steps, cv, tv = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print(f"C++ 03-mlp:        {cpp:9.0f} steps/s  ({steps / cpp:6.1f} s for {steps} steps)  dev loss {cv:.4f}")
print(f"PyTorch reference: {torch:9.0f} steps/s  ({steps / torch:6.1f} s for {steps} steps)  dev loss {tv:.4f}")
print(f"ratio C++ / PyTorch: {cpp / torch:.1f}x")
EOF
