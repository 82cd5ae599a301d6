#!/usr/bin/env bash
# Starts the built server on a fresh SQLite database for one browser-test run.
set -euo pipefail
port="${1:-3100}"
here="$(cd "$(dirname "$0")/.." && pwd)"
source "$here/scripts/env.sh"
bin="${QF_BIN:-$CARGO_TARGET_DIR/debug/quizfunnel}"
data="$(mktemp -d -t quizfunnel-e2e.XXXXXX)"
trap 'rm -rf "$data"' EXIT INT TERM
export DATABASE_URL="sqlite://$data/e2e.db"
export LEPTOS_SITE_ROOT="$here/target/site"
export QUIZFUNNEL_LOG="${QUIZFUNNEL_LOG:-warn}"
# Browser tests click faster than any person: no minimum quiz time here.
export QUIZFUNNEL_MIN_QUIZ_SECONDS=0
# As in production, over https: a quiz embedded in another site keeps its
# cookies only when they are Secure (browsers take that from loopback).
export QUIZFUNNEL_SECURE_COOKIES=true
"$bin" migrate >/dev/null
"$bin" demo >/dev/null
"$bin" serve --addr "127.0.0.1:$port"
