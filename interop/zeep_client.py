"""Drives the E-IOA service with Python's zeep built from the served WSDL.

Usage: python3 zeep_client.py CASES.json  (same input and output as php_client.php)
"""
import base64
import json
import sys

import zeep
import zeep.exceptions

NS = "urn:shs:emottagning:SkickaAnmalanFranArbetsgivare:1"


def line(*fields):
    print("\t".join(str(f).replace("\t", " ").replace("\n", " ").replace("\r", " ") for f in fields), flush=True)


def main():
    if len(sys.argv) < 2:
        print("usage: python3 zeep_client.py CASES.json", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    try:
        client = zeep.Client(data["wsdl"])
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        line("wsdl", "ERROR", f"{type(e).__name__}: {e}")
        return 1
    for case in data["cases"]:
        underskrifter = [
            {
                "signaturtyp": u["signaturtyp"],
                # base64Binary: zeep encodes the raw bytes itself.
                "signatur": base64.b64decode(u["signatur_b64"]),
                "ocspresponse": base64.b64decode(u["ocspresponse_b64"]),
                "signaturdatum": u["signaturdatum"],
            }
            for u in case["underskrifter"]
        ]
        try:
            resp = client.service.SkickaAnmalanFranArbetsgivare(
                anmalanfranarbetsgivare=base64.b64decode(case["payload_b64"]),
                underskrift=underskrifter,
            )
            tx_id = resp if isinstance(resp, str) else resp["tx-id"]
            line(case["name"], "OK", tx_id)
        except zeep.exceptions.Fault as f:
            kind, message = "other", f"{f.code} {f.message}"
            if f.detail is not None:
                for name in ("XmlValidationError", "SignatureValidationError"):
                    m = f.detail.find(f"{{{NS}}}{name}/{{{NS}}}message")
                    if m is not None:
                        kind, message = name, m.text or ""
                        break
            line(case["name"], "FAULT", kind, message)
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            line(case["name"], "ERROR", f"{type(e).__name__}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
