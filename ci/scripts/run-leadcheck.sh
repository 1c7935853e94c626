#!/usr/bin/env bash
# Runs `leadcheck diagnose` as a CI step, for the GitHub Action (action.yml) and the Azure
# Pipelines template (ci/azure-pipelines/leadcheck.yml), which both call this script.
#
# Inputs arrive as environment variables, never spliced into the script's text, so a value
# cannot become shell code:
#   LEADCHECK_CI_CONFIG        config file, relative to the working directory (default:
#                              leadcheck's own default, ./leadcheck.toml or LEADCHECK_CONFIG)
#   LEADCHECK_CI_DESTINATIONS  names to check, separated by spaces, commas or newlines
#                              (default: every destination of the config)
#   LEADCHECK_CI_CLEANUP       true|false (default true): delete the test lead afterwards
#   LEADCHECK_CI_STRICT        true|false (default false): every warning fails
#   LEADCHECK_CI_JUNIT         where to write the JUnit report (default: the runner's temp
#                              folder); printed back as an absolute path
#   LEADCHECK_CI_WORKDIR       where to run (default: BUILD_SOURCESDIRECTORY on Azure
#                              Pipelines, GITHUB_WORKSPACE on GitHub Actions, else here)
#   LEADCHECK_BIN              the leadcheck executable (default: leadcheck on PATH)
#
# Secrets reach leadcheck as the environment its config's `{ env = "VAR" }` references
# name. This script never prints the environment, never traces (no `set -x`), and leaves
# redaction to leadcheck, whose output holds no secret.
#
# Exit status is leadcheck's: 0 passed (warnings allowed), 1 a destination failed, 2
# leadcheck could not run (bad input, config missing or unparsable), 130 interrupted.
set -euo pipefail
set +x

die() {
  # Exit 2 like leadcheck itself: the check could not run.
  echo "run-leadcheck: error: $*" >&2
  exit 2
}

# true|false and the usual spellings; anything else is a mistake worth stopping for.
flag() {
  local name=$1 value=$2
  # tr, not ${value,,}: macOS agents may run bash 3.2.
  case "$(printf '%s' "$value" | tr '[:upper:]' '[:lower:]')" in
    true | yes | on | 1) echo true ;;
    false | no | off | 0) echo false ;;
    *) die "$name must be true or false, not '$value'" ;;
  esac
}

# The inputs are the whole truth: leadcheck's own variables for these settings, set for
# another step, must not turn them on behind the inputs' back.
unset LEADCHECK_STRICT LEADCHECK_CLEANUP LEADCHECK_JUNIT LEADCHECK_FORMAT

on_github=false
on_azure=false
[ "${GITHUB_ACTIONS:-}" = true ] && on_github=true
# Azure Pipelines sets TF_BUILD=True on every agent.
[ "${TF_BUILD:-}" = True ] && on_azure=true

workdir=${LEADCHECK_CI_WORKDIR:-}
if [ -z "$workdir" ]; then
  if $on_azure; then
    workdir=${BUILD_SOURCESDIRECTORY:-.}
  elif $on_github; then
    workdir=${GITHUB_WORKSPACE:-.}
  else
    workdir=.
  fi
fi
cd "$workdir" || die "cannot enter the working directory '$workdir'"

cleanup=$(flag cleanup "${LEADCHECK_CI_CLEANUP:-true}")
strict=$(flag strict "${LEADCHECK_CI_STRICT:-false}")
bin=${LEADCHECK_BIN:-leadcheck}
command -v "$bin" > /dev/null 2>&1 || die "'$bin' not found: install leadcheck first (ci/scripts/install-leadcheck.sh)"

junit=${LEADCHECK_CI_JUNIT:-}
if [ -z "$junit" ]; then
  if $on_azure; then
    junit=${AGENT_TEMPDIRECTORY:-${TMPDIR:-/tmp}}/leadcheck/junit.xml
  else
    junit=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/leadcheck/junit.xml
  fi
fi
case $junit in
  *$'\n'* | *$'\r'*) die "the JUnit path must be one line" ;;
  /*) ;;
  *) junit=$PWD/$junit ;;
esac
# A report from an earlier run must not pass for this one's.
rm -f -- "$junit"

args=(diagnose --color never)
if $on_github; then
  # Annotations on stdout; leadcheck appends the summary to $GITHUB_STEP_SUMMARY itself.
  args+=(--format github)
else
  # Azure Pipelines shows the human report in the log and the JUnit one in its Tests tab.
  args+=(--format human)
fi
args+=(--junit "$junit")
[ -n "${LEADCHECK_CI_CONFIG:-}" ] && args+=(--config "$LEADCHECK_CI_CONFIG")
$cleanup && args+=(--cleanup)
$strict && args+=(--strict)
# Names after `--`, so that none is read as a flag.
read -r -a names <<< "$(printf '%s' "${LEADCHECK_CI_DESTINATIONS:-}" | tr ',\n\r\t' '    ')"
# The ${a[@]+...} form: an empty array is "unbound" to bash 3.2 under set -u.
args+=(-- ${names[@]+"${names[@]}"})

set +e
"$bin" "${args[@]}"
rc=$?
set -e

[ -f "$junit" ] || junit=""
if $on_github && [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "junit=$junit"
    echo "exit-code=$rc"
  } >> "$GITHUB_OUTPUT"
fi
if $on_azure; then
  echo "##vso[task.setvariable variable=junit;isOutput=true]$junit"
  echo "##vso[task.setvariable variable=exitCode;isOutput=true]$rc"
fi

case $rc in
  0) ;;
  1)
    msg="leadcheck: a lead destination failed; each finding names its code and remedy (run \`leadcheck explain LCnnn\`)"
    if $on_azure; then
      echo "##vso[task.logissue type=error]$msg"
    elif ! $on_github; then
      echo "$msg" >&2
    fi
    ;;
  130) echo "run-leadcheck: interrupted" >&2 ;;
  *)
    msg="leadcheck could not run (exit $rc): see its error above"
    if $on_azure; then
      echo "##vso[task.logissue type=error]$msg"
    elif $on_github; then
      echo "::error title=leadcheck::$msg"
    else
      echo "$msg" >&2
    fi
    ;;
esac
exit "$rc"
