#!/usr/bin/env bash
# The stand-in next to a WireMock SOAP stub, same load driver, same certificates,
# same signed request, all on 127.0.0.1:
#
#   bench/mock-load/side-by-side.sh [SECONDS] [CONNECTIONS]   (defaults: 10 s, 16 connections)
#
# Servers, one after the other, each with mutual TLS (a client without a certificate
# is refused; the script checks that before measuring):
#   eioa/fsync    `eioa mock-server`: envelope and payload XSD, rules, signature, OCSP,
#                 journal with fsync (the default)
#   eioa/none     the same with --journal-durability none
#   wiremock/xpath  WireMock standalone (npm package `wiremock`, Java 17 from Debian),
#                 a stub matched by URL, SOAPAction and XPath on the request element,
#                 answering the E-IOA response with a templated tx-id (wiremock/mappings/)
#   wiremock/static the same WireMock, a static answer (reference)
# WireMock runs without its in-memory request journal (--no-request-journal), as for
# load tests; its JIT is warmed up for MOCK_LOAD_WIREMOCK_WARMUP seconds (default 20)
# before measuring, the stand-in for MOCK_LOAD_WARMUP seconds (default 3).
#
# Every answer is checked by the driver (HTTP 200, a UUID tx-id, the
# SkickaAnmalanFranArbetsgivareResponse element); a failed check is an error. For each
# server the script prints requests/s, p50/p99, errors, the server's CPU time per
# request (utime+stime from /proc) and its peak RSS (VmHWM), then the ratios of the
# stand-in to the WireMock XPath stub, and the load average before and after.
# Client and server share the machine's cores; on a busy machine the numbers are for
# whatever CPU was left: compare runs only with their load averages.
#
# EIOA_SKIP_BUILD=1 uses target/release/eioa as it is. Ports: MOCK_LOAD_PORT (18443,
# the stand-in) and MOCK_LOAD_WIREMOCK_PORT (18444). WIREMOCK_VERSION picks the npm
# package version (3.13.2); WIREMOCK_JAVA_OPTS adds JVM options.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECONDS_RUN=${1:-10}
CONNS=${2:-16}
case "$SECONDS_RUN$CONNS" in *[!0-9]*) echo "usage: $0 [SECONDS] [CONNECTIONS]" >&2; exit 2 ;; esac
if [ "$SECONDS_RUN" -lt 1 ] || [ "$SECONDS_RUN" -gt 600 ] || [ "$CONNS" -lt 1 ] || [ "$CONNS" -gt 1024 ]; then
  echo "SECONDS must be 1..600 and CONNECTIONS 1..1024" >&2
  exit 2
fi
EIOA_PORT=${MOCK_LOAD_PORT:-18443}
WM_PORT=${MOCK_LOAD_WIREMOCK_PORT:-18444}
THREADS=${MOCK_LOAD_THREADS:-2}
WARMUP=${MOCK_LOAD_WARMUP:-3}
WM_WARMUP=${MOCK_LOAD_WIREMOCK_WARMUP:-20}
ACTION='urn:shs:emottagning:SkickaAnmalanFranArbetsgivareResponder:1:SkickaAnmalanFranArbetsgivare'
OP_PATH=/shs2/FK.EIOA.AnmalanArbetsgivare.ext
EXPECT='SkickaAnmalanFranArbetsgivareResponse xmlns:ns="urn:shs:emottagning:SkickaAnmalanFranArbetsgivare:1"'

# shellcheck source=bench/mock-load/build.sh
source bench/mock-load/build.sh
# shellcheck source=bench/mock-load/wiremock.sh
source bench/mock-load/wiremock.sh
wiremock_setup

# shellcheck source=bench/mock-load/server.sh
source bench/mock-load/server.sh
make_work eioa-side-by-side
CERT=(--ca "$PKI/ca.pem" --cert "$PKI/client.pem" --key "$PKI/client.key")
CURL_CERT=(--cacert "$PKI/ca.pem" --cert "$PKI/client.pem" --key "$PKI/client.key")
wiremock_keystores "$PKI" "$WORK"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
HZ=$(getconf CLK_TCK)
field() { sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<" $1"; }

