#!/usr/bin/env bash
# Installs a released runner-preflight binary for the composite action (action.yml): picks the
# archive for this runner's OS and architecture, downloads it with the release's SHA256SUMS,
# verifies the checksum (and the build-provenance attestation when `gh` can), and keeps it in the
# runner's tool cache so that later jobs on the same runner download nothing.
#
# Everything comes from the environment (action.yml passes its inputs and contexts this way, never
# as `${{ }}` inside a script):
#   RP_VERSION             version to install (X.Y.Z or vX.Y.Z); empty: the action's own ref when
#                          it is a version tag, else the version in the action's Cargo.toml
#   RP_ACTION_REF          the ref the workflow used the action at (github.action_ref)
#   RP_ACTION_PATH         the action's checkout (github.action_path)
#   RP_REPOSITORY          owner/name the releases belong to (github.action_repository)
#   RP_DOWNLOAD_URL        base URL of the releases; default https://github.com/$RP_REPOSITORY/releases/download
#                          (a mirror must keep the layout BASE/vX.Y.Z/ASSET)
#   RP_OS, RP_ARCH         runner.os (Linux, macOS, Windows) and runner.arch (X64, ARM64)
#   RP_TOOL_CACHE          runner.tool_cache
#   RP_VERIFY_ATTESTATION  auto (verify when gh and a token are there), true (required), false
#   GH_TOKEN               the token gh uses for `gh attestation verify`
#   GITHUB_OUTPUT          where `bin=PATH` and `version=X.Y.Z` go (stdout when unset)
# Exit 0 with the binary installed and run once (`--version`), 1 with a message on stderr.
set -euo pipefail

fail() {
  echo "runner-preflight install: $*" >&2
  exit 1
}

# The platforms the release workflow (.github/workflows/release.yml) builds: os-arch as in the
# archive names, the same words the Actions runner's own release archives use.
PLATFORMS="linux-x64 linux-arm64 osx-x64 osx-arm64 win-x64 win-arm64"

# --- which repository and ref ----------------------------------------------------------------
# github.action_ref and github.action_repository are empty inside composite actions on some
# runner versions (https://github.com/actions/runner/issues/2473). The runner checks an action
# out at _actions/OWNER/NAME/REF, which says the same.
repository="${RP_REPOSITORY:-}"
ref="${RP_ACTION_REF:-}"
action_path="${RP_ACTION_PATH:-}"
action_path="${action_path//\\//}"
if [[ "$action_path" =~ /_actions/([^/]+)/([^/]+)/([^/]+)/?$ ]]; then
  repository="${repository:-${BASH_REMATCH[1]}/${BASH_REMATCH[2]}}"
  ref="${ref:-${BASH_REMATCH[3]}}"
fi

# --- which version -------------------------------------------------------------------------
version="${RP_VERSION:-}"
if [ -z "$version" ]; then
  if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
    version="$ref"
  elif [ -n "${RP_ACTION_PATH:-}" ] && [ -f "$RP_ACTION_PATH/Cargo.toml" ]; then
    # A branch or a commit: the version that checkout says it is (its first `version = "…"`
    # line is the [package]'s).
    version="$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$RP_ACTION_PATH/Cargo.toml" | head -n 1)"
  fi
fi
version="${version#v}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]]; then
  fail "cannot tell which release to install (version '${version}'): set the action's 'version' input to X.Y.Z"
fi

# --- which asset ---------------------------------------------------------------------------
case "${RP_OS:-}" in
  Linux) os=linux ext=tar.gz exe=runner-preflight ;;
  macOS) os=osx ext=tar.gz exe=runner-preflight ;;
  Windows) os=win ext=zip exe=runner-preflight.exe ;;
  *) os="" ;;
esac
case "${RP_ARCH:-}" in
  X64) arch=x64 ;;
  ARM64) arch=arm64 ;;
  *) arch="" ;;
esac
if [ -z "$os" ] || [ -z "$arch" ]; then
  fail "no release asset for runner.os '${RP_OS:-}' and runner.arch '${RP_ARCH:-}': releases are built for ${PLATFORMS// /, }. Set 'build-from-source: true' (needs a Rust toolchain) or point 'binary' at a runner-preflight you built."
fi
asset="runner-preflight-$os-$arch-$version.$ext"

base="${RP_DOWNLOAD_URL:-}"
if [ -z "$base" ]; then
  [ -n "$repository" ] || fail "no repository to download from: set the action's 'download-url' input"
  base="https://github.com/$repository/releases/download"
