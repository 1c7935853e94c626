#!/usr/bin/env bash
# Benchmark: `leadcheck diagnose` of every sandbox destination (`sandbox --scenario all`:
# Dynamics through the Entra ID and Dataverse emulators, HTTPS, Salesforce, Marketo), and
# `leadcheck demo`. Reports the sandbox start-up time, the wall time of the diagnose run,
# the slowest chain and the sum of all chains (LC201, the instance that never answers, is
# bounded by TIMEOUT seconds, default 2), then the demo's wall time.
#
#   benches/sandbox.sh
#   LEADCHECK_BIN=path/to/leadcheck TIMEOUT=1 benches/sandbox.sh
set -euo pipefail
TIMEOUT=${TIMEOUT:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${LEADCHECK_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --quiet --bin leadcheck)
  LEADCHECK_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/leadcheck"
fi
WORK=$(mktemp -d)
cleanup() { [ -n "${SANDBOX_PID:-}" ] && kill -INT "$SANDBOX_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start=$(date +%s%N)
"$LEADCHECK_BIN" sandbox --scenario all --write-config "$WORK/leadcheck.toml" 2>"$WORK/sandbox.err" &
SANDBOX_PID=$!
for _ in $(seq 200); do grep -q 'running until interrupted' "$WORK/sandbox.err" 2>/dev/null && break; sleep 0.05; done
ready=$(date +%s%N)

"$LEADCHECK_BIN" diagnose --json --timeout "$TIMEOUT" --cleanup --config "$WORK/leadcheck.toml" >"$WORK/report.json" || true
done_at=$(date +%s%N)

"$LEADCHECK_BIN" demo -q >/dev/null
demo_at=$(date +%s%N)

python3 - "$WORK/report.json" $(( (ready - start) / 1000000 )) $(( (done_at - ready) / 1000000 )) $(( (demo_at - done_at) / 1000000 )) <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
startup, wall, demo = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
chains = {d["name"]: sum(c["duration_ms"] for c in d["checks"]) for d in report["destinations"]}
fast = {k: v for k, v in chains.items() if not k.endswith("lc201")}
slowest = max(fast, key=fast.get)
print(f"sandbox destinations:        {len(chains)}")
print(f"sandbox start-up:            {startup} ms (process start to ready)")
print(f"diagnose wall time:          {wall} ms (all destinations, concurrently)")
print(f"slowest chain (not LC201):   {fast[slowest]} ms ({slowest})")
dyn = {k: v for k, v in fast.items() if k.startswith("dynamics")}
if dyn:
    d = max(dyn, key=dyn.get)
    print(f"slowest Dynamics chain:      {dyn[d]} ms ({d}; {len(dyn)} Dynamics destinations)")
if "dynamics-lc201" in chains:
    print(f"LC201 chain (timeout):       {chains['dynamics-lc201']} ms")
print(f"sum of all chains:           {sum(chains.values())} ms")
print(f"demo wall time:              {demo} ms")
PY
