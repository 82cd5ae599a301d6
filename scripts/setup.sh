#!/usr/bin/env bash
# Installs what building and testing quizfunnel needs, and only what is
# missing: a second run checks and moves on.
#   scripts/setup.sh          tools to build and run the app
#   scripts/setup.sh --test   plus Chromium, Playwright and PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false
[[ "${1:-}" == "--test" ]] && want_test=true

CARGO_LEPTOS_VERSION=0.3.10
say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
apt_updated=false
apt_install() {
  if ! $apt_updated; then
    apt-get update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes about 16 minutes once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

# cargo-leptos would download wasm-bindgen, which cannot work here; it must
# match the wasm-bindgen crate in Cargo.lock exactly.
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]]; then
  say "installing wasm-bindgen-cli $bindgen_version"
  # Without --locked: its own lock names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

if $want_test; then
  if ! command -v chromium >/dev/null; then
    say "installing Debian's chromium for the browser tests"
    apt_install chromium
  fi
  if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "installing the PostgreSQL server for the integration tests"
    apt_install postgresql
  fi
  stamp=end2end/node_modules/.package-lock.json
  if [[ ! -f "$stamp" || end2end/package-lock.json -nt "$stamp" ]]; then
    say "installing the browser-test packages"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
