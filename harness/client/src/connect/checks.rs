//! The checks of the connection test, in the order they run: the rule table that
//! `docs/connection-test.md` documents (a test keeps the two in step).

use super::model::Level;

/// One check as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckDef {
    /// Stable id.
    pub id: &'static str,
    /// What is checked.
    pub title: &'static str,
    /// The level of proof this check stands in the way of when it does not pass.
    pub gates: Level,
}

macro_rules! checks {
    ($($name:ident = $id:literal, $title:literal, $gates:ident;)*) => {
        $(
            #[doc = concat!("`", $id, "`: ", $title, ".")]
            pub const $name: CheckDef = CheckDef { id: $id, title: $title, gates: Level::$gates };
        )*
        /// Every check, in the order they run.
        pub const CHECKS: &[CheckDef] = &[$($name),*];
    };
}

checks! {
    ID_LOAD = "C-ID-LOAD", "client identity loads (PEM or PKCS#12, passphrase)", MutualTls;
    ID_KEY = "C-ID-KEY", "private key matches the certificate; key type and size", MutualTls;
    ID_VALID = "C-ID-VALID", "client certificate is valid now (warning under 60 days left)", MutualTls;
    ID_EKU = "C-ID-EKU", "client certificate allows TLS client authentication", MutualTls;
    ID_CHAIN = "C-ID-CHAIN", "chain the client presents: leaf plus intermediates", MutualTls;
    DNS_RESOLVE = "C-DNS-RESOLVE", "host name resolves", Reachable;
    DNS_PUBLISHED = "C-DNS-PUBLISHED", "address is the one FK publishes for the host", Reachable;
    TCP = "C-TCP", "TCP connection to each address", Reachable;
    TLS_HANDSHAKE = "C-TLS-HANDSHAKE", "TLS handshake: version and cipher suite", MutualTls;
    TLS_SERVER_TRUST = "C-TLS-SERVER-TRUST", "server certificate chains to a trusted root", MutualTls;
    TLS_SERVER_NAME = "C-TLS-SERVER-NAME", "server certificate is valid for the host name", MutualTls;
    TLS_SERVER_VALID = "C-TLS-SERVER-VALID", "server certificate is within its validity", MutualTls;
    TLS_CA_NAMES = "C-TLS-CA-NAMES", "client certificate's issuer is among the authorities the server accepts", MutualTls;
    TLS_CLIENT_CERT = "C-TLS-CLIENT-CERT", "server accepts the client certificate", MutualTls;
    HTTP = "C-HTTP", "HTTP answer: status and content type", FkAnswered;
    SOAP = "C-SOAP", "SOAP answer: a tx-id or an E-IOA fault", Accepted;
    SOAP_TIME = "C-SOAP-TIME", "answer time within FK's 2 seconds", Accepted;
}

/// The definition of the check `id`.
pub fn def(id: &str) -> Option<&'static CheckDef> {
    CHECKS.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_documented() {
        let doc = include_str!("../../../../docs/connection-test.md");
        for (i, c) in CHECKS.iter().enumerate() {
            assert!(
                CHECKS[..i].iter().all(|o| o.id != c.id),
                "duplicate id {}",
                c.id
            );
            assert!(
                doc.contains(&format!("| `{}` |", c.id)),
                "docs/connection-test.md has no table row for {}",
                c.id
            );
        }
    }
}
