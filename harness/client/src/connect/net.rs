//! DNS and TCP (`C-DNS-*`, `C-TCP`): whether the host resolves, to the published address, and accepts a connection.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use tokio::net::TcpStream;

use super::checks::{self};
use super::model::{Fact, Status};
use super::probe::{ms, Probe, Remedy, FK_PROD_ADDR, FK_TEST_ADDR};
use crate::target::Resolve;

impl Probe<'_> {
    // ---- DNS --------------------------------------------------------------------------------

    pub(super) async fn dns(
        &mut self,
        host: &str,
        port: u16,
        resolve: Option<&Resolve>,
    ) -> Option<Vec<IpAddr>> {
        let t = Instant::now();
        let published = [FK_TEST_ADDR, FK_PROD_ADDR]
            .into_iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host.trim_end_matches('.')))
            .map(|(_, a)| a);
        let (addrs, how) = if let Ok(ip) = host.parse::<IpAddr>() {
            (vec![ip], "an address; no lookup")
        } else if let Some(r) = resolve {
            (vec![r.addr], "given by --resolve")
        } else {
            let lookup = tokio::time::timeout(
                self.opts.connect_timeout,
                tokio::net::lookup_host((host, port)),
            )
            .await;
            match lookup {
                Ok(Ok(found)) => {
                    let mut v: Vec<IpAddr> = Vec::new();
                    for a in found {
                        if !v.contains(&a.ip()) {
                            v.push(a.ip());
                        }
                    }
                    (v, "resolved by the system resolver")
                }
                Ok(Err(e)) => {
                    let remedy = match published {
                        Some(addr) => Remedy::new(
                            format!("This machine's DNS has no answer for {host}: ask your network team for a resolver that does, or test with --resolve {host}:{port}:{addr} (the address FK publishes)."),
                            format!("Datorns DNS har inget svar för {host}: be nätverksgruppen om en DNS-server som har det, eller testa med --resolve {host}:{port}:{addr} (adressen som FK publicerar)."),
                        ),
                        None => Remedy::new(
                            format!("The name {host} has no address here: check the spelling and the DNS settings, or give the address with --resolve {host}:{port}:ADDR."),
                            format!("Namnet {host} har ingen adress här: kontrollera stavningen och DNS-inställningarna, eller ange adressen med --resolve {host}:{port}:ADDR."),
                        ),
                    };
                    self.push(
                        checks::DNS_RESOLVE,
                        Status::Fail,
                        format!("{host} does not resolve: {e}"),
                        vec![
                            Fact::new("host", host),
                            Fact::new("error", e.to_string()),
                            Fact::new("time", ms(t.elapsed())),
                        ],
                        Some(remedy),
                        t,
                    );
                    self.skip(
                        checks::DNS_PUBLISHED,
                        "the host name did not resolve (C-DNS-RESOLVE)",
                    );
                    return None;
                }
                Err(_) => {
                    self.push(checks::DNS_RESOLVE, Status::Fail, format!("no DNS answer for {host} within {:?}", self.opts.connect_timeout), vec![Fact::new("host", host), Fact::new("time", ms(t.elapsed()))], Some(Remedy::new(
                        format!("The resolver does not answer: check the DNS settings, or give the address with --resolve {host}:{port}:ADDR."),
                        format!("DNS-servern svarar inte: kontrollera DNS-inställningarna, eller ange adressen med --resolve {host}:{port}:ADDR."),
                    )), t);
                    self.skip(
                        checks::DNS_PUBLISHED,
                        "the host name did not resolve (C-DNS-RESOLVE)",
                    );
                    return None;
                }
            }
        };
        if addrs.is_empty() {
            self.push(
                checks::DNS_RESOLVE,
                Status::Fail,
                format!("{host} resolves to no address"),
                vec![Fact::new("host", host)],
                Some(Remedy::new(
                    format!("Give the address with --resolve {host}:{port}:ADDR."),
                    format!("Ange adressen med --resolve {host}:{port}:ADDR."),
                )),
                t,
            );
            self.skip(
                checks::DNS_PUBLISHED,
                "the host name did not resolve (C-DNS-RESOLVE)",
            );
            return None;
        }
        let list = addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        self.push(
            checks::DNS_RESOLVE,
            Status::Pass,
            format!("{host} → {list} ({how})"),
            vec![
                Fact::new("host", host),
                Fact::new("addresses", list.clone()),
                Fact::new("source", how),
                Fact::new("time", ms(t.elapsed())),
            ],
            None,
            t,
        );

        let t = Instant::now();
        match published {
            None => self.skip(
                checks::DNS_PUBLISHED,
                format!("{host} is not one of FK's hosts"),
            ),
            Some(addr) => {
                let facts = vec![
                    Fact::new("published by FK", addr),
                    Fact::new("addresses", list.clone()),
                ];
                if addrs.iter().any(|a| a.to_string() == addr) {
                    self.push(
                        checks::DNS_PUBLISHED,
                        Status::Pass,
                        format!("{addr}, as FK publishes"),
                        facts,
                        None,
                        t,
                    );
                } else if resolve.is_some() {
                    self.push(checks::DNS_PUBLISHED, Status::Warn, format!("--resolve gives {list}; FK publishes {addr}"), facts, Some(Remedy::new(
                        format!("Fine for a rehearsal against a stand-in; against FK itself use {addr} (or no --resolve)."),
                        format!("Det går bra vid en generalrepetition mot en ersättningsserver; mot FK ska {addr} användas (eller ingen --resolve)."),
                    )), t);
                } else {
                    self.push(checks::DNS_PUBLISHED, Status::Warn, format!("DNS answers {list}; FK publishes {addr}"), facts, Some(Remedy::new(
                        format!("A different answer points at split DNS or a proxy: ask your network team why {host} does not resolve to {addr}."),
                        format!("Ett annat svar tyder på delad DNS (split DNS) eller en proxy: fråga nätverksgruppen varför {host} inte pekar på {addr}."),
                    )), t);
                }
            }
        }
        Some(addrs)
    }

    // ---- TCP --------------------------------------------------------------------------------

    pub(super) async fn tcp(
        &mut self,
        host: &str,
        port: u16,
        addrs: &[IpAddr],
    ) -> Option<TcpStream> {
        let t = Instant::now();
        let mut facts = Vec::new();
        let mut first_ok = None;
        let mut failure: Option<(&'static str, SocketAddr)> = None;
        for ip in addrs {
            let sa = SocketAddr::new(*ip, port);
            self.pace(host).await;
            let t1 = Instant::now();
            match tokio::time::timeout(self.opts.connect_timeout, TcpStream::connect(sa)).await {
                Ok(Ok(stream)) => {
                    facts.push(Fact::new(
                        sa.to_string(),
                        format!("connected in {}", ms(t1.elapsed())),
                    ));
                    if first_ok.is_none() {
                        first_ok = Some(stream);
                    }
                }
                Ok(Err(e)) => {
                    let kind = match e.kind() {
                        std::io::ErrorKind::ConnectionRefused => "refused",
                        std::io::ErrorKind::TimedOut => "timed out",
                        std::io::ErrorKind::HostUnreachable
                        | std::io::ErrorKind::NetworkUnreachable => "unreachable",
                        _ => "failed",
                    };
                    facts.push(Fact::new(sa.to_string(), format!("{kind}: {e}")));
                    failure.get_or_insert((kind, sa));
                }
                Err(_) => {
                    facts.push(Fact::new(
                        sa.to_string(),
                        format!("timed out after {:?}", self.opts.connect_timeout),
                    ));
                    failure.get_or_insert(("timed out", sa));
                }
            }
            if first_ok.is_some() {
                break;
            }
        }
        let remedy = |kind: &str, sa: SocketAddr| {
            match kind {
            "refused" => Remedy::new(
                format!("Nothing accepts connections at {sa}, or a firewall rejects them: check the port (FK: test 8020, production 7020) and ask your network team to allow outbound TCP to {sa}."),
                format!("Ingenting tar emot anslutningar på {sa}, eller så avvisar en brandvägg dem: kontrollera porten (FK: test 8020, produktion 7020) och be nätverksgruppen tillåta utgående TCP till {sa}."),
            ),
            "timed out" => Remedy::new(
                format!("The connection is silently dropped, typically by a firewall: ask your network team to open outbound TCP from this machine to {sa}."),
                format!("Anslutningen stoppas utan svar, oftast av en brandvägg: be nätverksgruppen öppna utgående TCP från den här datorn till {sa}."),
            ),
            "unreachable" => Remedy::new(
                format!("There is no route to {}: check this machine's network and gateway (the harness does not use HTTP proxies; the connection must go directly to {sa}).", sa.ip()),
                format!("Det finns ingen väg till {}: kontrollera datorns nätverk och gateway (verktyget använder inga HTTP-proxyer; anslutningen måste gå direkt till {sa}).", sa.ip()),
            ),
            _ => Remedy::new(
                format!("Check the network path to {sa}."),
                format!("Kontrollera nätverksvägen till {sa}."),
            ),
        }
        };
        match (first_ok, failure) {
            (Some(stream), None) => {
                let peer = stream
                    .peer_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                self.push(
                    checks::TCP,
                    Status::Pass,
                    format!("connected to {peer}"),
                    facts,
                    None,
                    t,
                );
                Some(stream)
            }
            (Some(stream), Some((kind, sa))) => {
                let peer = stream
                    .peer_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                self.push(
                    checks::TCP,
                    Status::Warn,
                    format!("connected to {peer}; {sa} {kind}"),
                    facts,
                    Some(remedy(kind, sa)),
                    t,
                );
                Some(stream)
            }
            (None, Some((kind, sa))) => {
                self.push(
                    checks::TCP,
                    Status::Fail,
                    format!("{sa}: connection {kind}"),
                    facts,
                    Some(remedy(kind, sa)),
                    t,
                );
                None
            }
            (None, None) => {
                self.push(
                    checks::TCP,
                    Status::Fail,
                    "no address to connect to",
                    facts,
                    Some(Remedy::new(
                        "Give the address with --resolve HOST:PORT:ADDR.",
                        "Ange adressen med --resolve HOST:PORT:ADDR.",
                    )),
                    t,
                );
                None
            }
        }
    }
}
