#!/usr/bin/env bash
# Installs leadcheck for a CI job (the GitHub Action and the Azure Pipelines template), or
# reuses the binary a cache restored.
#
#   install-leadcheck.sh key      print the cache key for these inputs
#   install-leadcheck.sh install  install into $LEADCHECK_ROOT/bin (unless already there)
#                                 and put that folder on the job's PATH
#
# Environment:
#   LEADCHECK_VERSION     `source` (default): build LEADCHECK_SOURCE, the action's or
#                         template's own checkout, so the tool matches the recipe's ref;
#                         or a release such as 0.1.0, built from tag v0.1.0 of
#                         LEADCHECK_REPOSITORY
#   LEADCHECK_SOURCE      the leadcheck source tree for `source` (default: this script's
#                         repository)
#   LEADCHECK_REPOSITORY  git URL for a release version (default: the origin of
#                         LEADCHECK_SOURCE when it is a git checkout)
#   LEADCHECK_ROOT        install root (default: $RUNNER_TOOL_CACHE or
#                         $AGENT_TOOLSDIRECTORY, under leadcheck/<version>)
set -euo pipefail

die() {
  echo "install-leadcheck: error: $*" >&2
  exit 2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=${LEADCHECK_VERSION:-source}
version=${version#v}
source_dir=${LEADCHECK_SOURCE:-$here/../..}
case $version in
  source) ;;
  # A version is spliced into a cache key, a path and a tag: keep it to what versions use.
  *[!0-9A-Za-z.+-]* | "") die "version must be 'source' or a release such as 0.1.0, not '$version'" ;;
esac

case ${1:-} in
  key)
    os=$(uname -s)-$(uname -m)
    if [ "$version" = source ]; then
      # The sources themselves, hashed: a moving ref (a branch) still gets a fresh build.
      [ -f "$source_dir/Cargo.lock" ] || die "no leadcheck sources at '$source_dir'"
      # sha256sum on Linux and Windows' Git Bash, shasum on macOS.
      if command -v sha256sum > /dev/null 2>&1; then sha=(sha256sum); else sha=(shasum -a 256); fi
      sum=$(cd "$source_dir" && find Cargo.toml Cargo.lock build.rs src catalog -type f -print0 \
        | LC_ALL=C sort -z | xargs -0 "${sha[@]}" | "${sha[@]}" | cut -c1-16)
      echo "leadcheck-$os-source-$sum"
    else
      echo "leadcheck-$os-$version"
    fi
    exit 0
    ;;
  install) ;;
  *) die "usage: install-leadcheck.sh key|install" ;;
esac

root=${LEADCHECK_ROOT:-${RUNNER_TOOL_CACHE:-${AGENT_TOOLSDIRECTORY:-$HOME/.cache}}/leadcheck/$version}
bin=$root/bin/leadcheck

# A restored cache: keep the binary when it runs and, for a release, is that release.
reuse=false
if [ -x "$bin" ] && found=$("$bin" --version 2> /dev/null); then
  if [ "$version" = source ] || [ "$(echo "$found" | awk '{print $2}')" = "$version" ]; then
    reuse=true
  fi
fi

if $reuse; then
  echo "install-leadcheck: reusing $bin" >&2
else
  command -v cargo > /dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs) before this step"
  if [ "$version" = source ]; then
    [ -f "$source_dir/Cargo.toml" ] || die "no leadcheck sources at '$source_dir'"
    cargo install --locked --force --root "$root" --path "$source_dir"
  else
    repo=${LEADCHECK_REPOSITORY:-}
    if [ -z "$repo" ]; then
      # Where the recipe itself came from; any user:token@ part of the URL is dropped.
      repo=$(git -C "$source_dir" remote get-url origin 2> /dev/null | sed -E 's#^([a-z+]+://)[^/@]*@#\1#') || true
    fi
    [ -n "$repo" ] || die "LEADCHECK_REPOSITORY (a git URL) is needed to install version $version"
    cargo install --locked --force --root "$root" --git "$repo" --tag "v$version" leadcheck
  fi
fi

# On the job's PATH for the steps that follow.
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$root/bin" >> "$GITHUB_PATH"
fi
if [ "${TF_BUILD:-}" = True ]; then
  echo "##vso[task.prependpath]$root/bin"
fi
"$bin" --version
