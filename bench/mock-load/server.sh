# Sourced by bench/mock-load/run.sh and side-by-side.sh (from the repository root, after
# build.sh has set EIOA): the server the scripts start and stop, and the work directory.

# The server process under test; `stop_server` ends it (TERM, then KILL after 10 s).
SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}

# make_work PREFIX: a fresh WORK directory, removed (with the server stopped) on exit,
# holding a test PKI from `eioa certs init` in PKI=$WORK/pki and one signed request in
# $WORK/request.xml.
make_work() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  trap 'stop_server; rm -rf "$WORK"' EXIT
  "$EIOA" certs init "$WORK/pki" >/dev/null
  "$EIOA" sign fixtures/valid/egen-arbetsgivare.xml --out "$WORK/request.xml" >/dev/null
  PKI="$WORK/pki"
}
