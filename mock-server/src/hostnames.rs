//! The names the stand-in answers to, and the base URL a served WSDL points at.
//!
//! A WSDL's `soap:address` and its `?xsd=` links must name the server as the client
//! reaches it: behind `--listen 0.0.0.0:PORT` the listen address is no such name. The
//! request's `Host` header is, but it comes from the client: it is used only when it
//! names one of the server's own names (its certificate's subject alternative names
//! and a specific listen address), and never echoed otherwise.

use std::net::{IpAddr, SocketAddr};

/// The names a server answers to, and the name it falls back to.
#[derive(Debug, Clone)]
pub struct HostNames {
    scheme: &'static str,
    /// Lower-case DNS names (possibly `*.` wildcards, as certificates carry them) and
    /// IP addresses in their usual text form.
    names: Vec<String>,
    fallback_host: String,
    port: u16,
}

impl HostNames {
    /// `cert_names`: the server certificate's SANs in order (empty for plain HTTP).
    /// `local`: the address the server listens on (its port is the fallback port).
    /// `preferred`: the fallback name instead of the first SAN (the FK host the
    /// server poses as).
    pub fn new(
        scheme: &'static str,
        cert_names: &[String],
        local: SocketAddr,
        preferred: Option<&str>,
    ) -> HostNames {
        let mut names: Vec<String> = cert_names.iter().map(|n| n.to_ascii_lowercase()).collect();
        if !local.ip().is_unspecified() {
            let ip = local.ip().to_string();
            if !names.contains(&ip) {
                names.push(ip);
            }
        }
        let fallback_host = preferred
            .map(str::to_string)
            .or_else(|| names.iter().find(|n| !n.starts_with("*.")).cloned())
            .unwrap_or_else(|| "127.0.0.1".to_string());
        HostNames {
            scheme,
            names,
            fallback_host,
            port: local.port(),
        }
    }

    /// The names the server answers to.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether `host` (lower case, without port) is one of the server's names.
    pub fn answers_to(&self, host: &str) -> bool {
        self.names.iter().any(|n| name_matches(n, host))
    }

    /// `https://NAME:PORT` for the fallback name and the listening port.
    pub fn fallback_base(&self) -> String {
        format!(
            "{}://{}:{}",
            self.scheme,
            url_host(&self.fallback_host),
            self.port
        )
    }

    /// The base URL for a request with this `Host` header: the header's host and
    /// port when the host is one of the server's names, the fallback otherwise.
    pub fn base_for(&self, host_header: Option<&str>) -> String {
        match host_header.and_then(parse_host_header) {
            Some((host, port)) if self.answers_to(&host) => match port {
                Some(p) => format!("{}://{}:{p}", self.scheme, url_host(&host)),
                // No port in Host: the client used the scheme's default port.
                None => format!("{}://{}", self.scheme, url_host(&host)),
            },
            _ => self.fallback_base(),
        }
    }
}

/// Whether a certificate name (`*.` wildcards for one left-most label, as TLS
/// clients match them) covers `host`.
pub fn name_matches(name: &str, host: &str) -> bool {
    if let Some(suffix) = name.strip_prefix("*.") {
        return match host.split_once('.') {
            Some((label, rest)) => {
                !label.is_empty()
                    && rest.eq_ignore_ascii_case(suffix)
                    && host.parse::<IpAddr>().is_err()
            }
            None => false,
        };
    }
    name.eq_ignore_ascii_case(host)
}

/// Splits a `Host` header into a normalised host (DNS names lower case, IP addresses
/// in their usual form, IPv6 without brackets) and an optional port. `None` for
/// anything that is not a plain host name or address: quotes, angle brackets,
/// user info, paths, spaces and other bytes that must never reach a served document.
pub fn parse_host_header(value: &str) -> Option<(String, Option<u16>)> {
    let value = value.trim();
    if value.is_empty() || value.len() > 260 {
        return None;
    }
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let ip: std::net::Ipv6Addr = v6.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(parse_port(p.strip_prefix(':')?)?),
        };
        return Some((ip.to_string(), port));
    } else {
        match value.split_once(':') {
            Some((h, p)) => (h, Some(parse_port(p)?)),
            None => (value, None),
        }
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some((ip.to_string(), port));
    }
    // A DNS name: letters, digits, hyphens and dots, labels of 1–63 characters.
    let ok = host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then(|| (host.to_ascii_lowercase(), port))
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|&n| n != 0)
}

/// A host as it appears in a URL: IPv6 addresses in brackets.
pub fn url_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(local: &str) -> HostNames {
        HostNames::new(
            "https",
            &[
                "localhost".into(),
                "127.0.0.1".into(),
                "shsext.forsakringskassan.se".into(),
                "*.lab.example.se".into(),
            ],
            local.parse().unwrap(),
            None,
        )
    }

    #[test]
    fn a_known_host_is_used_with_its_port() {
        let n = names("0.0.0.0:8020");
        for (header, base) in [
            (
                "shsext.forsakringskassan.se:8020",
                "https://shsext.forsakringskassan.se:8020",
            ),
            (
                "SHSEXT.Forsakringskassan.SE:9443",
                "https://shsext.forsakringskassan.se:9443",
            ),
            ("127.0.0.1:8020", "https://127.0.0.1:8020"),
            ("localhost", "https://localhost"),
            (
                "build-7.lab.example.se:8020",
                "https://build-7.lab.example.se:8020",
            ),
        ] {
            assert_eq!(n.base_for(Some(header)), base, "{header}");
        }
    }

    #[test]
    fn an_unknown_or_malformed_host_falls_back_to_the_first_name() {
        let n = names("0.0.0.0:8020");
        for header in [
            None,
            Some(""),
            Some("0.0.0.0:8020"),
            Some("evil.example.com:8020"),
            Some("lab.example.se"),
            Some("a.b.lab.example.se"),
            Some("x\"onload=\"y"),
            Some("localhost\"><x"),
            Some("<script>"),
            Some("localhost:8020/path"),
            Some("user@localhost"),
            Some("localhost:80a"),
            Some("localhost:99999"),
            Some("localhost:0"),
            Some("local host"),
            Some("[::1"),
        ] {
            assert_eq!(n.base_for(header), "https://localhost:8020", "{header:?}");
        }
    }

    #[test]
    fn a_specific_listen_address_is_a_name_too() {
        let n = HostNames::new("http", &[], "10.1.2.3:7000".parse().unwrap(), None);
        assert_eq!(n.base_for(Some("10.1.2.3:7000")), "http://10.1.2.3:7000");
        assert_eq!(n.base_for(Some("other:7000")), "http://10.1.2.3:7000");
        let v6 = HostNames::new("https", &["::1".into()], "[::]:8020".parse().unwrap(), None);
        assert_eq!(v6.base_for(Some("[::1]:8020")), "https://[::1]:8020");
        assert_eq!(v6.fallback_base(), "https://[::1]:8020");
    }

    #[test]
    fn the_preferred_name_is_the_fallback() {
        let n = HostNames::new(
            "https",
            &["localhost".into(), "shs.forsakringskassan.se".into()],
            "127.0.0.1:7020".parse().unwrap(),
            Some("shs.forsakringskassan.se"),
        );
        assert_eq!(
            n.base_for(Some("nope")),
            "https://shs.forsakringskassan.se:7020"
        );
    }
}
