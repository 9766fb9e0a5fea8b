#!/usr/bin/env bash
# Drives the E-IOA service with a .NET client: generates a SoapHttpClientProtocol proxy
# from the served WSDL with Mono's `wsdl` (the .NET Framework "Add Web Reference"
# generator), compiles it with Program.cs using `mcs` and runs it with `mono`.
# Usage: run.sh WSDL_URL CASES.json  (same CASES.json and output as ../php_client.php)
# Only the client's lines go to stdout; the tools' output goes to stderr.
# Set EIOA_DOTNET_WORK to a directory to keep the generated proxy and binary there.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: run.sh WSDL_URL CASES.json" >&2
    exit 2
fi
wsdl_url="$1"
cases="$(realpath "$2")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ -n "${EIOA_DOTNET_WORK:-}" ]; then
    work="$EIOA_DOTNET_WORK"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
cd "$work"

# The generator follows the WSDL's xs:import to ?xsd=NAME URLs itself.
wsdl -nologo -out:Proxy.cs "$wsdl_url" >&2
mcs -nologo -warnaserror- -out:client.exe \
    -r:System.Web.Services -r:System.Runtime.Serialization -r:System.Xml \
    Proxy.cs "$here/Program.cs" >&2
exec mono client.exe "$cases"
