#!/usr/bin/env bash
# Sets up and runs every check: format, lints, unit and integration tests on
# SQLite and Postgres, then the browser tests against the built app.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh --test
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "format"
cargo fmt --all --check
step "lints"
cargo clippy --workspace --all-targets -- -D warnings
step "unit and integration tests (SQLite and Postgres)"
if [[ -z "${TEST_DATABASE_URL:-}" ]]; then
  source scripts/pg-cluster.sh
  pg_start
fi
export RULE_PG_URL="${RULE_PG_URL:-$TEST_DATABASE_URL}"
cargo test --workspace
step "build the app (server and WebAssembly)"
cargo leptos build
step "browser tests"
(cd end2end && npx playwright test)
