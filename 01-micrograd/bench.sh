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
source "$(dirname "${BASH_SOURCE[0]}")/../common/app/bench_setup.sh"
bench_setup 01-micrograd 100 "import numpy, sklearn" "python3-numpy python3-sklearn" "$@"
echo "config:  demo.ipynb's moons training, $steps full-batch steps, seed 1337, 1 thread each"

bench_load "C++"
"$bin/01-micrograd" moons --quiet --steps "$steps" --out "$tmp/cpp" >"$tmp/cpp.log"
bench_load "Python"
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
