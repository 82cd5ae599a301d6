#!/usr/bin/env bash
# Builds the server and the benchmark in release mode, then runs the suite
# and prints its markdown table. Arguments go to `suite`, e.g.
#   bench/run.sh --size full --postgres-url postgres://postgres@127.0.0.1:5432/postgres
# The page-weight row needs the built site: `cargo leptos build --release`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --release -p quizfunnel-server -p quizfunnel-bench
exec "$CARGO_TARGET_DIR/release/quizfunnel-bench" suite "$@"
