#!/usr/bin/env bash
# The portal's two commands (see README.md):
#   ./dev.sh serve   install what is missing, build in release mode, load the demo
#                    data into an empty database, and serve on http://127.0.0.1:3000
#   ./dev.sh test    install what is missing (plus Chromium and the end2end npm
#                    packages, while the build runs) and run every check and test
# Both are idempotent: a second run skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")"

BINARYEN_VERSION=132.0.0 # wasm-opt for the release bundle; Debian's binaryen is too old

say() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# No cargo-leptos to install: `cargo xtask` (xtask/) builds the browser bundle
# with the wasm-bindgen library, compiled as part of the workspace.
install_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
}

install_wasm_opt() {
  if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
    as_root npm install -g --no-audit --no-fund "binaryen@$BINARYEN_VERSION"
  fi
}

# The dispute report's CJK font (fonts-noto-cjk); tests also read PDFs (poppler-utils).
install_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

# The independent bundle verifier (verifier/vdp_verify.py) needs `cryptography`,
# the Parquet tests read exports back with `pyarrow`; the tests run both with
# this interpreter (VDP_PYTHON).
CRYPTOGRAPHY_VERSION=48.0.0
PYARROW_VERSION=26.0.1
VERIFIER_VENV=target/vdp-verifier-venv
install_verifier_python() {
  if ! "$VERIFIER_VENV/bin/python" -c "import cryptography" 2>/dev/null; then
    say "installing cryptography $CRYPTOGRAPHY_VERSION (PyPI) for the independent verifier into $VERIFIER_VENV"
    python3 -m venv "$VERIFIER_VENV"
    "$VERIFIER_VENV/bin/pip" install --quiet "cryptography==$CRYPTOGRAPHY_VERSION"
  fi
  if ! "$VERIFIER_VENV/bin/python" -c "import pyarrow" 2>/dev/null; then
    say "installing pyarrow $PYARROW_VERSION (PyPI), the independent Parquet reader, into $VERIFIER_VENV"
    "$VERIFIER_VENV/bin/pip" install --quiet "pyarrow==$PYARROW_VERSION"
  fi
}

# What the tests need to run, not to build: Debian's Chromium, the report's
# font, poppler (the tests read the PDF), unzip (a bundle must open in it),
# the end2end npm packages, and the Python tools. All of it waits on the network, so it runs while cargo builds.
install_test_runtime() {
  install_packages fonts-noto-cjk poppler-utils chromium unzip
  if [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/@axe-core/playwright ]; then
    say "installing the end2end npm packages"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
  install_verifier_python
  tests/schemathesis/run.sh --install
}

INSTALL_LOG=target/install-test-tools.log
start_installing_test_runtime() {
  mkdir -p target
  say "installing what the tests run with, in the background (log: $INSTALL_LOG)"
  install_test_runtime >"$INSTALL_LOG" 2>&1 &
  INSTALL_PID=$!
}

finish_installing_test_runtime() {
  say "waiting for the background installs"
  if ! wait "$INSTALL_PID"; then
    cat "$INSTALL_LOG" >&2
    say "installing the test tools failed (log above)"
    return 1
  fi
  grep '^==>' "$INSTALL_LOG" >&2 || echo "(everything was installed already)" >&2
}

serve() {
  install_build_tools
  install_packages fonts-noto-cjk
  install_wasm_opt
  say "building in release mode: the server and the browser bundle side by side"
  cargo xtask build --release
  say "starting (demo data is loaded into an empty database)"
  # Plain http on 127.0.0.1: session cookies without Secure (the server says so).
  # Behind HTTPS, run `portal serve` without --insecure-cookies.
  exec target/release/portal serve --demo-if-empty --insecure-cookies "$@"
}

# The end-to-end suite once more, served from a fresh PostgreSQL database
# (dropped afterwards, whether the suite passes or not).
e2e_on_postgres() {
  local db="portal_e2e_$$" status=0
  psql "$TEST_POSTGRES_URL/postgres" -qc "CREATE DATABASE $db"
  (cd end2end && DATABASE_URL="$TEST_POSTGRES_URL/$db" PORTAL_BIN=target/debug/portal \
    npx playwright test) || status=$?
  psql "$TEST_POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  return "$status"
}

run_tests() {
  install_build_tools
  for component in rustfmt clippy; do
    rustup component list --installed | grep -q "^$component" || rustup component add "$component"
  done
  start_installing_test_runtime
  # One-shot builds gain nothing from incremental data (about 20 GB of it).
  export CARGO_INCREMENTAL=0
  local log
  log=$(mktemp)
  trap 'rm -f "$log"' RETURN

  say "formatting"
  cargo fmt --all -- --check
  say "clippy (server)"
  cargo clippy --workspace --all-targets --features ssr -- -D warnings
  say "clippy (browser, wasm32)"
  cargo clippy -p portal -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings
  say "building the tests (and target/debug/portal, which every later step serves)"
  cargo test --workspace --features ssr --no-run
  finish_installing_test_runtime
  export VDP_PYTHON="$PWD/$VERIFIER_VENV/bin/python"
  say "unit and integration tests (SQLite)"
  cargo test --workspace --features ssr 2>&1 | tee "$log"
  # The store, import, authorization, export, audit, CLI and short load
  # tests again on PostgreSQL: each test in a database of its own, dropped
  # afterwards. (The crash test runs both backends in the pass above.)
  if [ -n "${TEST_POSTGRES_URL:-}" ]; then
    say "storage, API, CLI and load tests on PostgreSQL ($TEST_POSTGRES_URL)"
    # The same selection as the pass above, so the same test binaries run (no rebuild).
    PORTAL_TEST_BACKEND=postgres cargo test --workspace --features ssr \
      --test storage --test api --test cli --test load 2>&1 | tee -a "$log"
  else
    say "SKIPPED: the PostgreSQL runs, and the two-server and migrate-store tests (set TEST_POSTGRES_URL=postgres://USER@HOST:PORT to include them)"
  fi
  say "schemathesis: generated requests against the OpenAPI document (no 5xx, no panic, every reply as documented)"
  tests/schemathesis/run.sh target/debug/portal
  say "end-to-end tests in Chromium: the browser bundle (debug) beside the server the tests built"
  cargo xtask site
  (cd end2end && PORTAL_BIN=target/debug/portal npx playwright test) 2>&1 | tee -a "$log"
  if [ -n "${TEST_POSTGRES_URL:-}" ]; then
    say "end-to-end tests in Chromium on PostgreSQL"
    e2e_on_postgres 2>&1 | tee -a "$log"
  fi

  # One closing line for the whole run: cargo's counts plus Playwright's.
  awk '
    /^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
    /^ +[0-9]+ passed/ { e2e += $1 }
    END { printf "\nall tests: %d passed, %d failed\n", p + e2e, f }
  ' "$log"
}

case "${1:-}" in
  serve) shift; serve "$@" ;;
  test) shift; run_tests "$@" ;;
  *)
    echo "usage: ./dev.sh serve [portal serve options] | ./dev.sh test" >&2
    exit 2
    ;;
esac
