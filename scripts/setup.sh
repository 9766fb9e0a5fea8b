#!/usr/bin/env bash
# Installs the system packages the build and the tests need, only when missing.
#   scripts/setup.sh          build needs: libxml2 headers, libclang (bindgen), pkg-config
#   scripts/setup.sh --test   plus what the interop tests drive: PHP SoapClient, Python zeep,
#                             and headless Chromium with its WebDriver for the report's browser test
# Safe to run repeatedly; quiet when everything is present.
set -euo pipefail

want=(libxml2-dev libclang-dev pkg-config)
if [[ "${1:-}" == "--test" ]]; then
  want+=(libxml2-utils php-cli php-soap python3-pip chromium chromium-driver)
  # xmlsec1 verifies signatures made by `eioa sign` as an independent xmldsig verifier.
  want+=(xmlsec1)
  # openssl cross-checks evidence signatures and certificate fingerprints in the tests.
  command -v openssl >/dev/null 2>&1 || want+=(openssl)
fi

# A C compiler and linker: the Rust toolchain links with cc, and libxml's bindings
# and ring build C code.
command -v cc >/dev/null 2>&1 || want+=(build-essential)
# curl is used by the interop set-up.
command -v curl >/dev/null 2>&1 || want+=(curl)

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 2; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" ]]; then
  # zeep brings lxml, which also re-derives fixtures/c14n/multibyte.tsv in the tests.
  if ! python3 -c 'import zeep, lxml.etree' 2>/dev/null; then
    echo "setup: installing zeep (PyPI)" >&2
    python3 -m pip install --quiet --disable-pip-version-check zeep \
      || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages zeep
  fi
fi
