#!/usr/bin/env bash
# benches/triage.sh: how fast `leadcheck triage` classifies a large ticket export, compared
# with a plain search for the catalog's identifiers by `grep -F` and ripgrep. Not run by CI.
#
# What it does, in one run:
#   1. generates benches/out/tickets.txt, SIZE_MB MiB (default 256) of synthetic tickets, one
#      per line, five languages, ~2% carrying a documented error (benches/gen_tickets.py,
#      fixed seed; kept between runs while the generator, fixtures/messages, seed and size
#      are unchanged: benches/out/tickets.txt.stamp);
#   2. dumps the catalog's anchors (catalog/*.toml, signatures.anchors) to benches/out/frags.txt;
#   3. builds leadcheck with `cargo build --release`;
#   4. installs ripgrep into .tools/ if it is missing (`cargo install ripgrep --locked`;
#      NO_RG_INSTALL=1 skips it and the rg column);
#   5. times, with /usr/bin/time (elapsed seconds and peak RSS), the median of RUNS (3) runs,
#      interleaved round by round (paths must not hold spaces):
#        leadcheck triage --format json tickets.txt          (classifies every record, all cores)
#        leadcheck triage --threads 1 --format json ...     (one classifying thread)
#        grep -c -F -i -f frags.txt tickets.txt              (only finds lines)
#        rg -j1 -c -F -i -f frags.txt tickets.txt
#      and prints MiB/s, the ratio of leadcheck to the faster of grep and rg, the scaling from
#      1 thread to all, and the prefilter's pass rate (`triage -v`);
#   6. times cold starts against `leadcheck --version` (hyperfine when installed, else 20 runs
#      timed with date +%s%N): catalog, explain CODE, explain TEXT.
#
# Goals: ratio <= 1.0, peak RSS <= 64 MiB, explain TEXT <= 2x --version, catalog and
# explain CODE <= 1.5x.
# Usage: benches/triage.sh            SIZE_MB=64 RUNS=5 benches/triage.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/benches/out"
SIZE_MB=${SIZE_MB:-256}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$OUT"
cd "$ROOT"

