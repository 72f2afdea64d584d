#!/usr/bin/env bash
# Hostile input against the four command-line tools (issue 10's standing
# guard at the process level): each case runs a built example on a crafted
# input and asserts its exit code, a phrase of its message, and that the
# outputs of an earlier good run survive. The library-level cases (typed
# errors, fuzzing) are in each crate's tests; this checks what a user sees.
#
#   bash tests/hostile/cli.sh [EXAMPLES_DIR]   (default target/debug/examples)
#
# Needs the examples built (`cargo test --workspace --no-run` builds them)
# and the `ffmpeg` CLI (scripts/setup.sh installs it). Uses no ../shared.
set -uo pipefail
cd "$(dirname "$0")/../.."
EX=${1:-${CARGO_TARGET_DIR:-target}/debug/examples}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

# expect NAME CODE PHRASE -- COMMAND...: runs COMMAND, checks the exit code
# and that PHRASE (grep -E, case-insensitive) is in stdout+stderr.
expect() {
  local name=$1 code=$2 phrase=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ]; then
    echo "FAIL $name: exit $rc, expected $code"; echo "$out" | tail -5 | sed 's/^/    /'
    fail=$((fail + 1)); return
  fi
  if [ -n "$phrase" ] && ! grep -qiE -- "$phrase" <<<"$out"; then
    echo "FAIL $name: no /$phrase/ in output"; echo "$out" | tail -5 | sed 's/^/    /'
    fail=$((fail + 1)); return
  fi
  echo "ok   $name (exit $rc)"
  pass=$((pass + 1))
}

# same NAME FILE SHA: FILE still has the checksum SHA.
same() {
  if [ "$(sha256sum <"$2" 2>/dev/null)" = "$3" ]; then
    echo "ok   $1"; pass=$((pass + 1))
  else
    echo "FAIL $1: $2 changed or vanished"; fail=$((fail + 1))
  fi
}
sum() { sha256sum <"$1"; }

# ---------------------------------------------------------------- curate
CUR="$EX/curate"
C="$T/curate"
mkdir -p "$C"
expect "curate: a good run" 0 "kept" -- \
  "$CUR" --input tests/data/crawl --config tests/data/filters.toml \
  --label-map tests/data/label_map.json --shards --out "$C/out"
M=$(sum "$C/out/manifest.jsonl")
P=$(sum "$C/out/pretrain_list.txt")
expect "curate: a missing --input is an error" 2 "no such file or folder" -- \
  "$CUR" --input "$T/typo" --out "$C/out"
same "curate: the manifest survives a missing input" "$C/out/manifest.jsonl" "$M"
mkdir -p "$C/broken"
printf '{' >"$C/broken/a.info.json"
expect "curate: a run that reads nothing keeps earlier outputs" 1 "left as they were" -- \
  "$CUR" --input "$C/broken" --out "$C/out"
same "curate: the manifest survives a run that read nothing" "$C/out/manifest.jsonl" "$M"
same "curate: the pretraining list survives a run that read nothing" "$C/out/pretrain_list.txt" "$P"
if find "$C/out" -name '*.tmp' | grep -q .; then
  echo "FAIL curate: .tmp files left behind"; fail=$((fail + 1))
else
  echo "ok   curate: no .tmp files left behind"; pass=$((pass + 1))
fi
touch "$C/afile"
expect "curate: --out that is a file" 2 "exists and is not a folder" -- \
  "$CUR" --input tests/data/crawl --out "$C/afile"
printf '[duration]\nmin = 60\nmax = 3\n' >"$C/bad.toml"
expect "curate: a filter range with min > max" 2 "greater than max" -- \
  "$CUR" --input tests/data/crawl --config "$C/bad.toml" --out "$C/o2"
expect "curate: --val-fraction nan" 2 "val_fraction" -- \
  "$CUR" --input tests/data/crawl --val-fraction nan --out "$C/o2"
printf '{"id":"a"}\n' >"$C/lm.jsonl"
expect "curate: a JSON Lines file as --label-map" 2 "not a label map" -- \
  "$CUR" --input tests/data/crawl --label-map "$C/lm.jsonl" --out "$C/o2"
mkdir -p "$C/evil"
printf '{"id":"e1","duration":10,"media_path":"/etc/passwd"}\n{"id":"e2","duration":10,"media_path":"/proc/self/environ"}\n{"id":"e3","duration":10,"media_path":"../../../../../../etc/hostname"}\n' \
  >"$C/evil/posts.jsonl"
expect "curate: media paths outside the input folders are rejected" 0 "media_outside_roots" -- \
  "$CUR" --input "$C/evil" --shards --out "$C/evil_out"
if grep -rqa "root:" "$C/evil_out" || [ -s "$C/evil_out/pretrain_list.txt" ]; then
  echo "FAIL curate: a file outside the input folders reached the outputs"; fail=$((fail + 1))
