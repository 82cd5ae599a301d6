#!/usr/bin/env bash
# Builds the site, the server and the benchmark in release mode, then runs
# the suite and prints its markdown table. Arguments go to `suite`, e.g.
#   bench/run.sh --size full --postgres-url postgres://postgres@127.0.0.1:5432/postgres
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
# A release site is optimised with wasm-opt. Debian's binaryen is too old
# (the page builds, then hydration fails in the browser), and cargo-leptos
# cannot download one here: take npm's, kept beside the build directory.
tools="$(dirname "$CARGO_TARGET_DIR")/tools"
if [[ ! -x "$tools/node_modules/.bin/wasm-opt" ]]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund binaryen@132 >/dev/null
fi
export PATH="$tools/node_modules/.bin:$PATH"
cargo leptos build --release
cargo build --release -p quizfunnel-server -p quizfunnel-bench
exec "$CARGO_TARGET_DIR/release/quizfunnel-bench" suite "$@"
