#!/usr/bin/env bash
# benches/triage.sh: how fast `leadcheck triage` classifies a large ticket export, compared
# with a plain search for the catalog's identifiers by `grep -F` and ripgrep. Not run by CI.
#
# What it does, in one run:
#   1. generates benches/out/tickets.txt, SIZE_MB MiB (default 256) of synthetic tickets, one
#      per line, five languages, ~2% carrying a documented error (benches/gen_tickets.py,
#      fixed seed; kept between runs when the size matches);
#   2. dumps the catalog's anchors (catalog/*.toml, signatures.anchors) to benches/out/frags.txt;
#   3. builds leadcheck with `cargo build --release`;
#   4. installs ripgrep into .tools/ if it is missing (`cargo install ripgrep --locked`;
#      NO_RG_INSTALL=1 skips it and the rg column);
#   5. times, with /usr/bin/time (elapsed seconds and peak RSS):
#        leadcheck triage --format json tickets.txt > /dev/null   (classifies every record)
#        grep -c -F -i -f frags.txt tickets.txt                    (only finds lines)
#        rg   -c -F -i -f frags.txt tickets.txt
#      and prints the ratio of leadcheck to the faster of grep and rg;
#   6. times `leadcheck explain "<one message>"` in a cold process (hyperfine when installed,
#      else 20 runs timed with date +%s%N).
#
# Goals: ratio <= 1.0, peak RSS <= 64 MiB, explain of one message < 10 ms.
# Usage: benches/triage.sh            SIZE_MB=64 benches/triage.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/benches/out"
SIZE_MB=${SIZE_MB:-256}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$OUT"
cd "$ROOT"

tickets="$OUT/tickets.txt"
want=$((SIZE_MB * 1024 * 1024))
if [[ ! -f "$tickets" ]] || (( $(stat -c %s "$tickets") < want )) || (( $(stat -c %s "$tickets") > want + 4096 )); then
    python3 benches/gen_tickets.py --size-mb "$SIZE_MB" --seed 42 --out "$tickets"
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
read -r t_lc rss_lc < <(measure "$bin" triage --format json "$tickets")
read -r t_grep rss_grep < <(measure grep -c -F -i -f "$OUT/frags.txt" "$tickets")
t_rg=""; rss_rg=""
if [[ -n "$rg_bin" ]]; then read -r t_rg rss_rg < <(measure "$rg_bin" -c -F -i -f "$OUT/frags.txt" "$tickets"); fi

matched=$("$bin" triage --format json "$tickets" | tail -1)
best=$t_grep; best_name=grep
if [[ -n "$t_rg" ]] && python3 -c "import sys; sys.exit(0 if float('$t_rg') < float('$t_grep') else 1)"; then best=$t_rg; best_name=rg; fi
ratio=$(python3 -c "print(f'{float(\"$t_lc\") / max(float(\"$best\"), 0.01):.2f}')")

echo
echo "input: $tickets ($(( $(stat -c %s "$tickets") / 1048576 )) MiB, $(wc -l < "$tickets") tickets)"
echo "summary: $matched"
printf '%-34s %8s %12s\n' "command" "seconds" "peak RSS"
printf '%-34s %8s %9s MiB\n' "leadcheck triage --format json" "$t_lc" "$((rss_lc / 1024))"
printf '%-34s %8s %9s MiB\n' "grep -c -F -i -f frags.txt" "$t_grep" "$((rss_grep / 1024))"
[[ -n "$t_rg" ]] && printf '%-34s %8s %9s MiB\n' "rg -c -F -i -f frags.txt" "$t_rg" "$((rss_rg / 1024))"
echo "ratio leadcheck / $best_name: $ratio (goal <= 1.0); peak RSS goal <= 64 MiB"

msg='Could not save the lead to Dynamics CRM. LastCRMError: SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user.'
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 3 -N "$bin explain '$msg'"
else
    runs=20; total=0
    for _ in $(seq "$runs"); do
        s=$(date +%s%N); "$bin" explain "$msg" >/dev/null; e=$(date +%s%N)
        total=$((total + e - s))
    done
    echo "explain of one message, cold process: $(python3 -c "print(f'{$total / $runs / 1e6:.1f}')") ms mean of $runs runs (goal < 10 ms)"
fi
