#!/usr/bin/env bash
# Tests of the ./z2h driver's argument handling, run by ctest (nothing here builds or installs).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
fails=0; passes=0
check() { local what=$1; shift; if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what"; fails=$((fails + 1)); fi; }

out=$(./z2h 2>&1); rc=$?
check "no argument lists the stages and exits 0 (got $rc)" [ $rc -eq 0 ]
for s in 01-micrograd 02-bigram 03-mlp 04-batchnorm 05-backprop-ninja 06-wavenet 07-gpt; do
  check "the list names $s" grep -q "$s" <<<"$out"
done

out=$(./z2h run no-such-stage 2>&1); rc=$?
check "an unknown stage exits 2 (got $rc)" [ $rc -eq 2 ]
check "an unknown stage is named" grep -q "unknown stage 'no-such-stage'" <<<"$out"
check "an unknown stage prints the list" grep -q "01-micrograd" <<<"$out"

out=$(./z2h frobnicate 2>&1); rc=$?
check "an unknown command exits 2 (got $rc)" [ $rc -eq 2 ]

echo "z2h driver: $passes passed, $fails failed"
[ $fails -eq 0 ]
