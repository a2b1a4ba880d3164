//! One endpoint through the proxy the runner would use: CONNECT (HTTPS) or an absolute-form
//! request (plain HTTP), then TLS end to end through the tunnel and HTTP, as the direct path.

use std::time::Instant;

use super::outcome::{CheckObservation, ProxyUse, Step};
use super::{connect, http, At, ProbeConfig};
use crate::env::proxy::ProxySetting;
use crate::model::{Family, HttpSpec};
use crate::plan::{Endpoint, Proto};

/// Probe `host`'s endpoint `ep` through `proxy`.
pub async fn probe_endpoint(
    cfg: &ProbeConfig,
    host: &str,
    ep: &Endpoint,
    proxy: &ProxySetting,
) -> Vec<CheckObservation> {
    let timeout = cfg.timeout;
    let used = ProxyUse {
        url: proxy.url.clone(),
        from: proxy.from.clone(),
    };
    let at = |addr: Option<std::net::SocketAddr>| At {
        port: ep.port,
        family: addr.map(|a| Family::of(&a.ip())),
        address: addr,
        connection: None,
        epoch: cfg.epoch,
    };
    // A connection made (to the proxy, or the tunnel through it) gets its number.
    let connected = |addr: std::net::SocketAddr| At {
        connection: Some(super::next_connection()),
        ..at(Some(addr))
    };
    let mut checks = Vec::new();
    match ep.proto {
        Proto::Https => {
            let target = connect::connect_target(host, ep.port);
            let tunnel = match connect::open(&proxy.url, host, ep.port, timeout).await {
                Err(f) => {
                    checks.push(at(f.proxy_addr).check(
                        f.ms,
                        Step::Tunnel {
                            proxy: used,
                            target,
                            failure: Some(f.failure),
                        },
                    ));
                    return checks;
                }
                Ok(t) => t,
            };
            let here = connected(tunnel.proxy_addr);
            checks.push(here.check(
                tunnel.ms,
                Step::Tunnel {
                    proxy: used,
                    target,
                    failure: None,
                },
            ));
            checks.extend(super::tls_then_http(cfg, host, ep, tunnel.stream, here, true).await);
        }
        Proto::Http => {
            let (stream, addr, ms) = match connect::connect_proxy(&proxy.url, timeout).await {
                Err(f) => {
                    // As before: the family is not recorded when the proxy is unreachable.
                    let mut here = at(f.proxy_addr);
                    here.family = None;
                    checks.push(here.check(
                        f.ms,
                        Step::ProxyConnect {
                            proxy: used,
                            failure: Some(f.failure),
                        },
                    ));
                    return checks;
                }
                Ok(x) => x,
            };
            let here = connected(addr);
            checks.push(here.check(
                ms,
                Step::ProxyConnect {
                    proxy: used.clone(),
                    failure: None,
                },
            ));
            let spec = ep.http.clone().unwrap_or_else(HttpSpec::plain_get);
            let started = Instant::now();
            let h = http::request_via_proxy(
                stream,
                host,
                ep.port,
                &spec,
                proxy.url.basic_auth(),
                timeout,
            )
            .await;
            checks.push(here.check(
                started.elapsed().as_millis() as u64,
                Step::Http {
                    http: h.info,
                    proxy: Some(used),
                    failure: h.failure,
                },
            ));
        }
    }
    checks
}
