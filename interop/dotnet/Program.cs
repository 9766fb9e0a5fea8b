// Drives the E-IOA service with a .NET SoapHttpClientProtocol proxy that run.sh generates
// from the served WSDL with `wsdl` (class SkickaAnmalanFranArbetsgivareResponderService).
// Usage: mono client.exe CASES.json  (same input and output as ../php_client.php)
// Prints one line per case: NAME<TAB>OK<TAB>TX-ID, NAME<TAB>FAULT<TAB>KIND<TAB>MESSAGE
// or NAME<TAB>ERROR<TAB>TEXT.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Web.Services.Protocols;
using System.Xml;

[DataContract]
class Input {
    [DataMember(Name = "wsdl")] public string Wsdl;
    [DataMember(Name = "cases")] public List<Case> Cases;
}

[DataContract]
class Case {
    [DataMember(Name = "name")] public string Name;
    [DataMember(Name = "payload_b64")] public string PayloadB64;
    [DataMember(Name = "underskrifter")] public List<Signature> Underskrifter;
}

[DataContract]
class Signature {
    [DataMember(Name = "signaturtyp")] public string Signaturtyp;
    [DataMember(Name = "signatur_b64")] public string SignaturB64;
    [DataMember(Name = "ocspresponse_b64")] public string OcspresponseB64;
    [DataMember(Name = "signaturdatum")] public string Signaturdatum;
}

static class Program {
    const string Ns = "urn:shs:emottagning:SkickaAnmalanFranArbetsgivare:1";
    static TextWriter Out;

    static void Line(params string[] fields) {
        var clean = new string[fields.Length];
        for (int i = 0; i < fields.Length; i++) {
            clean[i] = (fields[i] ?? "").Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
        }
        Out.WriteLine(string.Join("\t", clean));
        Out.Flush();
    }

    // xmime:base64Binary becomes a class with the bytes in Value; the proxy encodes them.
    static base64Binary Binary(string b64) {
        return new base64Binary { Value = Convert.FromBase64String(b64) };
    }

    static int Main(string[] args) {
        Out = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
        if (args.Length < 1) {
            Console.Error.WriteLine("usage: mono client.exe CASES.json");
            return 2;
        }
        Input input;
        using (var f = File.OpenRead(args[0])) {
            input = (Input)new DataContractJsonSerializer(typeof(Input)).ReadObject(f);
        }
        // The proxy's Url is the WSDL's soap:address, as generated.
        var client = new SkickaAnmalanFranArbetsgivareResponderService();
        client.Timeout = 30000;

        foreach (var c in input.Cases) {
            var underskrifter = new List<underskriftTyp>();
            foreach (var u in c.Underskrifter) {
                underskrifter.Add(new underskriftTyp {
                    signaturtyp = (signaturEnumeration)Enum.Parse(typeof(signaturEnumeration), u.Signaturtyp),
                    signatur = Binary(u.SignaturB64),
                    ocspresponse = Binary(u.OcspresponseB64),
                    signaturdatum = DateTime.ParseExact(u.Signaturdatum, "yyyy-MM-dd", CultureInfo.InvariantCulture),
                });
            }
            try {
                XmlElement[] any = null;
                string txId = client.SkickaAnmalanFranArbetsgivare(
                    Binary(c.PayloadB64), underskrifter.ToArray(), ref any);
                Line(c.Name, "OK", txId ?? "(no tx-id)");
            } catch (SoapException e) {
                // .NET exposes the fault's <detail> element as an XmlNode.
                string kind = "other", message = e.Code + " " + e.Message;
                if (e.Detail != null) {
                    var ns = new XmlNamespaceManager(e.Detail.OwnerDocument != null
                        ? e.Detail.OwnerDocument.NameTable : new NameTable());
                    ns.AddNamespace("r", Ns);
                    foreach (var name in new[] { "XmlValidationError", "SignatureValidationError" }) {
                        var m = e.Detail.SelectSingleNode("r:" + name + "/r:message", ns);
                        if (m != null) {
                            kind = name;
                            message = m.InnerText;
                            break;
                        }
                    }
                }
                Line(c.Name, "FAULT", kind, message);
            } catch (Exception e) {
                Line(c.Name, "ERROR", e.GetType().Name + ": " + e.Message);
            }
        }
        return 0;
    }
}
