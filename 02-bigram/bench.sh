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
[ $# -ge 1 ] || { echo "usage: $0 <bin-dir>" >&2; exit 2; }
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
steps=${STEPS:-100}
python=${PYTHON:-/usr/bin/python3}
[ -x "$bin/02-bigram" ] || { echo "error: $bin/02-bigram not found (build it first: ./z2h bench 02-bigram)" >&2; exit 2; }
"$python" -c "import torch" 2>/dev/null || { echo "error: $python cannot import torch (apt-get install python3-torch)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "config:  the lecture's full-batch training, $steps steps over 228146 examples, 1 thread each"

echo "load average before C++: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/02-bigram" --threads 1 --quiet --steps "$steps" --out "$tmp/cpp" >"$tmp/cpp.log"
echo "load average before PyTorch: $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" 02-bigram/reference.py --bench --threads 1 --steps "$steps" --json "$tmp/torch.json" >"$tmp/torch.log"

"$python" - "$tmp/cpp/summary.json" "$tmp/torch.json" "$steps" <<'PY'
import json, sys
c, t, steps = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
cl, tl = c['loss']['train'], t['losses'][-1]
print(f"C++ 02-bigram:     {c['steps_per_s']:8.2f} steps/s  ({steps / c['steps_per_s']:6.2f} s for {steps} steps)  loss at step {steps - 1}: {cl!r}")
print(f"PyTorch reference: {t['steps_per_s']:8.2f} steps/s  ({steps / t['steps_per_s']:6.2f} s for {steps} steps)  loss at step {steps - 1}: {tl!r}")
print(f"ratio C++ / PyTorch: {c['steps_per_s'] / t['steps_per_s']:.1f}x")
PY