else
  echo "ok   curate: no file outside the input folders in the lists or shards"; pass=$((pass + 1))
fi

# ------------------------------------------------------- videomae_forward
VF="$EX/videomae_forward"
F=crates/videomae/tests/fixtures
V="$T/videomae"
mkdir -p "$V/empty" "$V/cut"
cp "$F/classify_tiny/config.json" "$V/cut/config.json"
head -c "$(($(stat -c %s "$F/classify_tiny/model.pth") / 2))" "$F/classify_tiny/model.pth" >"$V/cut/model.pth"
fwd() { "$VF" --input "$F/classify_tiny/inputs.safetensors" --output "$V/out.safetensors" "$@"; }
expect "videomae_forward: a good run" 0 "" -- fwd --checkpoint "$F/classify_tiny"
expect "videomae_forward: half a .pth" 1 "model.pth" -- fwd --checkpoint "$V/cut/model.pth"
expect "videomae_forward: an empty checkpoint folder" 1 "no config.json or model.safetensors" -- \
  fwd --checkpoint "$V/empty"
expect "videomae_forward: --tolerance nan" 2 "tolerance" -- \
  fwd --checkpoint "$F/classify_tiny" --compare "$F/classify_tiny/outputs.safetensors" --tolerance nan
expect "videomae_forward: --repeat 0" 2 "repeat" -- fwd --checkpoint "$F/classify_tiny" --repeat 0
IN=$(sum "$F/classify_tiny/inputs.safetensors")
expect "videomae_forward: --output naming its input" 1 "reads" -- \
  "$VF" --checkpoint "$F/classify_tiny" --input "$F/classify_tiny/inputs.safetensors" \
  --output "$F/classify_tiny/inputs.safetensors"
same "videomae_forward: the input survives" "$F/classify_tiny/inputs.safetensors" "$IN"

# --------------------------------------------------------------- hashtags
HT="$EX/hashtags"
D=crates/hashtag-select/tests/data
H="$T/hashtags"
mkdir -p "$H/d"
cp "$D/labels.txt" "$D/posts.jsonl" "$H/d/"
L=$(sum "$H/d/labels.txt")
PO=$(sum "$H/d/posts.jsonl")
expect "hashtags: side outputs that would overwrite --labels" 1 "would overwrite" -- \
  "$HT" --labels "$H/d/labels.txt" --posts "$H/d/posts.jsonl" --out "$H/d/groups.json"
same "hashtags: labels.txt survives" "$H/d/labels.txt" "$L"
expect "hashtags: --out equal to --posts" 1 "would overwrite" -- \
  "$HT" --labels "$D/labels.txt" --posts "$H/d/posts.jsonl" --out "$H/d/posts.jsonl"
same "hashtags: posts.jsonl survives" "$H/d/posts.jsonl" "$PO"
expect "hashtags: --out in a folder that does not exist yet" 0 "groups" -- \
  "$HT" --labels "$D/labels.txt" --posts "$D/posts.jsonl" --views "$D/tag_views.csv" \
  --out "$H/new/deeper/groups.json"
G=$(sum "$H/new/deeper/groups.json")
expect "hashtags: a typo in --posts" 1 "no such file" -- \
  "$HT" --labels "$D/labels.txt" --posts "$H/typo.jsonl" --out "$H/new/deeper/groups.json"
same "hashtags: groups.json survives a typo in --posts" "$H/new/deeper/groups.json" "$G"

# ----------------------------------------------------------------- scenes
SC="$EX/scenes"
S="$T/scenes"
mkdir -p "$S"
ffmpeg -v error -f lavfi -i testsrc2=duration=4:size=320x240:rate=25 -c:v libx264 \
  -threads 1 -pix_fmt yuv420p -movflags +faststart "$S/clip.mp4"
head -c "$(($(stat -c %s "$S/clip.mp4") / 2))" "$S/clip.mp4" >"$S/half.mp4"
expect "scenes: an intact clip" 0 "^\[\[0,100\]\]" -- "$SC" "$S/clip.mp4"
expect "scenes: half an mp4 warns that it is damaged" 0 "damaged.* of 100 frames decoded" -- \
  "$SC" "$S/half.mp4"
expect "scenes: --strict fails on half an mp4" 3 "damaged" -- "$SC" "$S/half.mp4" --strict
for t in nan inf -5; do
  expect "scenes: --threshold $t" 2 "threshold must be" -- "$SC" "$S/clip.mp4" "--threshold=$t"
done
mkfifo "$S/fifo"
expect "scenes: a FIFO is not a regular file (and does not block)" 1 "not a regular file" -- \
  timeout 60 "$SC" "$S/fifo"
expect "scenes: /dev/urandom is not a regular file" 1 "character device" -- \
  timeout 60 "$SC" /dev/urandom

echo
echo "hostile CLI checks: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
