#!/usr/bin/env bash
# 01-micrograd/bench.sh <bin-dir> — the moons training, C++ engine and pure-Python engine side by side.
#
#   ./z2h bench 01-micrograd                  (builds, then runs this with build/release/bin)
#   01-micrograd/bench.sh build/release/bin   (STEPS=10 01-micrograd/bench.sh ... for a quick look)
#
# The same computation on both sides: demo.ipynb's 100 full-batch steps of MLP(2, [16, 16, 1]) on
# make_moons(100, noise=0.1), seed 1337 — the C++ Value engine against reference.py's micrograd
# engine (pure Python; /usr/bin/python3 with numpy and sklearn for make_moons only). One thread
# each, one after the other. Both time only the training loop and report steps/s, wall-clock and
# CPU; the ratio is C++ / Python. Python takes ~1-2 s per step, so the full run takes minutes.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 <bin-dir>" >&2; exit 2; }
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
steps=${STEPS:-100}
python=${PYTHON:-/usr/bin/python3}
[ -x "$bin/01-micrograd" ] || { echo "error: $bin/01-micrograd not found (build it first: ./z2h bench 01-micrograd)" >&2; exit 2; }
"$python" -c "import numpy, sklearn" 2>/dev/null || { echo "error: $python cannot import numpy and sklearn (apt-get install python3-numpy python3-sklearn)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "config:  demo.ipynb's moons training, $steps full-batch steps, seed 1337, 1 thread each"

echo "load average before C++: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/01-micrograd" moons --quiet --steps "$steps" --out "$tmp/cpp" >"$tmp/cpp.log"
echo "load average before Python: $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" 01-micrograd/reference.py --quiet --steps "$steps" --timing-json "$tmp/py.json" >"$tmp/py.log"

"$python" - "$tmp/cpp/summary.json" "$tmp/py.json" "$steps" <<'PY'
import json, sys
c, p, steps = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
cw, cc = c['train_s'], c['train_cpu_s']
pw, pc = p['wall_s'], p['cpu_s']
print(f"C++ 01-micrograd:     {steps / cw:9.2f} steps/s wall ({cw:8.3f} s), {steps / cc:9.2f} steps/s CPU ({cc:8.3f} s)"
      f"  loss at step {steps - 1}: {c['loss']['train']!r}")
print(f"Python reference.py:  {steps / pw:9.3f} steps/s wall ({pw:8.3f} s), {steps / pc:9.3f} steps/s CPU ({pc:8.3f} s)"
      f"  loss at step {steps - 1}: {p['loss']!r}")
print(f"ratio C++ / Python: {pw / cw:.0f}x wall, {pc / cc:.0f}x CPU")
PY
