#!/usr/bin/env bash
# Crash soak of the standalone stand-in's durable journal, on 127.0.0.1.
#
#   bench/soak/run.sh [TOTAL] [CONNECTIONS] [KILL_PERCENTS]   (defaults: 100000 64 40)
#
# Starts `eioa mock-server` (mutual TLS, --journal-durability fsync) and sends TOTAL
# signed calls over CONNECTIONS keep-alive connections with `eioa-load-driver soak`,
# which appends each tx-id to a file the moment it arrives. When KILL_PERCENTS (a
# comma list, e.g. 20,40,60,80) of the tx-ids are in, the server is killed with
# SIGKILL, the journal is scanned as the crash left it (an independent reader), and
# the server is restarted on the same data directory; the clients
# reconnect and carry on (a call whose connection broke is counted and sent again).
# At the end it checks:
#   - the clients received TOTAL tx-ids, all distinct;
#   - every one of them is in the journal (`eioa tx list`);
#   - the journal reads back completely: `eioa tx list` reports no damage, and an
#     independent reader of the framing (scan_journal.py) finds every segment
#     consumed exactly by frames with valid CRCs, every sealed segment ending in a
#     footer that matches it, and sequence numbers without gaps.
# Prints the counts and PASS or FAIL; exits 1 on FAIL, 2 on a set-up error.
# Bounded: the driver gives up after SOAK_MAX_SECONDS (default 900). EIOA_SKIP_BUILD=1
# uses the eioa binary already built in target/release.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
TOTAL=${1:-100000}
CONNS=${2:-64}
KILL_PCT=${3:-40}
PORT=${SOAK_PORT:-18444}
MAX_SECONDS=${SOAK_MAX_SECONDS:-900}
OUTAGE_S=${SOAK_OUTAGE_S:-2}
ACTION='urn:shs:emottagning:SkickaAnmalanFranArbetsgivareResponder:1:SkickaAnmalanFranArbetsgivare'
OP_PATH=/shs2/FK.EIOA.AnmalanArbetsgivare.ext

