#!/usr/bin/env bash
# Sets up, builds and serves quizfunnel on the embedded SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
cargo leptos build
bin="$CARGO_TARGET_DIR/debug/quizfunnel"
export DATABASE_URL="${DATABASE_URL:-sqlite://data/quizfunnel.db}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
"$bin" migrate
# The demo quiz and respondents, added once; running it again changes nothing.
"$bin" demo
echo "Open http://${QUIZFUNNEL_ADDR:-127.0.0.1:3000}/q/growth for the demo quiz, /admin for the admin."
exec "$bin" serve --addr "${QUIZFUNNEL_ADDR:-127.0.0.1:3000}"
