#!/usr/bin/env bash
# Benchmark: `leadcheck lint` on a generated leadcheck.toml with N destinations (default
# 2000, every type, half of them with findings), in each output format. Prints the wall
# time per format and per destination.
#
#   benches/lint.sh                    # builds the debug binary first
#   LEADCHECK_BIN=target/release/leadcheck N=10000 benches/lint.sh
set -euo pipefail
N=${N:-2000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${LEADCHECK_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --quiet --bin leadcheck)
  LEADCHECK_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/leadcheck"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# A copy: a shared target directory may be rebuilt while this runs.
cp "$LEADCHECK_BIN" "$WORK/leadcheck"
LEADCHECK_BIN="$WORK/leadcheck"
python3 - "$N" >"$WORK/leadcheck.toml" <<'PY'
import sys
n = int(sys.argv[1])
kinds = [
    ('dynamics', 'instance_url = "https://c{i}.crm4.dynamics.com"\nauthentication = "azure-ad"\ndirectory_id = "contoso.onmicrosoft.com"\napplication_id = "23456052-aaaa-bbbb-8662-1234df56788f"\napplication_key = {{ env = "HOME" }}\n'),
    ('salesforce', 'object_identifier = "00D36000000qRh{j}"\n'),
    ('marketo', 'munchkin_id = "123-ABC-45{j}"\nform_id = "11{j}"\nclient_id = "c"\nclient_secret = {{ env = "HOME" }}\n'),
    ('azure-table', 'storage_account_connection_string = "DefaultEndpointsProtocol=https;AccountName=acct{i};AccountKey=Q0FOQVJZLWtleS1DQU5BUlk="\n'),
    ('https', 'https_endpoint_url = "https://prod-1.westus.logic.azure.com/workflows/{i}/triggers/manual/paths/invoke?api-version=1&sig=x"\ncontact_email = ["a{i}@contoso.com", "bad{i}"]\n'),
]
for i in range(n):
    k, body = kinds[i % len(kinds)]
    j = i % 10 if i % 2 == 0 else 'x'
    print(f'[destination.d{i}]\ntype = "{k}"\n' + body.format(i=i, j=j))
PY
echo "leadcheck lint: $N destinations ($(wc -c <"$WORK/leadcheck.toml") bytes of TOML)"
for format in human json junit github; do
  start=$(date +%s%N)
  "$LEADCHECK_BIN" lint --format "$format" -c "$WORK/leadcheck.toml" >/dev/null || true
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  echo "  $format: ${ms} ms total, $(( (end - start) / N / 1000 )) µs per destination"
done
