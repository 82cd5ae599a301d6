# Sourced by the scripts: one build directory that outlives any one clone,
# so CI and fresh checkouts on the same machine reuse compiled dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quizfunnel/target}"
# initdb and pg_ctl are not always on PATH (Debian keeps them per version).
for d in /usr/lib/postgresql/*/bin; do
  [[ -d "$d" ]] && PATH="$PATH:$d"
done
export PATH
