#!/usr/bin/env bash
# Load benchmark of the standalone stand-in (`eioa mock-server`) on 127.0.0.1.
#
#   bench/mock-load/run.sh [SECONDS] [CONNECTIONS]      (defaults: 10 s, 64 connections)
#
# For each journal durability (fsync, the default, then none) it starts the server
# with mutual TLS and drives it over keep-alive HTTPS with the client certificate:
#   - baseline: GET /health (a static answer: TLS, HTTP and journal, no FK model)
#   - validated: POST of one signed request, replayed (FK allows re-sending a
#     notification with the same signature; each call gets a fresh tx-id)
# and prints requests/s, p50/p90/p99 latency, errors, the server's CPU time per
# request and its peak RSS (VmHWM). The client is `eioa-load-driver` (driver/):
# wrk cannot present a client certificate. With MOCK_LOAD_WRK=1 (default) the same
# two loads also run through wrk against a second server started with
# --no-client-auth, for comparison with a well-known tool.
#
# Client and server share this machine's cores: the numbers are for both together.
# EIOA_SKIP_BUILD=1 uses the eioa binary already built in target/release.
# Pacing observation is off (--pace-ms 0): every call comes from one certificate, so
# with the default each record would carry a pacing finding.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECONDS_RUN=${1:-10}
CONNS=${2:-64}
PORT=${MOCK_LOAD_PORT:-18443}
THREADS=${MOCK_LOAD_THREADS:-2}
WARMUP=${MOCK_LOAD_WARMUP:-2}
USE_WRK=${MOCK_LOAD_WRK:-1}
ACTION='urn:shs:emottagning:SkickaAnmalanFranArbetsgivareResponder:1:SkickaAnmalanFranArbetsgivare'
OP_PATH=/shs2/FK.EIOA.AnmalanArbetsgivare.ext

# shellcheck source=bench/mock-load/build.sh
source bench/mock-load/build.sh
if [ "$USE_WRK" = 1 ] && ! command -v wrk >/dev/null; then
  echo "== installing wrk (Debian package)"
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi

# shellcheck source=bench/mock-load/server.sh
source bench/mock-load/server.sh
make_work eioa-mock-load
CURL_TLS=(--cert "$PKI/client.pem" --key "$PKI/client.key" --cacert "$PKI/ca.pem")

# start_server DURABILITY DATA_DIR [extra flags…]
start_server() {
  local durability=$1 data=$2
  shift 2
  "$EIOA" mock-server --listen "127.0.0.1:$PORT" --pki-dir "$PKI" --data-dir "$data" \
    --trust-anchor fixtures/pki/ca.pem --journal-durability "$durability" --pace-ms 0 "$@" \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -sf "${CURL_TLS[@]}" "https://127.0.0.1:$PORT/health" >/dev/null 2>&1 \
       || curl -sf --cacert "$PKI/ca.pem" "https://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not come up:" >&2
  cat "$WORK/server.log" >&2
  exit 2
}

ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
HZ=$(getconf CLK_TCK)

# measure LABEL driver-args… : one driver run with server CPU time per request.
measure() {
  local label=$1
  shift
  local before after line reqs
  # Warm-up on the same connections count, not measured.
  "$DRIVER" load --addr "127.0.0.1:$PORT" --ca "$PKI/ca.pem" --connections "$CONNS" \
    --threads "$THREADS" --warmup-s 0 --duration-s "$WARMUP" --label warmup "$@" >/dev/null || true
  before=$(ticks)
  line=$("$DRIVER" load --addr "127.0.0.1:$PORT" --ca "$PKI/ca.pem" --connections "$CONNS" \
    --threads "$THREADS" --warmup-s 0 --duration-s "$SECONDS_RUN" --label "$label" "$@") || true
  after=$(ticks)
  reqs=$(sed -n 's/.* requests=\([0-9]*\) .*/\1/p' <<<"$line")
  echo "$line server_cpu_ms_per_req=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="${reqs:-0}" \
    'BEGIN { if (n > 0) printf "%.3f", t * 1000 / hz / n; else print "nan" }')"
}

# wrk_run LABEL URL [wrk args…]
wrk_run() {
  local label=$1 url=$2
  shift 2
  echo "-- wrk $label"
  wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$@" "$url" >/dev/null 2>&1 || true
  wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_RUN}s" --latency "$@" "$url" 2>&1 |
    grep -E 'Requests/sec|Transfer/sec|^ +(50|75|90|99)%|Non-2xx|Socket errors|requests in|^wrk:' || true
}

echo "== $(date -u +%FT%TZ) $(uname -n) $(nproc) cores; load: $(uptime | sed 's/.*load average: //')"
echo "   ${SECONDS_RUN} s per run after ${WARMUP} s warm-up, ${CONNS} connections, client threads ${THREADS}"
echo "   request: $(wc -c <"$WORK/request.xml") bytes (fixtures/valid/egen-arbetsgivare.xml, signed)"

for durability in fsync none; do
  data="$WORK/data-$durability"
  echo
  echo "== mutual TLS, journal $durability (eioa-load-driver, client certificate)"
  start_server "$durability" "$data"
  CERT=(--cert "$PKI/client.pem" --key "$PKI/client.key")
  measure "health/$durability" "${CERT[@]}" --path /health
  measure "validated/$durability" "${CERT[@]}" --path "$OP_PATH" \
    --body "$WORK/request.xml" --soap-action "$ACTION"
  echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$SERVER_PID/status")" \
    "journal: $(du -sh "$data" | cut -f1)"
  stop_server
  rm -rf "$data"

  if [ "$USE_WRK" = 1 ]; then
    echo
    echo "== WARNING: server WITHOUT client certificates (--no-client-auth) for wrk, journal $durability"
    start_server "$durability" "$data" --no-client-auth
    wrk_run "health/$durability" "https://127.0.0.1:$PORT/health"
    EIOA_LOAD_BODY="$WORK/request.xml" wrk_run "validated/$durability" \
      "https://127.0.0.1:$PORT$OP_PATH" -s bench/mock-load/post.lua
    echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$SERVER_PID/status")"
    stop_server
    rm -rf "$data"
  fi
done
echo
echo "== done; load: $(uptime | sed 's/.*load average: //')"
