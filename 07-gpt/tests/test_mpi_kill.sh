#!/usr/bin/env bash
# A rank killed in the middle of a data-parallel run (docs/mpi.md): the job ends with one line of
# ours on stderr naming the last checkpoint, and that checkpoint resumes the run.
#   test_mpi_kill.sh <07-gpt program> <mpiexec> [mpiexec flags...]   (ctest: "07-gpt: mpi: ...")
set -uo pipefail
exe=$1 mpiexec=$2; shift 2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; echo "--- stderr:"; cat "$dir/err" 2>/dev/null; exit 1; }
model=(--n-embd 16 --n-head 2 --n-layer 1 --block-size 8 --eval-interval 5 --eval-iters 2 --gen 10 --quiet)

# A run far too long to finish: once its second checkpoint is written, rank 1 is killed (SIGKILL).
"$mpiexec" "$@" -np 2 "$exe" "${model[@]}" --batch-size 4 --steps 10000000 --out "$dir/run" >"$dir/out" 2>"$dir/err" &
launcher=$!
for _ in $(seq 600); do grep -q "^step 5:" "$dir/out" 2>/dev/null && break; sleep 0.1; done
grep -q "^step 5:" "$dir/out" || { kill "$launcher"; fail "no checkpoint within 60 s"; }
rank1=""
for p in $(pgrep -P "$launcher"); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && rank1=$p
done
[ -n "$rank1" ] || { kill "$launcher"; fail "rank 1 not found among mpirun's children (not Open MPI?)"; }
kill -9 "$rank1"
wait "$launcher"; rc=$?
[ "$rc" -ne 0 ] || fail "the job ended with status 0 after a rank was killed"

# Our one line: rank 0 names the checkpoint (Open MPI's own boxed lines come around it).
ours=$(grep -c "^error: " "$dir/err")
[ "$ours" -eq 1 ] || fail "expected 1 'error: ' line on stderr, got $ours"
grep -q "^error: the job was stopped .*its last checkpoint, $dir/run/model.safetensors (step [0-9]*), continues it: add --resume" "$dir/err" ||
  fail "the error line does not name the checkpoint"
step=$(sed -n 's/^error: .*(step \([0-9]*\)).*/\1/p' "$dir/err")

# The checkpoint is whole and resumes, on 2 ranks and on 1.
cp "$dir/run/model.safetensors" "$dir/last.safetensors"
"$mpiexec" "$@" -np 2 "$exe" "${model[@]}" --batch-size 4 --steps $((step + 3)) --resume "$dir/last.safetensors" --out "$dir/two" \
  >"$dir/out2" 2>"$dir/err" || fail "resuming on 2 ranks failed"
grep -q "^resumed from $dir/last.safetensors at step $step" "$dir/out2" || fail "2 ranks did not resume at step $step"
"$exe" "${model[@]}" --batch-size 8 --steps $((step + 3)) --resume "$dir/last.safetensors" --out "$dir/one" \
  >"$dir/out1" 2>"$dir/err" || fail "resuming on 1 process failed"
# the same rows, the same weights: the evaluations at the resumed step agree (printed to 4 decimals)
paste -d' ' <(grep "^step $step:" "$dir/out2") <(grep "^step $step:" "$dir/out1") | tr -d ',' |
  awk '{ d1 = $5 - $13; d2 = $8 - $16; if (NF != 16 || d1 * d1 > 2e-8 || d2 * d2 > 2e-8) exit 1 }' ||
  fail "1 and 2 ranks evaluate the checkpoint differently"
echo "killed rank 1 at step >= $step; the checkpoint of step $step resumed on 2 ranks and on 1"
