//! FK's two hosts, as the stand-in poses as them (`eioa mock-server --as`): the host
//! name a client checks in the server certificate, the port and the one service path
//! each host serves.

use eioa_fk::{PATH_PROD, PATH_TEST};
use eioa_model::fk_address::{FK_PROD, FK_TEST};

/// FK's test host: the address a vendor must show an approved connection to.
pub const TEST_HOST: &str = FK_TEST.host;
/// FK's production host.
pub const PROD_HOST: &str = FK_PROD.host;
/// Both, as `eioa certs init --fk-hosts` puts them in the server certificate.
pub const FK_HOST_NAMES: [&str; 2] = [TEST_HOST, PROD_HOST];

/// One of FK's hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FkHost {
    /// `shsext.forsakringskassan.se:8020`, path `/shs2/FK.EIOA.AnmalanArbetsgivare.ext`.
    #[value(name = "fk-test")]
    Test,
    /// `shs.forsakringskassan.se:7020`, path `/shs2/FK.EIOA.AnmalanArbetsgivare`.
    #[value(name = "fk-prod")]
    Prod,
}

impl FkHost {
    /// The name in FK's server certificate and in its URL.
    pub fn host_name(self) -> &'static str {
        match self {
            FkHost::Test => TEST_HOST,
            FkHost::Prod => PROD_HOST,
        }
    }

    /// FK's port for this environment.
    pub fn port(self) -> u16 {
        match self {
            FkHost::Test => FK_TEST.port,
            FkHost::Prod => FK_PROD.port,
        }
    }

    /// The one service path this host serves.
    pub fn path(self) -> &'static str {
        match self {
            FkHost::Test => PATH_TEST,
            FkHost::Prod => PATH_PROD,
        }
    }

    /// The other environment's path, which this host answers with 404.
    pub fn other_path(self) -> &'static str {
        match self {
            FkHost::Test => PATH_PROD,
            FkHost::Prod => PATH_TEST,
        }
    }

    /// `test` or `prod`, as `eioa connect --target` and `eioa run --target` name it.
    pub fn target(self) -> &'static str {
        match self {
            FkHost::Test => "test",
            FkHost::Prod => "prod",
        }
    }

    /// `fk-test` or `fk-prod`, as `--as` names it.
    pub fn flag(self) -> &'static str {
        match self {
            FkHost::Test => "fk-test",
            FkHost::Prod => "fk-prod",
        }
    }

    /// What this environment is called in messages.
    pub fn environment(self) -> &'static str {
        match self {
            FkHost::Test => "test",
            FkHost::Prod => "production",
        }
    }

    /// FK's URL of the service on this host.
    pub fn url(self) -> String {
        format!(
            "https://{}:{}{}",
            self.host_name(),
            self.port(),
            self.path()
        )
    }
}
