#!/usr/bin/env bash
# Runs the third-party SCIM suites (../shared/scim-conformance: Okta SPEC test, Microsoft's Postman
# collection) against a fresh Ledgerline on a temp SQLite file, with a token made by the CLI.
# Exit 0 when every check passes except the deliberate, documented declines (docs/scim.md).
#   bash test/scim/conformance.sh            (from the project root; CI runs this)
# env: SCIM_CONFORMANCE_DIR (default ../shared/scim-conformance), DATABASE_URL to use PostgreSQL.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SUITE_DIR="${SCIM_CONFORMANCE_DIR:-$ROOT/../shared/scim-conformance}"
[ -f "$SUITE_DIR/run.sh" ] || { echo "conformance: no suite at $SUITE_DIR" >&2; exit 2; }
TMP="$(mktemp -d)"; PID=""
cleanup() { [ -n "$PID" ] && kill -- -"$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export PORT HOST=127.0.0.1 PUBLIC_URL="http://127.0.0.1:$PORT" LOG_LEVEL=warn
export DATABASE_URL="${DATABASE_URL:-sqlite:$TMP/conformance.db}"
cd "$ROOT"
( exec setsid node --import tsx src/main.ts ) >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do curl -fs "$PUBLIC_URL/healthz" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fs "$PUBLIC_URL/healthz" >/dev/null || { echo "conformance: server did not start"; tail -20 "$TMP/server.log"; exit 2; }
TOKEN="$(node --import tsx src/cli.ts scim-token create --name conformance 2>/dev/null | tail -n1)"
[ -n "$TOKEN" ] || { echo "conformance: could not create a token"; exit 2; }

SCIM_NO_FAIL=1 bash "$SUITE_DIR/run.sh" "$PUBLIC_URL/ResourceServer/api/SCIM" "$TOKEN" | tee "$TMP/out.txt"
status=${PIPESTATUS[0]}
[ "$status" -eq 2 ] && { echo "conformance: the harness broke"; exit 2; }

# Deliberate declines (docs/scim.md, "Conformance"): one check each, matched by its exact text.
#  - ms-postman "Group tests / Get group by id": expects the member display name the client sent
#    ("new User") echoed back; members' display is read-only (RFC 7643 §2.4) and comes from the user.
DECLINED='Body contians user: expected .* to include '"'"'new User'"'"
failures=$(grep -E '^        x ' "$TMP/out.txt" | grep -Ev "$DECLINED" || true)
declined=$(grep -E '^        x ' "$TMP/out.txt" | grep -Ec "$DECLINED" || true)
echo
echo "conformance: $declined declined check(s) (documented in docs/scim.md)"
if [ -n "$failures" ]; then
  echo "conformance: FAILED checks:"; echo "$failures"; exit 1
fi
grep -q '^scim-conformance: ' "$TMP/out.txt" || { echo "conformance: no summary line"; exit 2; }
echo "conformance: ok"
