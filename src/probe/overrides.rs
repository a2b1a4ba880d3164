//! curl-style address overrides: `--resolve HOST:PORT:ADDR[,ADDR…]` and
//! `--connect-to HOST:PORT:CONNECT_HOST:CONNECT_PORT` (empty HOST or PORT match any). The flags
//! are parsed in the command layer (`cli/overrides.rs`); the probe only applies them.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub host: String,
    /// `None` for `*`.
    pub port: Option<u16>,
    pub addrs: Vec<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    /// `None`: any host.
    pub host: Option<String>,
    /// `None`: any port.
    pub port: Option<u16>,
    /// `None`: keep the host (use its addresses).
    pub to_host: Option<String>,
    /// `None`: keep the port.
    pub to_port: Option<u16>,
}

impl ConnectTo {
    pub fn matches(&self, host: &str, port: u16) -> bool {
        self.host.as_deref().is_none_or(|h| h == host) && self.port.is_none_or(|p| p == port)
    }
}
