<?php
// Drives the E-IOA service with PHP's SoapClient built from the served WSDL.
// Usage: php php_client.php CASES.json
// CASES.json: {"wsdl": URL, "cases": [{"name", "payload_b64", "underskrifter": [
//   {"signaturtyp", "signatur_b64", "ocspresponse_b64", "signaturdatum"}]}]}
// Prints one line per case: NAME<TAB>OK<TAB>TX-ID, NAME<TAB>FAULT<TAB>KIND<TAB>MESSAGE
// or NAME<TAB>ERROR<TAB>TEXT.

if ($argc < 2) {
    fwrite(STDERR, "usage: php php_client.php CASES.json\n");
    exit(2);
}
$input = json_decode(file_get_contents($argv[1]), true);
if (!is_array($input)) {
    fwrite(STDERR, "cannot read cases from {$argv[1]}\n");
    exit(2);
}
ini_set('soap.wsdl_cache_enabled', '0');

function line(array $fields): void {
    echo implode("\t", array_map(fn($f) => str_replace(["\t", "\n", "\r"], ' ', (string)$f), $fields)), "\n";
}

try {
    $client = new SoapClient($input['wsdl'], [
        'soap_version' => SOAP_1_1,
        'cache_wsdl' => WSDL_CACHE_NONE,
        'exceptions' => true,
        'trace' => true,
    ]);
} catch (Throwable $e) {
    line(['wsdl', 'ERROR', get_class($e) . ': ' . $e->getMessage()]);
    exit(1);
}

foreach ($input['cases'] as $case) {
    $underskrifter = [];
    foreach ($case['underskrifter'] as $u) {
        // base64Binary: SoapClient encodes the raw bytes itself.
        $underskrifter[] = [
            'signaturtyp' => $u['signaturtyp'],
            'signatur' => base64_decode($u['signatur_b64'], true),
            'ocspresponse' => base64_decode($u['ocspresponse_b64'], true),
            'signaturdatum' => $u['signaturdatum'],
        ];
    }
    $request = [
        'anmalanfranarbetsgivare' => base64_decode($case['payload_b64'], true),
        'underskrift' => $underskrifter,
    ];
    try {
        $response = $client->SkickaAnmalanFranArbetsgivare($request);
        line([$case['name'], 'OK', $response->{'tx-id'} ?? '(no tx-id)']);
    } catch (SoapFault $f) {
        $detail = $f->detail ?? null;
        if (isset($detail->XmlValidationError->message)) {
            line([$case['name'], 'FAULT', 'XmlValidationError', $detail->XmlValidationError->message]);
        } elseif (isset($detail->SignatureValidationError->message)) {
            line([$case['name'], 'FAULT', 'SignatureValidationError', $detail->SignatureValidationError->message]);
        } else {
            line([$case['name'], 'FAULT', 'other', $f->faultcode . ' ' . $f->getMessage()]);
        }
    } catch (Throwable $e) {
        line([$case['name'], 'ERROR', get_class($e) . ': ' . $e->getMessage()]);
    }
}
