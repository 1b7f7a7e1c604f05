#!/usr/bin/env bash
# Runs every libFuzzer target for a fixed time on its seed corpus (fuzz/corpus/<name>/), with
# ASan+UBSan. New inputs go to a scratch directory, so the committed corpora stay small; a crash
# leaves its input in build/fuzz/artifacts/ and fails the script.
#
#   cmake --preset fuzz && cmake --build --preset fuzz
#   fuzz/run.sh 30                 # 30 s each (what .ci/run does)
#   fuzz/run.sh 600 fuzz_text      # one target, 10 minutes
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-30}; shift || true
bin=$root/build/fuzz/fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_safetensors fuzz_checkpoint_meta fuzz_text fuzz_cli)
artifacts=$root/build/fuzz/artifacts; mkdir -p "$artifacts"
failed=0
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "error: $bin/$t is not built (cmake --preset fuzz && cmake --build --preset fuzz)" >&2; exit 2; }
  scratch=$(mktemp -d)
  # rss_limit: an input that makes the code allocate gigabytes is a finding, not an out-of-memory kill.
  log=$artifacts/$t.log
  quiet=(); [ "$t" != fuzz_cli ] || quiet=(-close_fd_mask=3)   # its error lines are the program's answers
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin/$t" "$scratch" "$root/fuzz/corpus/${t#fuzz_}" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -timeout=20 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "${quiet[@]}" \
    >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -eq 0 ]; then echo "$t: ${seconds}s, ${runs:-?} runs, $cov, clean"
  else echo "$t: FAILED (exit $rc; see $log)"; tail -30 "$log"; failed=1; fi
  rm -rf "$scratch"
done
exit $failed
