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
[ $# -ge 1 ] || { echo "usage: $0 <bin-dir>" >&2; exit 2; }
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
steps=${STEPS:-200000}
python=${PYTHON:-/usr/bin/python3}
[ -x "$bin/04-batchnorm" ] || { echo "error: $bin/04-batchnorm not found (build it first: ./z2h bench 04-batchnorm)" >&2; exit 2; }
"$python" -c "import torch" 2>/dev/null || { echo "error: $python cannot import torch (apt-get install python3-torch)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
field() { "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$@"; }
# user CPU seconds of a command; its own output goes to $tmp/log (shown if it fails)
cpu() { TIMEFORMAT=%U; { time "$@" >>"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }; } 2>&1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "config:  the lecture's batch-norm MLP, $steps steps, batch 32, 1 thread each"

echo "load average before C++: $(cut -d' ' -f1-3 /proc/loadavg)"
cpp_cpu=$(cpu "$bin/04-batchnorm" --threads 1 --quiet --steps "$steps" --samples 0 --out "$tmp/cpp")
cpp=$(field "$tmp/cpp/summary.json" "['steps_per_s']")
cpp_val=$(field "$tmp/cpp/summary.json" "['loss']['val']")

echo "load average before PyTorch: $(cut -d' ' -f1-3 /proc/loadavg)"
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