fi
base="${base%/}/v$version"

# --- the tool cache (the layout of @actions/tool-cache: NAME/VERSION/ARCH plus ARCH.complete) --
cache_root="${RP_TOOL_CACHE:-${RUNNER_TOOL_CACHE:-}}"
[ -n "$cache_root" ] || fail "no tool cache folder (runner.tool_cache is empty)"
if command -v cygpath >/dev/null 2>&1; then
  cache_root="$(cygpath -u "$cache_root")"
fi
dest="$cache_root/runner-preflight/$version/$arch"
bin="$dest/$exe"

report() {
  local said
  said="$("$bin" --version)" || fail "$bin does not run on this runner"
  # `runner-preflight X.Y.Z`: an archive holding another version is not the one asked for.
  [ "${said##* }" = "$version" ] || fail "$bin says '$said', not version $version"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'bin=%s\nversion=%s\n' "$bin" "$version" >>"$GITHUB_OUTPUT"
  else
    printf 'bin=%s\nversion=%s\n' "$bin" "$version"
  fi
}

if [ -f "$dest.complete" ] && [ -x "$bin" ]; then
  echo "runner-preflight $version ($os-$arch) from the tool cache: $bin"
  report
  exit 0
fi

# --- download --------------------------------------------------------------------------------
work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/runner-preflight-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fetch() { # URL FILE
  # https only, also after GitHub's redirect to its asset host; bounded in time.
  curl --fail --silent --show-error --location --proto '=https' --proto-redir '=https' \
    --tlsv1.2 --retry 3 --connect-timeout 20 --max-time 300 --output "$2" "$1" ||
    fail "cannot download $1 (see curl's message above): is there a release v$version with this asset?"
}
echo "runner-preflight $version ($os-$arch): downloading $base/$asset"
fetch "$base/SHA256SUMS" "$work/SHA256SUMS"
fetch "$base/$asset" "$work/$asset"

# --- verify ----------------------------------------------------------------------------------
# SHA256SUMS is `sha256sum` output: "HEX  NAME" (or "HEX *NAME"), one line per asset.
expected="$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1; exit }' "$work/SHA256SUMS")"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "SHA256SUMS of v$version has no checksum for $asset"
if command -v sha256sum >/dev/null 2>&1; then
  actual="$(sha256sum "$work/$asset" | awk '{ print $1 }')"
else
  actual="$(shasum -a 256 "$work/$asset" | awk '{ print $1 }')"
fi
actual="${actual#\\}" # Git for Windows' sha256sum marks names with a backslash
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; not installed"
fi
echo "checksum verified: sha256 $actual"

attest="${RP_VERIFY_ATTESTATION:-auto}"
case "$attest" in
  false) ;;
  auto | true)
    if command -v gh >/dev/null 2>&1 && [ -n "${GH_TOKEN:-}" ] && [ -n "$repository" ]; then
      gh attestation verify "$work/$asset" --repo "$repository" >&2 ||
        fail "the build-provenance attestation of $asset does not verify for $repository; not installed"
      echo "build provenance verified for $repository"
    elif [ "$attest" = true ]; then
      fail "verify-attestation is true but gh, a token or the repository is missing"
    else
      echo "build provenance not verified (needs gh and a token); the checksum was"
    fi
    ;;
  *) fail "verify-attestation must be auto, true or false, not '$attest'" ;;
esac

# --- unpack into the cache -------------------------------------------------------------------
mkdir -p "$work/unpacked"
if [ "$ext" = zip ]; then
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$work/$asset" -d "$work/unpacked"
  else
    # Windows runners: Git's bash has no unzip, PowerShell has Expand-Archive.
    powershell -NoProfile -NonInteractive -Command \
      "Expand-Archive -LiteralPath '$(cygpath -w "$work/$asset")' -DestinationPath '$(cygpath -w "$work/unpacked")'"
  fi
else
  tar -xzf "$work/$asset" -C "$work/unpacked"
fi
[ -f "$work/unpacked/$exe" ] || fail "$asset has no $exe at its top level"
chmod +x "$work/unpacked/$exe"
rm -rf "$dest" "$dest.complete"
mkdir -p "$(dirname "$dest")"
mv "$work/unpacked" "$dest"
touch "$dest.complete"
echo "installed in the tool cache: $bin"
report