# wait_up PORT SECONDS: until a GET with the client certificate gets any HTTP answer.
wait_up() {
  local port=$1 limit=$2 i
  for i in $(seq 1 $((limit * 10))); do
    if curl -s -o /dev/null "${CURL_CERT[@]}" "https://127.0.0.1:$port/health" 2>/dev/null; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server on port $port did not come up:" >&2
  tail -n 30 "$WORK/server.log" >&2
  exit 2
}

# refuses_without_cert PORT: mutual TLS really on (curl gets no HTTP answer at all).
refuses_without_cert() {
  if curl -s -o /dev/null --cacert "$PKI/ca.pem" "https://127.0.0.1:$1/health" 2>/dev/null; then
    echo "port $1 answered a client without a certificate: mutual TLS is off" >&2
    exit 2
  fi
  echo "   mutual TLS: a client without a certificate is refused"
}

# driver PORT PATH LABEL WARMUP_S DURATION_S: one driver run (the signed request).
driver() {
  timeout $(($5 + 60)) "$DRIVER" load --addr "127.0.0.1:$1" "${CERT[@]}" --path "$2" \
    --body "$WORK/request.xml" --soap-action "$ACTION" --expect "$EXPECT" \
    --connections "$CONNS" --threads "$THREADS" --warmup-s "$4" --duration-s "$5" \
    --label "$3" 2>>"$WORK/driver.err" || true
}

declare -A RPS P50 P99 ERR CPU RSS LOADS
ORDER=()
# measure LABEL PORT PATH WARMUP_S: warm-up (not measured), then the measured run.
measure() {
  local label=$1 port=$2 path=$3 warm=$4 before after line reqs
  [ "$warm" -gt 0 ] && driver "$port" "$path" "$label/warm-up" 0 "$warm" >/dev/null
  LOADS[$label]=$(loadavg)
  before=$(ticks)
  line=$(driver "$port" "$path" "$label" 0 "$SECONDS_RUN")
  after=$(ticks)
  reqs=$(field "$line" requests)
  CPU[$label]=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="${reqs:-0}" \
    'BEGIN { if (n > 0) printf "%.3f", t * 1000 / hz / n; else print "nan" }')
  RPS[$label]=$(field "$line" ok_rps)
  P50[$label]=$(field "$line" p50_ms)
  P99[$label]=$(field "$line" p99_ms)
  ERR[$label]=$(field "$line" errors)
  RSS[$label]=$(peak_rss_mb)
  ORDER+=("$label")
  echo "   $line server_cpu_ms_per_req=${CPU[$label]} peak_rss_mb=${RSS[$label]} load_before=${LOADS[$label]// /,}"
  if [ -z "${RPS[$label]}" ]; then
    echo "the driver printed no result for $label:" >&2
    cat "$WORK/driver.err" >&2
    exit 2
  fi
}

LOAD_START=$(loadavg)
echo "== $(date -u +%FT%TZ) $(uname -n) $(nproc) cores; load average: $LOAD_START"
echo "   ${SECONDS_RUN} s per run, ${CONNS} connections, client threads ${THREADS};" \
  "warm-up ${WARMUP} s (stand-in), ${WM_WARMUP} s (WireMock JIT)"
echo "   request: $(wc -c <"$WORK/request.xml") bytes (fixtures/valid/egen-arbetsgivare.xml, signed);" \
  "WireMock $WIREMOCK_VERSION on $(java -version 2>&1 | head -n 1)"
echo "   eioa: $EIOA built $(date -u -r "$EIOA" +%FT%TZ) in a tree at" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
  "($(git status --porcelain --untracked-files=no 2>/dev/null | wc -l) files changed since)"

