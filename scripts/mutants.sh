#!/usr/bin/env bash
# Mutation testing of the modules where a silent bug costs most (see CONTRIBUTING.md,
# "Mutation testing"). Not part of .ci/run.
#
#   scripts/mutants.sh                 # every listed file
#   scripts/mutants.sh src/env/proxy.rs src/model/host.rs   # only these (must be listed ones)
#
# Pass 1 runs every mutant against the unit tests only (`cargo test --lib`, seconds per
# mutant); pass 2 runs the survivors (missed and timed out) against the whole suite with
# `--iterate` (MUTANTS_LIB_ONLY=1 stops after pass 1). The summary per file goes to mutants.out/summary.md and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_FILES=(
  src/report/verdict.rs
  src/report/aggregate.rs
  src/report/fail_on.rs
  src/env/proxy.rs
  src/model/host.rs
  src/model/text.rs
  src/audit/mod.rs
  src/report/diagnose.rs
  src/profile/mod.rs
)
if [ $# -gt 0 ]; then FILES=("$@"); else FILES=("${ALL_FILES[@]}"); fi

# Only the validation half of src/profile/mod.rs: not the condition evaluation, the lookups,
# the file resolution or the error-position helpers.
EXCLUDE='src/profile/mod\.rs:.*(Condition::|Profile::capability|Profile::variable| in resolve$|replace resolve -> |replace clip -> |replace pos_of -> )'

# One shared target directory: the dependencies are built once (profile `mutants`, no debug
# info) and every mutant only rebuilds this crate. Kept apart from target/debug so a
# developer's own builds are not invalidated.
export CARGO_TARGET_DIR="${MUTANTS_TARGET_DIR:-$PWD/target}"
JOBS="${MUTANTS_JOBS:-1}"
# Most of a mutant's time in pass 1 is linking the test binary: mold (if installed) links it in
# a fraction of the time GNU ld takes. The flags only apply to this target directory's builds.
if command -v mold >/dev/null && [ -z "${RUSTFLAGS:-}" ]; then
  export RUSTFLAGS="-C link-arg=-fuse-ld=mold"
  echo "(linking with mold)"
fi

# A mutant that makes a loop endless runs until its timeout, growing memory all the while
# (6.8 GB seen for a `percent_decode` mutant): pass 1's unit tests take seconds, so 60 s is
# ample there; pass 2 runs the whole suite (about a minute and a half on 2 cores).
args=(--profile mutants --jobs "$JOBS" --no-shuffle --baseline skip
      --minimum-test-timeout 60 -E "$EXCLUDE")
for f in "${FILES[@]}"; do args+=(-f "$f"); done

start=$(date +%s)
rm -rf mutants.out mutants.out.old mutants.out.lib
echo "== pass 1: unit tests only (cargo test --lib)"
cargo mutants "${args[@]}" --timeout "${MUTANTS_LIB_TIMEOUT:-60}" -- --lib || true
cp -a mutants.out mutants.out.lib
echo "== pass 2: survivors against the whole suite (--iterate)"
if [ "${MUTANTS_LIB_ONLY:-0}" = 1 ]; then
  echo "(skipped: MUTANTS_LIB_ONLY=1)"
elif [ -s mutants.out.lib/missed.txt ] || [ -s mutants.out.lib/timeout.txt ]; then
  cargo mutants "${args[@]}" --timeout "${MUTANTS_TIMEOUT:-300}" --iterate || true
fi
secs=$(( $(date +%s) - start ))

# Per file: caught (either pass), missed and timeouts (after pass 2), unviable (either pass).
count() { # file list...
  local f=$1; shift
  { cat "$@" 2>/dev/null || true; } | { grep -F "$f:" || true; } | sort -u | wc -l
}
{
  echo "# Mutation testing summary"
  echo
  echo "Run $(date -u +%Y-%m-%dT%H:%MZ), ${secs}s, \`scripts/mutants.sh $*\`"
  echo
  echo "| file | caught | missed | unviable | timeouts | score |"
  echo "|---|---:|---:|---:|---:|---:|"
  for f in "${FILES[@]}"; do
    c=$(count "$f" mutants.out.lib/caught.txt mutants.out/caught.txt mutants.out/previously_caught.txt)
    m=$(count "$f" mutants.out/missed.txt)
    u=$(count "$f" mutants.out.lib/unviable.txt mutants.out/unviable.txt)
    t=$(count "$f" mutants.out/timeout.txt)
    if [ $((c + m)) -gt 0 ]; then
      s=$(awk -v c="$c" -v m="$m" 'BEGIN { printf "%.1f %%", 100 * c / (c + m) }')
    else
      s="–"
    fi
    echo "| $f | $c | $m | $u | $t | $s |"
  done
  if [ -s mutants.out/missed.txt ]; then
    echo
    echo "Missed:"
    echo
    sed 's/^/- /' mutants.out/missed.txt
  fi
} > mutants.out/summary.md.tmp
mv mutants.out/summary.md.tmp mutants.out/summary.md
cat mutants.out/summary.md