tickets="$OUT/tickets.txt"
# The corpus is kept between runs only while what made it is unchanged: the generator, the
# fixture messages it draws from, the seed and the size. (A corpus kept by its size alone
# once outlived an edit of ordinary.txt, and a whole stop measured the wrong input.)
stamp=$( { cat benches/gen_tickets.py fixtures/messages/*.txt; echo "seed 42 size $SIZE_MB"; } | sha256sum | cut -c1-16)
if [[ ! -f "$tickets" || "$(cat "$tickets.stamp" 2>/dev/null)" != "$stamp" ]]; then
    python3 benches/gen_tickets.py --size-mb "$SIZE_MB" --seed 42 --out "$tickets"
    echo "$stamp" > "$tickets.stamp"
fi

python3 - "$OUT/frags.txt" <<'PY'
import glob, sys, tomllib
frags = set()
for path in glob.glob("catalog/*.toml"):
    with open(path, "rb") as f:
        frags.update(a for a in tomllib.load(f).get("signatures", {}).get("anchors", []) if a.strip())
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("\n".join(sorted(frags)) + "\n")
print(f"{len(frags)} anchors in {sys.argv[1]}")
PY

cargo build --release --quiet
bin="$TARGET/release/leadcheck"

rg_bin=$(command -v rg || true)
if [[ -z "$rg_bin" && -x "$ROOT/.tools/bin/rg" ]]; then rg_bin="$ROOT/.tools/bin/rg"; fi
if [[ -z "$rg_bin" && "${NO_RG_INSTALL:-0}" != 1 ]]; then
    echo "installing ripgrep into .tools/ (NO_RG_INSTALL=1 skips this)"
    if cargo install ripgrep --locked --root "$ROOT/.tools" --quiet; then rg_bin="$ROOT/.tools/bin/rg"; fi
fi
[[ -z "$rg_bin" ]] && echo "ripgrep not available: its column is skipped"

# Runs a command under /usr/bin/time; prints "seconds peak_kib".
measure() {
    local log; log=$(mktemp)
    # Output to a file, not /dev/null: GNU grep stops at the first match when it sees /dev/null.
    /usr/bin/time -o "$log" -f "%e %M" "$@" >"$log.out" 2>&1 || true
    tail -1 "$log"
    rm -f "$log" "$log.out"
}

cat "$tickets" >/dev/null  # warm the page cache
RUNS=${RUNS:-3}
# The commands are interleaved, one round after another, so that a busy spell of the
# machine slows every command alike; each result is the median of its RUNS runs (with the
# peak RSS of that run).
names=(lc lc1 grep); cmds=("$bin triage --format json $tickets" "$bin triage --threads 1 --format json $tickets" "grep -c -F -i -f $OUT/frags.txt $tickets")
if [[ -n "$rg_bin" ]]; then names+=(rg); cmds+=("$rg_bin -j1 -c -F -i -f $OUT/frags.txt $tickets"); fi
declare -A rows
for _ in $(seq "$RUNS"); do
    for k in "${!names[@]}"; do
        # shellcheck disable=SC2086 # the command line is split on purpose
        rows[${names[$k]}]+="$(measure ${cmds[$k]})"$'\n'
    done
done
median_of() { printf '%s' "${rows[$1]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }
read -r t_lc rss_lc < <(median_of lc)
read -r t_lc1 rss_lc1 < <(median_of lc1)
read -r t_grep rss_grep < <(median_of grep)
t_rg=""; rss_rg=""
if [[ -n "$rg_bin" ]]; then read -r t_rg rss_rg < <(median_of rg); fi

"$bin" triage --format json "$tickets" > "$OUT/triage.jsonl"
matched=$(tail -1 "$OUT/triage.jsonl")
lines=$(( $(wc -l < "$OUT/triage.jsonl") - 1 ))
records=$(wc -l < "$tickets")
[[ "$lines" == "$records" ]] || echo "WARNING: $lines output lines for $records records"
best=$t_grep; best_name=grep
if [[ -n "$t_rg" ]] && python3 -c "import sys; sys.exit(0 if float('$t_rg') < float('$t_grep') else 1)"; then best=$t_rg; best_name=rg; fi
ratio=$(python3 -c "print(f'{float(\"$t_lc\") / max(float(\"$best\"), 0.01):.2f}')")
mib=$(( $(stat -c %s "$tickets") / 1048576 ))
rate() { python3 -c "print(f'{$mib / max(float(\"$1\"), 0.001):.0f}')"; }

echo
echo "input: $tickets ($mib MiB, $records tickets); median of $RUNS runs each"
echo "summary: $(echo "$matched" | cut -c1-160)..."
echo "$("$bin" -v triage --format json "$tickets" 2>&1 >/dev/null | grep prefilter)"
printf '%-44s %8s %8s %10s\n' "command" "seconds" "MiB/s" "peak RSS"
printf '%-44s %8s %8s %6s MiB\n' "leadcheck triage --format json ($(nproc) threads)" "$t_lc" "$(rate "$t_lc")" "$((rss_lc / 1024))"
printf '%-44s %8s %8s %6s MiB\n' "leadcheck triage --threads 1 --format json" "$t_lc1" "$(rate "$t_lc1")" "$((rss_lc1 / 1024))"
printf '%-44s %8s %8s %6s MiB\n' "grep -c -F -i -f frags.txt" "$t_grep" "$(rate "$t_grep")" "$((rss_grep / 1024))"
[[ -n "$t_rg" ]] && printf '%-44s %8s %8s %6s MiB\n' "rg -j1 -c -F -i -f frags.txt" "$t_rg" "$(rate "$t_rg")" "$((rss_rg / 1024))"
echo "ratio leadcheck / $best_name: $ratio (goal <= 1.0); peak RSS goal <= 64 MiB"
echo "scaling 1 -> $(nproc) threads: $(python3 -c "print(f'{float(\"$t_lc1\") / max(float(\"$t_lc\"), 0.001):.2f}')")x"

# Cold starts, against `leadcheck --version` in the same run.
msg='Could not save the lead to Dynamics CRM. LastCRMError: SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user.'
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 -r 30 "$bin --version" "$bin catalog" "$bin explain LC402" "$bin explain '$msg'" 2>&1 \
        | grep -E "Benchmark|Time \(mean"
else
    for cmd in "--version" "catalog" "explain LC402" "explain '$msg'"; do
        runs=20; total=0
        for _ in $(seq "$runs"); do
            s=$(date +%s%N); eval "\"$bin\" $cmd" >/dev/null; e=$(date +%s%N)
            total=$((total + e - s))
        done
        echo "leadcheck $cmd: $(python3 -c "print(f'{$total / $runs / 1e6:.1f}')") ms mean of $runs runs"
    done
fi
echo "goals: explain TEXT <= 2x --version; catalog and explain CODE <= 1.5x"
