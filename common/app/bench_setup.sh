# common/app/bench_setup.sh — sourced by each stage's bench.sh (run by `./z2h bench <stage>`).
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../common/app/bench_setup.sh"
#   bench_setup 03-mlp 200000 "import torch" python3-torch "$@"
#
# Checks the arguments and tools, then sets: bin (the build's bin dir), steps ($STEPS or the
# default), python ($PYTHON or /usr/bin/python3, Debian's, which has torch 1.13.1), tmp (a scratch
# dir removed on exit); the working directory becomes the repository root. bench_load LABEL prints
# the load average before a run: on a busy machine, re-measure.
# OPENBLAS_NUM_THREADS=1 is exported for both sides: torch.set_num_threads(1) does not always reach
# Debian torch's OpenBLAS, whose big products then ran on both cores (CPU time above wall time).
bench_setup() {  # bench_setup STAGE DEFAULT_STEPS PYTHON_IMPORTS DEBIAN_PACKAGES BIN_DIR
  local stage=$1 default_steps=$2 imports=$3 packages=$4
  shift 4
  [ $# -ge 1 ] || { echo "usage: $stage/bench.sh <bin-dir>" >&2; exit 2; }
  bin=$(cd "$1" 2>/dev/null && pwd) || { echo "error: build directory '$1' not found (./z2h bench $stage builds it)" >&2; exit 2; }
  cd "$(dirname "${BASH_SOURCE[0]}")/../.."  # this file is common/app/bench_setup.sh
  steps=${STEPS:-$default_steps}
  python=${PYTHON:-/usr/bin/python3}
  [ -x "$bin/$stage" ] || { echo "error: $bin/$stage not found (build it first: ./z2h bench $stage)" >&2; exit 2; }
  "$python" -c "$imports" 2>/dev/null || { echo "error: $python cannot run '$imports' (apt-get install $packages)" >&2; exit 2; }
  export OPENBLAS_NUM_THREADS=1
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
}

bench_load() { echo "load average before $1: $(cut -d' ' -f1-3 /proc/loadavg)"; }
