#!/usr/bin/env bash
# The bad-input suite: every stage program and ./z2h, fed what a careless or hostile user would
# give them — bad flags, bad data files, corrupt checkpoints, a full disk, a kill in the middle of
# a save. Each case asserts
#   - the exit status (2 for bad input; never 1, never a signal, never a hang: 120 s at most),
#   - stderr is ONE line, `error: ...`, that names the problem (a regular expression), holds no
#     control character and is short (< 600 bytes),
#   - the output directory afterwards holds exactly the files it held before, byte for byte
#     (nothing half-written, nothing replaced, no temporary file left).
# A few cases are the other side of a fixed bug: input that used to crash or hang and now runs.
#
# usage: [Z2H_VERBOSE=1] run.sh BIN_DIR KILL_SHIM [CASE_REGEX]   (verbose: print every error line)
#   BIN_DIR    where the stage programs are (build/<preset>/bin)
#   KILL_SHIM  kill_on_fsync.so (an LD_PRELOAD library: see kill_on_fsync.cpp)
#   CASE_REGEX run only the cases whose name matches (e.g. 03-mlp)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
bin=$(cd "$1" && pwd); shim=$2; only=${3:-}
here=$root/common/tests/bad_input
names=$root/data/names.txt
shakespeare=$root/data/tinyshakespeare.txt
[ -f "$names" ] && [ -f "$shakespeare" ] || { echo "bad-input: data/names.txt and data/tinyshakespeare.txt are needed (./z2h test fetches them)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/z2h-bad-input.XXXXXX")
mounted=""
cleanup() { [ -z "$mounted" ] || umount "$mounted" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export OPENBLAS_NUM_THREADS=1

passes=0; fails=0; skips=0; cases=0
fail() { echo "FAIL [$case_name]: $*"; fails=$((fails + 1)); }
wanted() { case_name=$1; [ -z "$only" ] || [[ "$case_name" =~ $only ]]; }

# What a directory holds: "name sha256" per file, sorted (hidden files too).
snapshot() { (cd "$1" 2>/dev/null && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) || true; }

# expect NAME STATUS REGEX DIR -- COMMAND...
# Runs COMMAND (stdin closed), then checks the status, the one error line and DIR's files
# (files whose names match $may_change may have new contents, but must still be there).
expect() {
  local name=$1 want=$2 regex=$3 dir=$4; shift 5
  wanted "$name" || return 0
  cases=$((cases + 1))
  mkdir -p "$dir"
  local before after rc err
  before=$(snapshot "$dir")
  timeout -k 5 120 "$@" </dev/null >"$work/stdout" 2>"$work/stderr"; rc=$?
  # Under ASan (allocator_may_return_null=1) the sanitizer's runtime warns on its own line before a
  # huge allocation returns null; that line is the runtime's, not the program's: drop it.
  sed -i -E '/^==[0-9]+==WARNING: AddressSanitizer failed to allocate 0x[0-9a-f]+ bytes$/d' "$work/stderr"
  after=$(snapshot "$dir")
  if [ -n "${may_change:-}" ]; then  # files written completely before the failing one: names only
    before=$(sed -E "s/^[0-9a-f]+(  \.\/($may_change))$/-\1/" <<<"$before")
    after=$(sed -E "s/^[0-9a-f]+(  \.\/($may_change))$/-\1/" <<<"$after")
  fi
  err=$(cat "$work/stderr")
  local ok=1
  if [ "$rc" -ne "$want" ]; then fail "exit status $rc, expected $want; stderr: ${err:0:300}"; ok=0; fi
  if [ "$want" -ne 0 ]; then
    local lines; lines=$(wc -l <"$work/stderr")
    [ "$lines" -eq 1 ] || { fail "stderr has $lines lines, expected one: ${err:0:300}"; ok=0; }
    [[ "$err" == "error: "* ]] || { fail "stderr does not start with 'error: ': ${err:0:300}"; ok=0; }
    [[ "$err" =~ $regex ]] || { fail "the error does not match /$regex/: ${err:0:300}"; ok=0; }
    [[ "$err" != *internal:* ]] || { fail "an internal error from input: ${err:0:300}"; ok=0; }
    [ ${#err} -lt 600 ] || { fail "the error is ${#err} bytes long"; ok=0; }
    if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$work/stderr"; then fail "a control character in stderr"; ok=0; fi
    [ "$before" = "$after" ] || { fail "the output directory changed: $(diff <(echo "$before") <(echo "$after") | tail -n +2 | head -5 | tr '\n' ' ')"; ok=0; }
  fi
  [ $ok -eq 1 ] && passes=$((passes + 1))
  [ -z "${Z2H_VERBOSE:-}" ] || echo "[$name] exit $rc: ${err:0:300}"
  return 0
}

skip() { echo "SKIP [$1]: $2"; skips=$((skips + 1)); }

# ---- inputs ------------------------------------------------------------------------------------
d=$work/data; mkdir -p "$d"
head -n 300 "$names" >"$d/small.txt"                               # a quick names file
printf 'Emma\nOlivia 2\nAVA\nmia-rose\n' >"$d/mixed.txt"; cat "$d/small.txt" >>"$d/mixed.txt"  # uppercase, digits, spaces
grep -v q "$d/small.txt" >"$d/noq.txt"                              # a vocabulary without q
printf 'a\n' >"$d/one.txt"                                          # one name, one character
: >"$d/empty.txt"
printf 'emma\n\x1b[2J\x1b]0;pwned\x07olivia\nava\n' >"$d/escape.txt"   # terminal escape sequences
printf 'emma\nzo\xc3\xab\nava\n' >"$d/utf8.txt"                      # a non-ASCII name
printf 'emma\x00\nava\n' >"$d/binary.txt"
{ printf '\xef\xbb\xbf'; cat "$d/small.txt"; } >"$d/bom_start.txt"   # a byte-order mark first: fine
{ cat "$d/small.txt"; printf '\xef\xbb\xbfava\n'; } >"$d/bom_middle.txt"
{ head -c 1048576 /dev/zero | tr '\0' x; echo; cat "$d/small.txt"; } >"$d/long_line.txt"     # one 1 MB name
{ printf '\x1b[31m'; head -c 100000 /dev/zero | tr '\0' y; printf '\xff\n'; } >"$d/long_bad.txt"  # 100 KB line, bad byte last
printf 'First Citizen:\nBefore we proceed\x01 any further, hear me speak.\n' >"$d/shakespeare_ctrl.txt"
mkdir -p "$d/nodir"

# Good outputs to protect: one quick run of each checkpointing stage.
g=$work/good; mkdir -p "$g"
"$bin/02-bigram" --quiet --steps 1 --samples 1 --out "$g/02" >/dev/null 2>&1 || echo "warning: the good 02-bigram run failed"
"$bin/03-mlp" --quiet --steps 5 --samples 1 --data "$d/small.txt" --out "$g/03" >/dev/null 2>&1 || echo "warning: the good 03-mlp run failed"
tiny07=(--n-embd 16 --n-layer 1 --n-head 2 --block-size 8 --batch-size 4 --eval-iters 1)  # a 07-gpt of 5537 parameters
"$bin/07-gpt" --quiet --steps 1 --eval-interval 1 --gen 10 "${tiny07[@]}" --out "$g/07" >/dev/null 2>&1 || echo "warning: the good 07-gpt run failed"
ck3=$g/03/model.safetensors; ck2=$g/02/model.safetensors; ck7=$g/07/model.safetensors
m=$work/ck; mkdir -p "$m"
mutate() { python3 "$here/mutate.py" "$@"; }
mutate "$ck3" "$m/block_size.safetensors" meta block_size 1000000
mutate "$ck3" "$m/huge_dims.safetensors" meta emb 999999
mutate "$ck3" "$m/b2_inf.safetensors" fill b2 inf
mutate "$ck3" "$m/w2_nan.safetensors" fill W2 nan
mutate "$ck3" "$m/w2_big.safetensors" fill W2 3e38
mutate "$ck3" "$m/vocab_ctrl.safetensors" meta vocab '.abcdefghijklmnopqrstuvwxy\x1b'
mutate "$ck3" "$m/vocab_order.safetensors" meta vocab 'abcdefghijklmnopqrstuvwxyz.'
mutate "$ck3" "$m/other_stage.safetensors" meta stage $'04-batchnorm\x1b[2J'
mutate "$ck3" "$m/model_escape.safetensors" meta model 'mlp\x1b[2J\x07'   # a model id with terminal escapes
mutate "$ck3" "$m/seed_text.safetensors" meta seed 'forty-two'
mutate "$ck3" "$m/truncated.safetensors" truncate 200
mutate "$ck3" "$m/header_len.safetensors" header-length 9223372036854775807
mutate "$ck2" "$m/n_big.safetensors" int N 4294967296
mutate "$ck2" "$m/n_negative.safetensors" int N -5
printf 'not a checkpoint at all' >"$m/garbage.safetensors"
# 02: a table with no '.' anywhere (no name can end): the counts of row '.' only go to 'a', and
# 'a' only to 'a'. Sampling must stop at --max-len.
python3 - "$ck2" "$m/no_end.safetensors" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n]); data = bytearray(raw[8 + n:])
b = h["N"]["data_offsets"][0]
for i in range(27 * 27): data[b + 8 * i:b + 8 * i + 8] = struct.pack("<q", 5 if i % 27 == 1 else 0)
b = h["W"]["data_offsets"][0]
for i in range(27 * 27): data[b + 4 * i:b + 4 * i + 4] = struct.pack("<f", 50.0 if i % 27 == 1 else 0.0)
open(sys.argv[2], "wb").write(raw[:8 + n] + bytes(data))
PY

o=$work/out   # output directories: each case gets one that already holds a good run's files
fresh() { rm -rf "$o/$1"; mkdir -p "$o/$1"; cp -r "$g/${2:-03}/." "$o/$1/"; echo "$o/$1"; }

# ---- the driver ---------------------------------------------------------------------------------
expect "z2h: run without a stage" 2 "no stage given" "$(fresh z1)" -- "$root/z2h" run
expect "z2h: an unknown stage with escape sequences" 2 "unknown stage" "$(fresh z2)" -- "$root/z2h" run $'x\x1b[2Jy'
expect "z2h: an unknown command" 2 "unknown command" "$(fresh z3)" -- "$root/z2h" frobnicate

# ---- flags, every stage ---------------------------------------------------------------------------
for s in 01-micrograd 02-bigram 03-mlp 04-batchnorm 05-backprop-ninja 06-wavenet 07-gpt; do
  [ -x "$bin/$s" ] || continue
  dir=$(fresh "flags-$s")
  expect "$s: --steps -1" 2 "--steps" "$dir" -- "$bin/$s" --steps -1 --out "$dir"
  expect "$s: an unknown flag" 2 "--frobnicate" "$dir" -- "$bin/$s" --frobnicate --out "$dir"
  expect "$s: --out ''" 2 "--out" "$dir" -- "$bin/$s" --out ""
  expect "$s: --out is a file" 2 "is a file" "$dir" -- "$bin/$s" --steps 0 --out "$dir/summary.json/sub"
done
for s in 02-bigram 03-mlp 04-batchnorm 05-backprop-ninja 06-wavenet; do
  dir=$(fresh "maxlen-$s")
  expect "$s: --max-len 0" 2 "--max-len" "$dir" -- "$bin/$s" --max-len 0 --out "$dir"
done
dir=$(fresh oom)
expect "03-mlp: sizes too large to allocate" 2 "--hidden: .*integer in \[1, 4096\]" "$dir" -- \
  "$bin/03-mlp" --quiet --steps 1 --data "$d/small.txt" --emb 500 --hidden 1000000000 --out "$dir/new"
# Every size flag has an upper bound (a size the system grants may still get the process killed):
# one error line naming the flag and its range, before anything is read or allocated.
dir=$(fresh sizes)
expect "02-bigram: --samples above its bound" 2 "--samples: .*integer in \[0, 100000\]" "$dir" -- \
  "$bin/02-bigram" --quiet --samples 1000000000 --out "$dir"
expect "03-mlp: --batch-size above its bound" 2 "--batch-size: .*integer in \[1, 16384\]" "$dir" -- \
  "$bin/03-mlp" --quiet --batch-size 2000000000 --out "$dir"
expect "03-mlp: --block-size above its bound" 2 "--block-size: .*integer in \[1, 32\]" "$dir" -- \
  "$bin/03-mlp" --quiet --block-size 100000 --out "$dir"
expect "04-batchnorm: --n-hidden above its bound" 2 "--n-hidden: .*integer in \[2, 1024\]" "$dir" -- \
  "$bin/04-batchnorm" --quiet --mode deep --n-hidden 100000 --out "$dir"
expect "04-batchnorm: --batch above its bound" 2 "--batch: .*integer in \[2, 8192\]" "$dir" -- \
  "$bin/04-batchnorm" --quiet --batch 1000000 --out "$dir"
expect "05-backprop-ninja: --n-embd above its bound" 2 "--n-embd: .*integer in \[1, 256\]" "$dir" -- \
  "$bin/05-backprop-ninja" --quiet --n-embd 100000 --out "$dir"
expect "06-wavenet: --n-hidden above its bound" 2 "--n-hidden: .*integer in \[1, 1024\]" "$dir" -- \
  "$bin/06-wavenet" --quiet --n-hidden 1000000 --out "$dir"
expect "06-wavenet: --samples above its bound" 2 "--samples: .*integer in \[0, 100000\]" "$dir" -- \
  "$bin/06-wavenet" --quiet --samples 99999999999 --out "$dir"
expect "07-gpt: --block-size above its bound" 2 "--block-size: .*integer in \[1, 1024\]" "$dir" -- \
  "$bin/07-gpt" --block-size 1000000 --out "$dir"
expect "07-gpt: --n-embd above its bound" 2 "--n-embd: .*integer in \[0, 1024\]" "$dir" -- \
  "$bin/07-gpt" --n-embd 65536 --out "$dir"

# ---- data files ---------------------------------------------------------------------------------
for s in 02-bigram 03-mlp 04-batchnorm 05-backprop-ninja 06-wavenet; do
  dir=$(fresh "data-$s")
  a=(--quiet --steps 1 --samples 1 --out "$dir")
  expect "$s: a missing data file" 2 "not found" "$dir" -- "$bin/$s" "${a[@]}" --data "$d/missing.txt"
  expect "$s: a directory without names.txt" 2 "not found" "$dir" -- "$bin/$s" "${a[@]}" --data "$d/nodir"
  expect "$s: an empty file" 2 "is empty" "$dir" -- "$bin/$s" "${a[@]}" --data "$d/empty.txt"
  expect "$s: a binary file" 2 "looks binary" "$dir" -- "$bin/$s" "${a[@]}" --data "$d/binary.txt"
  expect "$s: terminal escapes in a name" 2 "line 2 .*control character" "$dir" -- "$bin/$s" "${a[@]}" --data "$d/escape.txt"
  expect "$s: a non-ASCII name" 2 "line 2 .*non-ASCII" "$dir" -- "$bin/$s" "${a[@]}" --data "$d/utf8.txt"
  expect "$s: a byte-order mark mid-file" 2 "byte-order mark" "$dir" -- "$bin/$s" "${a[@]}" --data "$d/bom_middle.txt"
  expect "$s: a 100 KB line with a bad byte" 2 "invalid UTF-8|non-ASCII" "$dir" -- "$bin/$s" "${a[@]}" --data "$d/long_bad.txt"
done
for s in 03-mlp 04-batchnorm 05-backprop-ninja 06-wavenet; do
  dir=$(fresh "one-$s")
  expect "$s: a one-name file" 2 "at least 2 names" "$dir" -- "$bin/$s" --quiet --steps 1 --samples 1 --out "$dir" --data "$d/one.txt"
done
dir=$(fresh data-02-26)
expect "02-bigram: a vocabulary without q" 2 "expected 26 lowercase.*no name has 'q'" "$dir" -- "$bin/02-bigram" --quiet --out "$dir" --data "$d/noq.txt"
expect "02-bigram: uppercase, digits and spaces" 2 "expected 26 lowercase.*found 'E' on line 1 " "$dir" -- \
  "$bin/02-bigram" --quiet --out "$dir" --data "$d/mixed.txt"
dir=$(fresh data-07)
expect "07-gpt: a control character in the text" 2 "control character" "$dir" -- \
  "$bin/07-gpt" --steps 1 --out "$dir" --data "$d/shakespeare_ctrl.txt"
expect "07-gpt: a binary text" 2 "looks binary" "$dir" -- "$bin/07-gpt" --steps 1 --out "$dir" --data "$d/binary.txt"
expect "07-gpt: an empty text" 2 "is empty" "$dir" -- "$bin/07-gpt" --steps 1 --out "$dir" --data "$d/empty.txt"
printf 'hi\n' >"$d/short.txt"
expect "07-gpt: a text shorter than one block" 2 "fewer than block_size" "$dir" -- "$bin/07-gpt" --steps 1 --out "$dir" --data "$d/short.txt"

# ---- input that used to crash or hang, and now runs -----------------------------------------------
if wanted "03-mlp: data with uppercase, digits and spaces trains"; then
  cases=$((cases + 1)); dir=$o/ok-mixed
  if timeout 120 "$bin/03-mlp" --quiet --steps 5 --samples 3 --data "$d/mixed.txt" --out "$dir" >"$work/stdout" 2>"$work/stderr" &&
     timeout 60 "$bin/03-mlp" --sample-only --samples 3 --out "$dir" >/dev/null 2>&1; then passes=$((passes + 1))
  else fail "exit $?: $(head -c 300 "$work/stderr")"; fi
fi
if wanted "03-mlp: data without a q trains"; then
  cases=$((cases + 1))
  if timeout 120 "$bin/03-mlp" --quiet --steps 5 --samples 3 --data "$d/noq.txt" --out "$o/ok-noq" >/dev/null 2>"$work/stderr"; then
    passes=$((passes + 1)); else fail "exit $?: $(head -c 300 "$work/stderr")"; fi
fi
if wanted "03-mlp: a 1 MB name: sampling stops at --max-len"; then
  cases=$((cases + 1))
  if timeout 120 "$bin/03-mlp" --quiet --steps 20 --samples 5 --max-len 40 --data "$d/long_line.txt" --out "$o/ok-long" >"$work/stdout" 2>"$work/stderr"; then
    # The samples are the lines of letters (and '.') after the losses.
    longest=$(grep -E '^[a-z.]+$' "$work/stdout" | awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }')
    count=$(grep -cE '^[a-z.]+$' "$work/stdout")
    if [ "$longest" -le 40 ] && [ "$count" -eq 5 ]; then passes=$((passes + 1))
    else fail "$count samples, the longest $longest characters (expected 5, at most 40)"; fi
  else fail "exit $?: $(head -c 300 "$work/stderr")"; fi
fi
if wanted "02-bigram: a table where no name ends: sampling stops at --max-len"; then
  cases=$((cases + 1))
  if timeout 60 "$bin/02-bigram" --sample-only --load "$m/no_end.safetensors" --samples 2 --max-len 30 >"$work/stdout" 2>"$work/stderr"; then
    if grep -qx 'a\{30\}' "$work/stdout"; then passes=$((passes + 1)); else fail "no name cut at 30 characters: $(head -c 200 "$work/stdout")"; fi
  else fail "exit $?: $(head -c 300 "$work/stderr")"; fi
fi
if wanted "02-bigram: a byte-order mark at the start is dropped"; then
  cases=$((cases + 1))
  if timeout 60 "$bin/02-bigram" --quiet --steps 0 --samples 1 --data "$d/bom_start.txt" --out "$o/ok-bom" >/dev/null 2>"$work/stderr"; then
    passes=$((passes + 1)); else fail "exit $?: $(head -c 300 "$work/stderr")"; fi
fi

# ---- checkpoints --------------------------------------------------------------------------------
dir=$(fresh ck-03)
s3=("$bin/03-mlp" --sample-only --samples 2 --out "$dir")
expect "03-mlp: no checkpoint" 2 "no checkpoint" "$dir" -- "${s3[@]}" --load "$m/missing.safetensors"
expect "03-mlp: a file that is not a checkpoint" 2 "not a valid safetensors" "$dir" -- "${s3[@]}" --load "$m/garbage.safetensors"
expect "03-mlp: a truncated checkpoint" 2 "not a valid safetensors|header length" "$dir" -- "${s3[@]}" --load "$m/truncated.safetensors"
expect "03-mlp: a header length of 2^63" 2 "header length" "$dir" -- "${s3[@]}" --load "$m/header_len.safetensors"
expect "03-mlp: block_size 1000000 in the metadata" 2 "W1" "$dir" -- "${s3[@]}" --load "$m/block_size.safetensors"
expect "03-mlp: emb 999999 in the metadata" 2 "'C'" "$dir" -- "${s3[@]}" --load "$m/huge_dims.safetensors"
expect "03-mlp: inf in b2" 2 "'b2' holds an infinity" "$dir" -- "${s3[@]}" --load "$m/b2_inf.safetensors"
expect "03-mlp: NaN in W2" 2 "'W2' holds NaN" "$dir" -- "${s3[@]}" --load "$m/w2_nan.safetensors"
expect "03-mlp: 3e38 in W2" 2 "not finite" "$dir" -- "${s3[@]}" --load "$m/w2_big.safetensors"
expect "03-mlp: a control character in the vocabulary" 2 "not a printable character" "$dir" -- "${s3[@]}" --load "$m/vocab_ctrl.safetensors"
expect "03-mlp: '.' not first in the vocabulary" 2 "does not start with" "$dir" -- "${s3[@]}" --load "$m/vocab_order.safetensors"
expect "03-mlp: another stage's checkpoint" 2 "not written by 03-mlp" "$dir" -- "${s3[@]}" --load "$m/other_stage.safetensors"
expect "03-mlp: a seed that is not a number" 2 "seed" "$dir" -- "${s3[@]}" --load "$m/seed_text.safetensors"
expect "03-mlp: training from a checkpoint of other names" 2 "trained on the characters" "$dir" -- \
  "$bin/03-mlp" --quiet --steps 1 --load "$ck3" --data "$d/mixed.txt" --out "$dir"
dir=$(fresh ck-02 02)
expect "02-bigram: a count above int32" 2 "more than an int32" "$dir" -- "$bin/02-bigram" --sample-only --load "$m/n_big.safetensors"
expect "02-bigram: a negative count" 2 "negative" "$dir" -- "$bin/02-bigram" --sample-only --load "$m/n_negative.safetensors"
expect "02-bigram: a 03-mlp checkpoint" 2 "has no array" "$dir" -- "$bin/02-bigram" --sample-only --load "$ck3"
dir=$(fresh ck-04)
expect "04-batchnorm: a 03-mlp checkpoint" 2 "holds" "$dir" -- "$bin/04-batchnorm" --quiet --steps 0 --load "$ck3" --out "$dir"
expect "04-batchnorm: a model id with terminal escapes, shown quoted" 2 "holds model 'mlp\\\\x1B\\[2J\\\\x07'" "$dir" -- \
  "$bin/04-batchnorm" --quiet --steps 0 --load "$m/model_escape.safetensors" --out "$dir"
expect "04-batchnorm: garbage" 2 "not a valid safetensors" "$dir" -- "$bin/04-batchnorm" --quiet --steps 0 --load "$m/garbage.safetensors" --out "$dir"
dir=$(fresh ck-06)
expect "06-wavenet: a 03-mlp checkpoint" 2 "holds no 06-wavenet model" "$dir" -- "$bin/06-wavenet" --quiet --steps 0 --load "$ck3" --out "$dir"
expect "06-wavenet: a model id with terminal escapes, shown quoted" 2 "holds model 'mlp\\\\x1B\\[2J\\\\x07'" "$dir" -- \
  "$bin/06-wavenet" --quiet --steps 0 --load "$m/model_escape.safetensors" --out "$dir"
expect "06-wavenet: a truncated checkpoint" 2 "not a valid safetensors|header length" "$dir" -- "$bin/06-wavenet" --quiet --steps 0 --load "$m/truncated.safetensors" --out "$dir"
dir=$(fresh ck-07)
expect "07-gpt: a 03-mlp checkpoint" 2 "checkpoint" "$dir" -- "$bin/07-gpt" --mode sample --load "$ck3" --out "$dir"
expect "07-gpt: garbage" 2 "not a valid safetensors" "$dir" -- "$bin/07-gpt" --mode sample --load "$m/garbage.safetensors" --out "$dir"
mutate "$ck7" "$m/step_text.safetensors" meta step abc
mutate "$ck7" "$m/embd_escape.safetensors" meta n_embd '16\x1b[2J'
expect "07-gpt: a step that is not a number" 2 "has step = 'abc', not a step number" "$dir" -- \
  "$bin/07-gpt" --quiet --steps 3 "${tiny07[@]}" --resume "$m/step_text.safetensors" --out "$dir"
expect "07-gpt: a size with terminal escapes, shown quoted" 2 "has n_embd = '16\\\\x1B\\[2J'" "$dir" -- \
  "$bin/07-gpt" --quiet --steps 3 "${tiny07[@]}" --resume "$m/embd_escape.safetensors" --out "$dir"

# ---- a kill in the middle of a checkpoint write ------------------------------------------------------
if wanted "03-mlp: killed while saving its checkpoint"; then
  cases=$((cases + 1)); dir=$(fresh kill)
  before=$(snapshot "$dir")
  # (In a subshell whose stderr is dropped: bash reports the SIGKILL as "Killed".)
  ( Z2H_KILL_ON=model.safetensors.tmp LD_PRELOAD=$shim ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
    timeout 120 "$bin/03-mlp" --quiet --steps 5 --seed 7 --samples 1 --data "$d/small.txt" --out "$dir" >/dev/null 2>&1
    exit $? ) 2>/dev/null; rc=$?
  stale=$(find "$dir" -name 'model.safetensors.tmp.*' | wc -l)
  if [ $rc -ne 137 ]; then fail "expected the SIGKILL (137), got $rc"
  elif ! cmp -s "$g/03/model.safetensors" "$dir/model.safetensors"; then fail "the earlier checkpoint changed"
  elif [ "$stale" -ne 1 ]; then fail "expected the killed save's temporary file, found $stale"
  else
    # The next run in that directory removes the dead process's temporary file.
    timeout 120 "$bin/03-mlp" --quiet --steps 1 --samples 1 --data "$d/small.txt" --out "$dir" >/dev/null 2>&1
    if [ -n "$(find "$dir" -name '*.tmp.*')" ]; then fail "the next run left the stale temporary file"
    else passes=$((passes + 1)); fi
  fi
fi

# ---- a full disk --------------------------------------------------------------------------------------
full_disk() {   # $1 = case name, $2 = stage dir of good files, $3 = the error's regex, then the command (--out $fs/out)
  local name=$1 src=$2 regex=$3; shift 3
  wanted "$name" || return 0
  if [ -z "$mounted" ]; then
    skip "$name" "no size-limited file system: mounting a tmpfs needs root (or CAP_SYS_ADMIN) and this runs as $(id -un)"
    return 0
  fi
  rm -rf "${mounted:?}"/*
  mkdir -p "$mounted/out"; cp -r "$g/$src/." "$mounted/out/"
  # Fill the disk, then free 24 KB: the next file is written part-way before the disk is full.
  dd if=/dev/zero of="$mounted/filler" bs=4k >/dev/null 2>&1
  truncate -s -24K "$mounted/filler"
  expect "$name" 2 "$regex" "$mounted/out" -- "$@"
  may_change=""
}
fs=$work/fs; mkdir -p "$fs"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=2m z2h-bad-input "$fs" 2>/dev/null; then mounted=$fs; fi
full_disk "02-bigram: a full disk (a PNG cut short)" 02 "cannot write .*bigram_counts.png.*incomplete" \
  "$bin/02-bigram" --quiet --steps 1 --samples 1 --out "$fs/out"
# No plots (--steps 0, --emb 1): the CSV fits in the 24 KB left, the 260 KB checkpoint does not.
# metrics.csv is written (completely) before the checkpoint, so it may be the new one.
may_change='metrics\.csv'
full_disk "03-mlp: a full disk (a checkpoint cut short)" 03 "cannot write .*model.safetensors.*No space left" \
  "$bin/03-mlp" --quiet --steps 0 --emb 1 --hidden 2000 --samples 1 --data "$d/small.txt" --out "$fs/out"

echo "bad-input: $cases cases: $passes passed, $fails failed, $skips skipped"
[ $fails -eq 0 ]
