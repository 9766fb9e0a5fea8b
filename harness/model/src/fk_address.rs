//! Where FK's E-IOA service is: the two hosts, their ports, paths and the addresses
//! FK publishes for them. The client, the connection test and the stand-in posing as
//! FK all read these, so a change on FK's side is one edit here.

/// One of FK's two environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FkEndpoint {
    /// The host name in FK's URL and server certificate.
    pub host: &'static str,
    pub port: u16,
    /// The one service path this host serves.
    pub path: &'static str,
    /// The address FK publishes for the host (a different DNS answer points at split
    /// DNS or a proxy).
    pub published_ip: &'static str,
    /// The whole service URL.
    pub url: &'static str,
}

/// FK's test environment: the address a vendor must show an approved connection to.
pub const FK_TEST: FkEndpoint = FkEndpoint {
    host: "shsext.forsakringskassan.se",
    port: 8020,
    path: "/shs2/FK.EIOA.AnmalanArbetsgivare.ext",
    published_ip: "194.71.80.30",
    url: "https://shsext.forsakringskassan.se:8020/shs2/FK.EIOA.AnmalanArbetsgivare.ext",
};

/// FK's production environment.
pub const FK_PROD: FkEndpoint = FkEndpoint {
    host: "shs.forsakringskassan.se",
    port: 7020,
    path: "/shs2/FK.EIOA.AnmalanArbetsgivare",
    published_ip: "194.71.65.32",
    url: "https://shs.forsakringskassan.se:7020/shs2/FK.EIOA.AnmalanArbetsgivare",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_url_is_made_of_its_parts() {
        for e in [FK_TEST, FK_PROD] {
            assert_eq!(e.url, format!("https://{}:{}{}", e.host, e.port, e.path));
        }
    }
}
