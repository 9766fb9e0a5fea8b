# Sourced by bench/mock-load/side-by-side.sh (from the repository root, with ROOT set).
#
# wiremock_setup: makes sure Java is there (Debian's openjdk-17-jre-headless) and sets
#   WIREMOCK_JAR to the standalone jar of the npm registry package `wiremock`
#   (version WIREMOCK_VERSION, default 3.13.2), fetched once with `npm pack` into
#   target/wiremock-npm/ (npm checks the tarball against the registry's integrity hash).
# wiremock_keystores PKI OUT: converts the PEM files of `eioa certs init` (PKI) into
#   OUT/server.p12 (the stand-in's own server key and certificate) and OUT/trust.p12 (the
#   CA that signed the client certificate), both PKCS12 with WireMock's default store
#   password, so no password goes on WireMock's command line. The certificates are
#   throwaway ones made for this run.

WIREMOCK_VERSION=${WIREMOCK_VERSION:-3.13.2}

wiremock_setup() {
  if ! command -v java >/dev/null || ! command -v keytool >/dev/null; then
    echo "== installing Java (Debian package openjdk-17-jre-headless)"
    if [ "$(id -u)" = 0 ]; then
      apt-get install -y openjdk-17-jre-headless >/dev/null
    else
      sudo apt-get install -y openjdk-17-jre-headless >/dev/null
    fi
  fi
  local dir="$ROOT/target/wiremock-npm/$WIREMOCK_VERSION"
  WIREMOCK_JAR="$dir/package/build/wiremock-standalone-$WIREMOCK_VERSION.jar"
  if [ ! -f "$WIREMOCK_JAR" ]; then
    command -v npm >/dev/null || {
      echo "npm is needed to fetch WireMock from the npm registry (Debian package npm)" >&2
      return 2
    }
    echo "== fetching wiremock@$WIREMOCK_VERSION from the npm registry"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "wiremock@$WIREMOCK_VERSION" >/dev/null &&
      tar xzf "wiremock-$WIREMOCK_VERSION.tgz" && rm "wiremock-$WIREMOCK_VERSION.tgz")
    [ -f "$WIREMOCK_JAR" ] || {
      echo "no standalone jar in wiremock@$WIREMOCK_VERSION: $(ls "$dir/package/build" 2>&1)" >&2
      return 2
    }
  fi
}

wiremock_keystores() {
  local pki=$1 out=$2
  # WireMock's default password for its keystore, key manager and truststore;
  # given to openssl and keytool through the environment, not their arguments.
  export WIREMOCK_STORE_PASS=password
  openssl pkcs12 -export -name server -in "$pki/server.pem" -inkey "$pki/server.key" \
    -passout env:WIREMOCK_STORE_PASS -out "$out/server.p12"
  # keytool marks the CA as a trusted certificate entry, which Java's PKCS12 reader
  # needs (openssl's PKCS12 of a lone certificate is not read as trusted).
  keytool -importcert -noprompt -alias eioa-ca -file "$pki/ca.pem" -storetype PKCS12 \
    -keystore "$out/trust.p12" -storepass:env WIREMOCK_STORE_PASS >"$out/keytool.log" 2>&1 || {
    cat "$out/keytool.log" >&2
    return 2
  }
  unset WIREMOCK_STORE_PASS
}
