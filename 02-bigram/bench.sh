#!/usr/bin/env bash
# 02-bigram/bench.sh <bin-dir> — the lecture's 100 full-batch gradient steps, C++ and PyTorch side by side.
#
#   ./z2h bench 02-bigram                   (builds, then runs this with build/release/bin)
#   02-bigram/bench.sh build/release/bin    (STEPS=20 02-bigram/bench.sh ... for a quick look)
#
# The same loop on both sides: every step one_hot(xs) @ W over all 228146 bigrams, exp, row-normalise,
# pick, log, mean, + 0.01*(W**2).mean(), backward, W += -50 * grad. One thread each (--threads 1;
# reference.py calls torch.set_num_threads(1)), one after the other so they do not compete for the
# cores. Both time only the training loop and report steps/s; the ratio is C++ / PyTorch.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common/app/bench_setup.sh"
bench_setup 02-bigram 100 "import torch" "python3-torch" "$@"
echo "config:  the lecture's full-batch training, $steps steps over 228146 examples, 1 thread each"

bench_load "C++"
"$bin/02-bigram" --threads 1 --quiet --steps "$steps" --out "$tmp/cpp" >"$tmp/cpp.log"
bench_load "PyTorch"
"$python" 02-bigram/reference.py --bench --threads 1 --steps "$steps" --json "$tmp/torch.json" >"$tmp/torch.log"

"$python" - "$tmp/cpp/summary.json" "$tmp/torch.json" "$steps" <<'PY'
import json, sys
c, t, steps = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
cl, tl = c['loss']['train'], t['losses'][-1]
print(f"C++ 02-bigram:     {c['steps_per_s']:8.2f} steps/s  ({steps / c['steps_per_s']:6.2f} s for {steps} steps)  loss at step {steps - 1}: {cl!r}")
print(f"PyTorch reference: {t['steps_per_s']:8.2f} steps/s  ({steps / t['steps_per_s']:6.2f} s for {steps} steps)  loss at step {steps - 1}: {tl!r}")
print(f"ratio C++ / PyTorch: {c['steps_per_s'] / t['steps_per_s']:.1f}x wall clock")
if 'train_cpu_s' in c and 'train_cpu_s' in t:  # process CPU time of the timed loop: steadier on a shared machine
    cc, tc = c['train_cpu_s'], t['train_cpu_s']
    print(f"CPU time per step: C++ {1e3 * cc / steps:.1f} ms, PyTorch {1e3 * tc / steps:.1f} ms; ratio {tc / cc:.1f}x")
PY
