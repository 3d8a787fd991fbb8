#!/usr/bin/env bash
# Schemathesis against the portal's own OpenAPI document: generated requests
# to every /api/v1 operation, as a signed-in owner and as staff (with an
# ingest token), and
# the run fails on any 5xx (a panic is one) and on any reply that does not
# match the schema the document gives for its status. Bounded: MAX_EXAMPLES per
# operation (default 20) and MAX_TIME seconds per pass (default 150).
#   tests/schemathesis/run.sh [PORTAL_BIN]   (default target/debug/portal)
#   tests/schemathesis/run.sh --install      only install schemathesis
# A longer run: MAX_EXAMPLES=500 MAX_TIME=3600 tests/schemathesis/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PORTAL_BIN=${1:-target/debug/portal}
SCHEMATHESIS_VERSION=4.32.5
VENV=target/schemathesis-$SCHEMATHESIS_VERSION

if [ ! -x "$VENV/bin/schemathesis" ]; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION (PyPI) into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
[ "$PORTAL_BIN" = --install ] && exit 0

work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export PORTAL_DATA_DIR="$work" PORTAL_LOG=error
unset DATABASE_URL

"$PORTAL_BIN" demo --vehicles 1 --days 2 >/dev/null
token=$("$PORTAL_BIN" admin ingest-token schemathesis | grep '^pit_')
"$PORTAL_BIN" serve --bind 127.0.0.1:0 --insecure-cookies >"$work/serve.out" 2>"$work/serve.err" &
server=$!
addr=""
for _ in $(seq 1 100); do
  addr=$(sed -n 's|^Serving on http://||p' "$work/serve.out")
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/serve.err"; echo "the portal did not start" >&2; exit 1; }

# A session cookie for an account (and a TOTP code for staff).
session() {
  local jar="$work/jar-$1"
  curl -sf -c "$jar" -H 'content-type: application/json' -d "$2" "http://$addr/api/v1/session" >/dev/null
  awk '$6 == "portal_session" { print $6 "=" $7 }' "$jar"
}
totp_now() {
  python3 - "$1" <<'PY'
import base64, hashlib, hmac, struct, sys, time
secret = sys.argv[1]
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
offset = digest[-1] & 15
print("%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}
owner=$(session owner '{"account":"owner@example.com","password":"demo-owner-2021"}')
staff_out=$("$PORTAL_BIN" admin add-staff agent@example.com --role admin)
staff_password=$(sed -n 's/.*first password (shown once): //p' <<<"$staff_out")
staff_secret=$(sed -n 's/.*enter the secret by hand: //p' <<<"$staff_out")
staff=$(session staff "{\"account\":\"agent@example.com\",\"password\":\"$staff_password\",\"totp\":\"$(totp_now "$staff_secret")\"}")
[ -n "$owner" ] && [ -n "$staff" ] || { echo "could not sign in" >&2; exit 1; }

# Two passes, each over the operations its role may use: the owner's (and
# everyone's, with the ingest token), then support's. Signing out is left
# out: it would end the session the rest of the pass uses.
export SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$PWD/tests/schemathesis"
run_pass() {
  local cookie=$1
  shift
  "$VENV/bin/schemathesis" run "http://$addr/api/v1/openapi.json" \
    --url "http://$addr" \
    --checks not_a_server_error,response_schema_conformance \
    --phases coverage,fuzzing,stateful \
    --max-examples "${MAX_EXAMPLES:-20}" \
    --max-time "${MAX_TIME:-150}" \
    --seed 2021 \
    --exclude-method DELETE \
    --header "Cookie: $cookie" \
    --header "Authorization: Bearer $token" \
    --request-timeout 30 \
    --workers 2 \
    "$@"
}
status=0
echo "==> schemathesis as the owner"
run_pass "$owner" --exclude-path-regex '^/api/v1/staff/' --exclude-path /api/v1/session || status=$?
echo "==> schemathesis as support staff"
run_pass "$staff" --include-path-regex '^/api/v1/staff/' || status=$?
# Any panic fails the run, but one: leptos_i18n's language-cookie effect
# (context.rs:213), a background task that can outlive the render that
# spawned it (seen once, in the crash test, with no request affected).
panics=$(grep -c "panicked" "$work/serve.err" || true)
known=$(grep -c "leptos_i18n-0.6.2/src/context.rs:213" "$work/serve.err" || true)
if [ "$panics" -gt "$known" ]; then
  echo "the server panicked:" >&2
  grep -A3 "panicked" "$work/serve.err" >&2
  status=1
fi
exit $status
