#!/usr/bin/env bash
# Installs the SOAP stacks the interop tests drive: PHP's SoapClient (Debian php-cli +
# php-soap), Python's zeep (PyPI) and Mono's .NET web-service proxy generator and compiler
# (Debian mono-devel: wsdl, mcs, mono). Idempotent and quiet when everything is present.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v php >/dev/null 2>&1 || ! php -r 'exit(class_exists("SoapClient") ? 0 : 1);' >/dev/null 2>&1; then
    echo "interop/setup.sh: installing php-cli and php-soap" >&2
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli php-soap >/dev/null
fi

if ! "$PYTHON" -c 'import zeep' >/dev/null 2>&1; then
    echo "interop/setup.sh: installing zeep for $PYTHON" >&2
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore zeep
fi

if ! command -v wsdl >/dev/null 2>&1 || ! command -v mcs >/dev/null 2>&1 || ! command -v mono >/dev/null 2>&1; then
    echo "interop/setup.sh: installing mono-devel" >&2
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mono-devel >/dev/null
fi
