#!/usr/bin/env bash
# Installs seedc for the GitHub Action (action.yml): the release binary of the action's ref
# for this runner when that release has one (checked against its .sha256), else
# `cargo install --locked` from the action's own checkout, which is this repository at the
# action's ref. Puts it on GITHUB_PATH.
set -euo pipefail

dest=${RUNNER_TEMP:?}/seedc
mkdir -p "$dest/bin"

case "${RUNNER_OS:-}-${RUNNER_ARCH:-}" in
    Linux-X64) target=x86_64-unknown-linux-gnu ;;
    Linux-ARM64) target=aarch64-unknown-linux-gnu ;;
    macOS-X64) target=x86_64-apple-darwin ;;
    macOS-ARM64) target=aarch64-apple-darwin ;;
    Windows-X64) target=x86_64-pc-windows-msvc ;;
    *) target="" ;;
esac

release() {
    # A tag of a release (a branch or a commit has none), with an asset for this runner.
    [[ -n ${SEEDC_ACTION_REF:-} && -n ${SEEDC_ACTION_REPOSITORY:-} && -n $target ]] || return 1
    command -v gh >/dev/null || return 1
    local tmp
    tmp=$(mktemp -d)
    gh release download "$SEEDC_ACTION_REF" --repo "$SEEDC_ACTION_REPOSITORY" \
        --pattern "seedc-$target.tar.gz" --pattern "seedc-$target.tar.gz.sha256" --dir "$tmp" 2>/dev/null || return 1
    [[ -f $tmp/seedc-$target.tar.gz ]] || return 1
    if [[ -f $tmp/seedc-$target.tar.gz.sha256 ]]; then
        (cd "$tmp" && sha256sum -c "seedc-$target.tar.gz.sha256" >&2) || { echo "seedc: the release asset does not match its checksum" >&2; exit 1; }
    fi
    tar -xzf "$tmp/seedc-$target.tar.gz" -C "$dest/bin"
    echo "seedc: installed the release binary $SEEDC_ACTION_REF for $target" >&2
}

if ! release; then
    echo "seedc: no release binary of '${SEEDC_ACTION_REF:-this checkout}' for ${target:-this runner}; building it with cargo" >&2
    cargo install --locked --path "${SEEDC_ACTION_PATH:?}" --root "$dest" --bin seedc
fi
echo "$dest/bin" >>"${GITHUB_PATH:?}"
"$dest/bin/seedc" --version
