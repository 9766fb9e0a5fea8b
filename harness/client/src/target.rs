//! Where an exchange goes: FK's test or production service, a mock, or any URL.

use std::fmt;

pub use reqwest::Url;

use eioa_model::fk_address::{FK_PROD, FK_TEST};

/// FK's test environment (certificate CN `shsext.forsakringskassan.se`).
pub const FK_TEST_URL: &str = FK_TEST.url;
/// FK's production environment (certificate CN `shs.forsakringskassan.se`).
pub const FK_PROD_URL: &str = FK_PROD.url;
/// The host names FK's E-IOA service uses; requests to them are paced by default.
pub const FK_HOSTS: &[&str] = &[FK_TEST.host, FK_PROD.host];

/// The endpoint of an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The project's own stand-in for FK (usually on 127.0.0.1).
    Mock(Url),
    /// FK's test environment, [`FK_TEST_URL`].
    Test,
    /// FK's production environment, [`FK_PROD_URL`].
    Prod,
    /// Any other endpoint.
    Url(Url),
}

impl Target {
    /// The endpoint URL.
    pub fn url(&self) -> Url {
        match self {
            Target::Mock(url) | Target::Url(url) => url.clone(),
            // The constants are checked by a unit test; parsing them cannot fail.
            Target::Test => Url::parse(FK_TEST_URL).expect("FK_TEST_URL is a valid url"),
            Target::Prod => Url::parse(FK_PROD_URL).expect("FK_PROD_URL is a valid url"),
        }
    }

    /// Whether the endpoint is one of FK's hosts.
    pub fn is_fk(&self) -> bool {
        self.url().host_str().is_some_and(is_fk_host)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Mock(url) => write!(f, "mock {url}"),
            Target::Test => write!(f, "fk test {FK_TEST_URL}"),
            Target::Prod => write!(f, "fk production {FK_PROD_URL}"),
            Target::Url(url) => write!(f, "{url}"),
        }
    }
}

/// A fixed address for one host and port, as curl's `--resolve HOST:PORT:ADDR`: the connection
/// goes to `addr` while TLS still checks the certificate against `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    /// The host name as written in the URL.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The address to connect to.
    pub addr: std::net::IpAddr,
}

impl Resolve {
    /// Parses `HOST:PORT:ADDR` (an IPv6 address may be written in brackets).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("`{text}` is not HOST:PORT:ADDR ({why})");
        let (host, rest) = text.split_once(':').ok_or_else(|| bad("no port"))?;
        let (port, addr) = rest.split_once(':').ok_or_else(|| bad("no address"))?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| bad("the port is not a number"))?;
        let addr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| bad("the address is not an IP address"))?;
        Ok(Self {
            host: host.to_owned(),
            port,
            addr,
        })
    }

    /// Whether this entry applies to `host` and `port` (host compared case-insensitively,
    /// a trailing dot ignored).
    pub fn applies_to(&self, host: &str, port: u16) -> bool {
        let norm = |h: &str| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .trim_end_matches('.')
                .to_ascii_lowercase()
        };
        self.port == port && norm(&self.host) == norm(host)
    }
}

impl fmt::Display for Resolve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            std::net::IpAddr::V6(a) => write!(f, "{}:{}:[{a}]", self.host, self.port),
            std::net::IpAddr::V4(a) => write!(f, "{}:{}:{a}", self.host, self.port),
        }
    }
}

/// Whether `host` is one of [`FK_HOSTS`] (case-insensitive, a trailing dot allowed).
pub fn is_fk_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    FK_HOSTS.iter().any(|fk| fk.eq_ignore_ascii_case(host))
}

/// Whether `host` names the local machine (127.0.0.0/8, ::1 or `localhost`).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fk_targets_have_fk_hosts_and_ports() {
        let test = Target::Test.url();
        assert_eq!(test.host_str(), Some("shsext.forsakringskassan.se"));
        assert_eq!(test.port(), Some(8020));
        assert_eq!(test.scheme(), "https");
        let prod = Target::Prod.url();
        assert_eq!(prod.host_str(), Some("shs.forsakringskassan.se"));
        assert_eq!(prod.port(), Some(7020));
        assert!(Target::Test.is_fk() && Target::Prod.is_fk());
        let mock = Target::Mock(Url::parse("https://127.0.0.1:8443/x").unwrap());
        assert!(!mock.is_fk());
    }

    #[test]
    fn resolve_parses_curl_syntax() {
        let r = Resolve::parse("shsext.forsakringskassan.se:8020:127.0.0.1").unwrap();
        assert_eq!(r.port, 8020);
        assert!(r.applies_to("SHSEXT.forsakringskassan.se.", 8020));
        assert!(!r.applies_to("shsext.forsakringskassan.se", 7020));
        assert_eq!(r.to_string(), "shsext.forsakringskassan.se:8020:127.0.0.1");
        let v6 = Resolve::parse("h:1:[::1]").unwrap();
        assert_eq!(v6.addr, "::1".parse::<std::net::IpAddr>().unwrap());
        assert!(Resolve::parse("h:x:1.2.3.4").is_err());
        assert!(Resolve::parse("h:1").is_err());
        assert!(Resolve::parse("h:1:not-an-ip").is_err());
    }

    #[test]
    fn host_classes() {
        assert!(is_fk_host("SHS.forsakringskassan.se."));
        assert!(!is_fk_host("evil-shs.forsakringskassan.se.example"));
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("localhost"));
        assert!(!is_loopback_host("10.0.0.1"));
    }
}
