#!/usr/bin/env bash
# A plain CI runner without Docker: start mock-finapi on a free port, wait until it is healthy, run a command
# with FINAPI_BASE_URL set, and stop the server whatever the command did. Needs `mock-finapi` on PATH and curl.
#
#   examples/ci.sh pytest tests/integration
#   FINAPI_SCENARIO=expiring-tokens examples/ci.sh ./run-my-tests.sh
set -euo pipefail

work=$(mktemp -d)
mock-finapi serve --port 0 --url-file "$work/url" --scenario "${FINAPI_SCENARIO:-default}" >"$work/log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 200); do                          # at most 10 s
  if [ -s "$work/url" ] && curl -fsS "$(cat "$work/url")/__admin/health" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "mock-finapi stopped:" >&2
    cat "$work/log" >&2
    exit 1
  fi
  sleep 0.05
done
FINAPI_BASE_URL=$(cat "$work/url")
export FINAPI_BASE_URL
curl -fsS "$FINAPI_BASE_URL/__admin/health" >/dev/null   # fails the job if it never became healthy
echo "mock-finapi at $FINAPI_BASE_URL" >&2

"$@"
