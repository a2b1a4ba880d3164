//! Hermetic test world for `runner-preflight` integration tests.
//!
//! Everything here runs on loopback (`127.0.0.1`, port 0): a scriptable
//! authoritative DNS server (UDP + TCP on one port), a throw-away PKI, TLS and
//! plain HTTP/1.1 servers with a few misbehaving modes, in-process HTTP proxies, and a helper
//! that runs the CLI with a neutralised environment (no host trust store, no proxies).
//!
//! Servers live as long as their handle: dropping a [`DnsServer`] or a
//! [`TestServer`] aborts its tasks and closes its sockets.
//!
//! One file per part, re-exported here, so `use crate::world::*;` brings the whole world:
//! - [`dns`]: the DNS server ([`DnsWorld`], [`DnsServer`]);
//! - [`pki`]: certificates ([`Pki`], [`CertKey`]);
//! - [`http`]: TLS/HTTP servers ([`TestServer`], [`Routes`], [`HttpResponse`]);
//! - [`proxy`]: CONNECT and intercepting proxies ([`TestProxy`]);
//! - [`cli`]: running the CLI ([`hermetic`], [`cli`](cli::cli), [`run`], [`run_json`]);
//! - [`fixture`]: a test's files ([`Fixture`], [`Profile`]);
//! - [`netns`]: network namespaces for tests that need root ([`Netns`]);
//! - [`report`]: lookups in the JSON report ([`target`], [`cause`]).
//!
//! `benches/latency.rs` includes this file by `#[path]`; the explicit `#[path]`s below make the
//! parts resolve the same from there as from the test binary. The harness's own smoke tests
//! (`world/smoke.rs`) are a module of the test binary only.

#![allow(dead_code)]

#[path = "world/cli.rs"]
pub mod cli;
#[path = "world/dns.rs"]
pub mod dns;
#[path = "world/fixture.rs"]
pub mod fixture;
#[path = "world/http.rs"]
pub mod http;
#[path = "world/netns.rs"]
pub mod netns;
#[path = "world/pki.rs"]
pub mod pki;
#[path = "world/proxy.rs"]
pub mod proxy;
#[path = "world/report.rs"]
pub mod report;

pub use dns::*;
pub use http::*;
pub use pki::*;
// Used by the test modules, not by benches/latency.rs.
#[allow(unused_imports)]
pub use {cli::*, fixture::*, netns::*, proxy::*, report::*};