for durability in fsync none; do
  echo
  echo "== eioa mock-server, journal $durability"
  "$EIOA" mock-server --listen "127.0.0.1:$EIOA_PORT" --pki-dir "$PKI" \
    --data-dir "$WORK/data-$durability" --trust-anchor fixtures/pki/ca.pem \
    --journal-durability "$durability" --pace-ms 0 >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_up "$EIOA_PORT" 30
  refuses_without_cert "$EIOA_PORT"
  measure "eioa/$durability" "$EIOA_PORT" "$OP_PATH" "$WARMUP"
  stop_server
  rm -rf "$WORK/data-$durability"
done

echo
echo "== WireMock $WIREMOCK_VERSION standalone"
mkdir -p "$WORK/wiremock/__files"
cp -r bench/mock-load/wiremock/mappings "$WORK/wiremock/"
# shellcheck disable=SC2086 # WIREMOCK_JAVA_OPTS is a list of options
java ${WIREMOCK_JAVA_OPTS:-} -jar "$WIREMOCK_JAR" --root-dir "$WORK/wiremock" \
  --bind-address 127.0.0.1 --disable-http --https-port "$WM_PORT" \
  --https-keystore "$WORK/server.p12" --keystore-type PKCS12 \
  --https-require-client-cert --https-truststore "$WORK/trust.p12" --truststore-type PKCS12 \
  --no-request-journal --disable-request-logging --disable-banner \
  >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_up "$WM_PORT" 120
refuses_without_cert "$WM_PORT"
# The XPath decides: the same URL and SOAPAction with another body finds no stub.
other=$(curl -s -o /dev/null -w '%{http_code}' "${CURL_CERT[@]}" -H "SOAPAction: \"$ACTION\"" \
  -H 'Content-Type: text/xml; charset=utf-8' --data-binary '<x/>' \
  "https://127.0.0.1:$WM_PORT$OP_PATH")
[ "$other" = 404 ] || { echo "the XPath stub answered another body with $other" >&2; exit 2; }
echo "   XPath stub: another body on the same URL gets 404"
echo "   JIT warm-up ${WM_WARMUP} s ..."
driver "$WM_PORT" "$OP_PATH" "wiremock/jit-warm-up" 0 "$WM_WARMUP" >/dev/null
driver "$WM_PORT" /static "wiremock/jit-warm-up" 0 3 >/dev/null
measure wiremock/xpath "$WM_PORT" "$OP_PATH" 0
measure wiremock/static "$WM_PORT" /static 0
stop_server

LOAD_END=$(loadavg)
echo
echo "== summary ($(date -u +%FT%TZ); load average before $LOAD_START, after $LOAD_END)"
printf '%-16s %9s %8s %8s %7s %12s %13s  %s\n' server req/s p50_ms p99_ms errors cpu_ms/req peak_rss_MB "load before run"
for l in "${ORDER[@]}"; do
  printf '%-16s %9s %8s %8s %7s %12s %13s  %s\n' "$l" "${RPS[$l]}" "${P50[$l]}" "${P99[$l]}" \
    "${ERR[$l]}" "${CPU[$l]}" "${RSS[$l]}" "${LOADS[$l]}"
done
echo
for l in eioa/fsync eioa/none; do
  awk -v l="$l" -v r="${RPS[$l]}" -v w="${RPS[wiremock/xpath]}" -v c="${CPU[$l]}" \
    -v wc="${CPU[wiremock/xpath]}" -v m="${RSS[$l]}" -v wm="${RSS[wiremock/xpath]}" 'BEGIN {
      printf "%s / wiremock/xpath: throughput %.2fx, server CPU per request %.2fx, peak RSS %.2fx\n",
        l, (w > 0 ? r / w : 0), (wc > 0 ? c / wc : 0), (wm > 0 ? m / wm : 0) }'
done
if [ -s "$WORK/driver.err" ]; then
  echo
  echo "driver messages:"
  sort "$WORK/driver.err" | uniq -c | head -n 20
fi