# shellcheck source=bench/mock-load/build.sh
source bench/mock-load/build.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/eioa-soak.XXXXXX")
KEEP=${SOAK_KEEP:-0}
SERVER_PID=
DRIVER_PID=
cleanup() {
  [ -n "$DRIVER_PID" ] && kill "$DRIVER_PID" 2>/dev/null || true
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$EIOA" certs init "$WORK/pki" >/dev/null
"$EIOA" sign fixtures/valid/egen-arbetsgivare.xml --out "$WORK/request.xml" >/dev/null
PKI="$WORK/pki"
DATA="$WORK/data"
TXIDS="$WORK/client-tx-ids.txt"
: >"$TXIDS"

start_server() {
  "$EIOA" mock-server --listen "127.0.0.1:$PORT" --pki-dir "$PKI" --data-dir "$DATA" \
    --trust-anchor fixtures/pki/ca.pem --journal-durability fsync --pace-ms 0 \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -sf --cert "$PKI/client.pem" --key "$PKI/client.key" --cacert "$PKI/ca.pem" \
         "https://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not come up:" >&2
  cat "$WORK/server.log" >&2
  exit 2
}

echo "== $(date -u +%FT%TZ) $(nproc) cores; load: $(uptime | sed 's/.*load average: //')"
echo "   $TOTAL calls, $CONNS connections, SIGKILL at ${KILL_PCT} %, outage ${OUTAGE_S} s each"
start_server
T0=$(date +%s.%N)
"$DRIVER" soak --addr "127.0.0.1:$PORT" --ca "$PKI/ca.pem" \
  --cert "$PKI/client.pem" --key "$PKI/client.key" \
  --path "$OP_PATH" --body "$WORK/request.xml" --soap-action "$ACTION" \
  --connections "$CONNS" --total "$TOTAL" --txids "$TXIDS" --max-seconds "$MAX_SECONDS" \
  >"$WORK/driver.out" 2>&1 &
DRIVER_PID=$!

IFS=, read -r -a KILL_AT_PCTS <<<"$KILL_PCT"
kills=0
for pct in "${KILL_AT_PCTS[@]}"; do
  kill_at=$((TOTAL * pct / 100))
  while kill -0 "$DRIVER_PID" 2>/dev/null && [ "$(wc -l <"$TXIDS")" -lt "$kill_at" ]; do
    sleep 0.05
  done
  kill -0 "$DRIVER_PID" 2>/dev/null || break
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  kills=$((kills + 1))
  echo "== SIGKILL $kills after $(wc -l <"$TXIDS") tx-ids received" \
    "($(awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN{printf "%.1f", a-b}') s)"
  echo -n "   journal as the crash left it: "
  # A torn tail here is allowed (the restart cuts it); only the final scan must be clean.
  { python3 bench/soak/scan_journal.py "$DATA" || true; } | tr '\n' ' '
  echo
  sleep "$OUTAGE_S"
  start_server
  echo "== restarted on the same data directory"
done
if [ "$kills" != "${#KILL_AT_PCTS[@]}" ]; then
  echo "FAIL: the clients finished before every kill point ($KILL_PCT %): $kills kill(s)"
  cat "$WORK/driver.out"
  exit 1
fi

wait "$DRIVER_PID" && driver_rc=0 || driver_rc=$?
DRIVER_PID=
T1=$(date +%s.%N)
cat "$WORK/driver.out"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

echo "server's open-time repair: $(grep -c 'torn tail' "$WORK/server.log" || true) torn tail(s) cut in $kills restart(s)"
grep 'torn tail' "$WORK/server.log" | sed 's/^/  /' || true
echo "== checks ($(awk -v a="$T1" -v b="$T0" 'BEGIN{printf "%.1f", a-b}') s of load; load: $(uptime | sed 's/.*load average: //'))"
fail=0
received=$(wc -l <"$TXIDS")
distinct=$(sort -u "$TXIDS" | wc -l)
echo "client: driver exit $driver_rc, tx-ids received $received, distinct $distinct (expected $TOTAL)"
[ "$driver_rc" = 0 ] && [ "$received" = "$TOTAL" ] && [ "$distinct" = "$TOTAL" ] || fail=1

list_rc=0
L0=$(date +%s.%N)
"$EIOA" tx list --data-dir "$DATA" >"$WORK/tx-list.txt" 2>"$WORK/tx-list.err" || list_rc=$?
echo "eioa tx list over $(du -sh "$DATA" | cut -f1): $(awk -v a="$(date +%s.%N)" -v b="$L0" 'BEGIN{printf "%.1f", a-b}') s"
awk 'NR > 1 && length($4) == 36 {print $4}' "$WORK/tx-list.txt" | sort -u >"$WORK/journal-tx-ids.txt"
records=$(($(wc -l <"$WORK/tx-list.txt") - 1))
in_journal=$(wc -l <"$WORK/journal-tx-ids.txt")
missing=$(sort -u "$TXIDS" | comm -23 - "$WORK/journal-tx-ids.txt" | wc -l)
echo "journal (eioa tx list): exit $list_rc, records $records, distinct tx-ids $in_journal," \
  "client tx-ids missing from it $missing, journaled but never received $((in_journal - distinct + missing))"
sed 's/^/  /' "$WORK/tx-list.err"
[ "$list_rc" = 0 ] && [ "$missing" = 0 ] || fail=1
if [ "$missing" != 0 ]; then
  echo "  first missing:"; sort -u "$TXIDS" | comm -23 - "$WORK/journal-tx-ids.txt" | head -5 | sed 's/^/    /' || true
fi

python3 bench/soak/scan_journal.py "$DATA" || fail=1

if [ "$fail" = 0 ]; then echo "PASS"; else echo "FAIL"; KEEP=1; exit 1; fi
