#!/usr/bin/env bash
# Tests of the data step (data/fetch), run by ctest. Each case works on a scratch copy of the
# script, so the real data/ folder is never touched; the network is cut with a dead proxy.
set -uo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
good="$src/names.txt"
[ -f "$good" ] || { echo "FAIL: $good is missing: run data/fetch names.txt first (./z2h test does)"; exit 1; }

fails=0; passes=0
check() {  # check "description" condition...
  local what=$1; shift
  if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
scratch() {  # a fresh copy of data/fetch + SHA256SUMS; prints its directory
  local d; d=$(mktemp -d)
  mkdir -p "$d/data" "$d/mirror"
  cp "$src/fetch" "$src/SHA256SUMS" "$d/data/"
  echo "$d"
}
export https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9   # no download can succeed

# 1. A good mirror file is copied and verified.
d=$(scratch); cp "$good" "$d/mirror/"
out=$(Z2H_DATA_DIR="$d/mirror" "$d/data/fetch" names.txt 2>&1); rc=$?
check "good mirror: exit 0 (got $rc: $out)" [ $rc -eq 0 ]
check "good mirror: file in place" cmp -s "$good" "$d/data/names.txt"

# 2. A second run keeps the verified file and needs no source at all.
out=$(Z2H_DATA_DIR=/nonexistent "$d/data/fetch" names.txt 2>&1); rc=$?
check "second run is a no-op (got $rc: $out)" [ $rc -eq 0 ]

# 3. A corrupt (truncated) mirror file is rejected by its checksum and nothing is left behind.
d=$(scratch); head -c 1000 "$good" >"$d/mirror/names.txt"
out=$(Z2H_DATA_DIR="$d/mirror" "$d/data/fetch" names.txt 2>&1); rc=$?
check "corrupt mirror: exit 2 (got $rc)" [ $rc -eq 2 ]
check "corrupt mirror: one line naming the problem ($out)" [ "$(echo "$out" | wc -l)" -eq 1 ]
check "corrupt mirror: message says corrupt ($out)" grep -q "corrupt" <<<"$out"
check "corrupt mirror: no file left" [ -z "$(ls "$d/data" | grep -v -e '^fetch$' -e '^SHA256SUMS$')" ]

# 4. No mirror and no network: one clear line, exit 2, nothing left behind.
d=$(scratch)
out=$(env -u Z2H_DATA_DIR "$d/data/fetch" names.txt 2>&1 | grep -v '^data: downloading'); rc=${PIPESTATUS[0]}
check "no source: exit 2 (got $rc)" [ $rc -eq 2 ]
check "no source: one line naming Z2H_DATA_DIR ($out)" [ "$(echo "$out" | wc -l)" -eq 1 ]
check "no source: the line names the fix ($out)" grep -q "Z2H_DATA_DIR" <<<"$out"
check "no source: no file left" [ -z "$(ls "$d/data" | grep -v -e '^fetch$' -e '^SHA256SUMS$')" ]

# 5. A damaged file already in data/ is replaced by a verified copy.
d=$(scratch); cp "$good" "$d/mirror/"; echo "garbage" >"$d/data/names.txt"
out=$(Z2H_DATA_DIR="$d/mirror" "$d/data/fetch" names.txt 2>&1); rc=$?
check "damaged local file: exit 0 (got $rc: $out)" [ $rc -eq 0 ]
check "damaged local file: replaced" cmp -s "$good" "$d/data/names.txt"

# 6. An unknown file name is refused.
out=$("$d/data/fetch" nosuch.txt 2>&1); rc=$?
check "unknown file: exit 2 (got $rc)" [ $rc -eq 2 ]

echo "data/fetch: $passes passed, $fails failed"
[ $fails -eq 0 ]
