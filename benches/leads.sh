#!/usr/bin/env bash
# benches/leads.sh: how fast `leadcheck leads` lists a large Azure table, and in how much
# memory. Not run by CI.
#
# What it does, in one run:
#   1. starts Azurite (the real table emulator, .tools/ as scripts/test installs it, or
#      $LEADCHECK_AZURITE) in memory on a free port;
#   2. seeds two tables with benches/seed_table.py: Small (N/10 leads) and Big (N, default
#      100,000), marketplace lead entities of leadcheck's own shape over 90 days;
#   3. builds leadcheck with `cargo build --release`;
#   4. times with /usr/bin/time (elapsed, CPU of leadcheck itself, peak RSS), the median of
#      RUNS (3) runs each:
#        leads --format csv --limit 0      every lead, streamed (Small and Big: memory must
#                                          not grow with the table)
#        leads --limit 50                  the 50 newest (a bounded heap over every lead)
#        leads --count --since 90d         counts per day
#      and checks that the CSV holds N rows and parses (python3 csv);
#   5. the anchors, in the same run: a plain client (seed_table.py --read, Python) reading
#      every entity of Big in the same pages, without parsing a lead: Azurite's own time;
#      and the same with the filter that --since 90d sends.
# Goal (issue 11): 100,000 leads to CSV in constant memory; report RSS and leads/s.
# Usage: benches/leads.sh            N=20000 RUNS=1 benches/leads.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/benches/out"
N=${N:-100000}
RUNS=${RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
AZURITE=${LEADCHECK_AZURITE:-$ROOT/.tools/node_modules/.bin/azurite-table}
mkdir -p "$OUT"
cd "$ROOT"

[ -x "$AZURITE" ] || { echo "no Azurite at $AZURITE: run scripts/test once, or set LEADCHECK_AZURITE" >&2; exit 2; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$AZURITE" --inMemoryPersistence --tableHost 127.0.0.1 --tablePort "$PORT" \
  --skipApiVersionCheck --silent --disableTelemetry >/dev/null 2>&1 &
AZ_PID=$!
trap 'kill $AZ_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

ENDPOINT="http://127.0.0.1:$PORT/devstoreaccount1"
python3 benches/seed_table.py "$ENDPOINT" Small $((N / 10))
python3 benches/seed_table.py "$ENDPOINT" Big "$N"

cargo build --release --quiet
LC="$TARGET/release/leadcheck"
export LC_BENCH_CS="AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=$ENDPOINT"

# median of RUNS: "elapsed cpu rss_kib"
measure() {
  local out=$1; shift
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$LC" leads --type azure-table \
      --storage-account-connection-string env:LC_BENCH_CS -q "$@" > "$out"
    awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$OUT/time.txt"
  done | sort -n | awk -v r="$RUNS" 'NR == int((r + 1) / 2)'
}

row() {
  local label=$1 leads=$2; shift 2
  read -r secs cpu rss < <(measure "$OUT/leads.out" "$@")
  printf "%-44s %9s %8.2f %8.2f %10.0f %8.1f\n" "$label" "$leads" "$secs" "$cpu" \
    "$(echo "$leads / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}

printf "%-44s %9s %8s %8s %10s %8s\n" "leadcheck leads (Azurite, median of $RUNS)" leads "s" "cpu s" "leads/s" "RSS MiB"
row "--table Small --format csv --limit 0" $((N / 10)) --table Small --format csv --limit 0
row "--table Big --format csv --limit 0" "$N" --table Big --format csv --limit 0
rows=$(python3 -c 'import csv,sys; r=csv.reader(open(sys.argv[1], newline="")); next(r); print(sum(1 for _ in r))' "$OUT/leads.out")
[ "$rows" = "$N" ] || { echo "the CSV holds $rows rows, not $N" >&2; exit 1; }
row "--table Big --limit 50 (newest first)" "$N" --table Big --limit 50
row "--table Big --count --since 90d" "$N" --table Big --count --since 90d
# The anchors: a plain client reading Big in the same pages, without and with the filter
# --since 90d sends (Azurite evaluates a $filter entity by entity).
anchor() {
  local label=$1; shift
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" python3 benches/seed_table.py --read "$ENDPOINT" Big "$@" > "$OUT/anchor.out"
    awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$OUT/time.txt"
  done | sort -n | awk -v r="$RUNS" 'NR == int((r + 1) / 2)' > "$OUT/anchor.txt"
  read -r secs cpu rss < "$OUT/anchor.txt"
  [ "$(cat "$OUT/anchor.out")" = "$N" ] || { echo "the anchor read $(cat "$OUT/anchor.out") entities" >&2; exit 1; }
  printf "%-44s %9s %8.2f %8.2f %10.0f %8.1f\n" "$label" "$N" "$secs" "$cpu" \
    "$(echo "$N / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}
anchor "anchor: python3 plain paged read of Big"
anchor "anchor: the same with the 90d filter" 90
