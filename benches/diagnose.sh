#!/usr/bin/env bash
# Benchmark: `leadcheck diagnose` on N https destinations (default 10), each a loopback
# server that waits DELAY_MS (default 200) before answering every request. Reports the wall
# time of the whole run against the longest single destination chain and the sum of all
# chains: concurrent destinations should cost about the longest chain, not the sum.
#
#   benches/diagnose.sh                 # builds the debug binary first
#   LEADCHECK_BIN=path/to/leadcheck N=20 DELAY_MS=500 benches/diagnose.sh
set -euo pipefail
N=${N:-10}
DELAY_MS=${DELAY_MS:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${LEADCHECK_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --quiet --bin leadcheck)
  LEADCHECK_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/leadcheck"
fi
WORK=$(mktemp -d)
cleanup() { [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# N slow servers in one Python process; it prints the ports, one a line.
python3 - "$N" "$DELAY_MS" >"$WORK/ports" <<'PY' &
import sys, time, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
n, delay = int(sys.argv[1]), int(sys.argv[2]) / 1000.0
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(delay)
        self.send_response(202); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
servers = [ThreadingHTTPServer(("127.0.0.1", 0), H) for _ in range(n)]
for s in servers:
    print(s.server_address[1], flush=True)
    threading.Thread(target=s.serve_forever, daemon=True).start()
threading.Event().wait()
PY
SERVER_PID=$!
for _ in $(seq 100); do [ "$(wc -l <"$WORK/ports")" -ge "$N" ] && break; sleep 0.1; done

i=0
while read -r port; do
  i=$((i + 1))
  printf '[destination.d%02d]\ntype = "https"\nhttps_endpoint_url = { env = "BENCH_URL_%d" }\n\n' "$i" "$i" >>"$WORK/leadcheck.toml"
  export "BENCH_URL_$i=http://127.0.0.1:$port/hook"
done <"$WORK/ports"

start=$(date +%s%N)
"$LEADCHECK_BIN" diagnose --json --config "$WORK/leadcheck.toml" >"$WORK/report.json" || true
end=$(date +%s%N)
wall_ms=$(( (end - start) / 1000000 ))

python3 - "$WORK/report.json" "$wall_ms" "$N" "$DELAY_MS" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
wall, n, delay = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
chains = [sum(c["duration_ms"] for c in d["checks"]) for d in report["destinations"]]
statuses = {d["status"] for d in report["destinations"]}
print(f"destinations: {n} (each server waits {delay} ms per request); statuses: {sorted(statuses)}")
print(f"wall time of the run:       {wall} ms (process start to exit)")
print(f"longest single chain:       {max(chains)} ms")
print(f"sum of all chains:          {sum(chains)} ms")
print(f"wall / sum:                 {wall / max(sum(chains), 1):.2f}")
PY
