//! One endpoint through the proxy the runner would use: CONNECT (HTTPS) or an absolute-form
//! request (plain HTTP), then TLS end to end through the tunnel and HTTP, as the direct path.

use std::time::Instant;

use super::{connect, http, ProbeConfig};
use crate::plan::{Endpoint, Proto};
use crate::proxy::ProxySetting;
use crate::report::{Check, DnsOutcome, Family, Phase, Verdict};

/// A name whose local DNS fails is still reachable through a proxy (the proxy resolves it):
/// record that as a note instead of a failure.
pub fn dns_not_needed(mut dns: DnsOutcome) -> DnsOutcome {
    if dns.verdict == Verdict::Fail {
        let why = dns.error.take().unwrap_or_else(|| "no address".into());
        dns.notes.push(format!(
            "does not resolve locally ({why}); not needed: the proxy resolves the names it connects to"
        ));
        dns.verdict = Verdict::Skip;
    }
    dns
}

fn check(ep: &Endpoint, phase: Phase, verdict: Verdict, detail: String, ms: u64) -> Check {
    Check {
        phase,
        port: Some(ep.port),
        family: None,
        address: None,
        verdict,
        detail,
        ms,
        tls: None,
        http: None,
    }
}

/// Probe `host`'s endpoint `ep` through `proxy`.
pub async fn probe_endpoint(
    cfg: &ProbeConfig,
    host: &str,
    ep: &Endpoint,
    proxy: &ProxySetting,
) -> Vec<Check> {
    let timeout = cfg.timeout;
    let mut checks = Vec::new();
    match ep.proto {
        Proto::Https => {
            let tunnel = match connect::open(&proxy.url, host, ep.port, timeout).await {
                Err(f) => {
                    let mut c = check(ep, Phase::Tcp, Verdict::Fail, f.detail, f.ms);
                    c.address = f.proxy_addr.map(|a| a.to_string());
                    c.family = f.proxy_addr.map(|a| Family::of(&a.ip()));
                    checks.push(c);
                    return checks;
                }
                Ok(t) => t,
            };
            let addr = tunnel.proxy_addr;
            let mut c = check(
                ep,
                Phase::Tcp,
                Verdict::Pass,
                format!(
                    "tunnel to {host}:{} through proxy {} ({})",
                    ep.port, proxy.url, proxy.from
                ),
                tunnel.ms,
            );
            c.address = Some(addr.to_string());
            c.family = Some(Family::of(&addr.ip()));
            let family = c.family;
            checks.push(c);
            let mut base = check(ep, Phase::Tls, Verdict::Pass, String::new(), 0);
            base.address = Some(addr.to_string());
            base.family = family;
            checks.extend(super::tls_then_http(cfg, host, ep, tunnel.stream, &base, true).await);
        }
        Proto::Http => {
            let (stream, addr, ms) = match connect::connect_proxy(&proxy.url, timeout).await {
                Err(f) => {
                    let mut c = check(ep, Phase::Tcp, Verdict::Fail, f.detail, f.ms);
                    c.address = f.proxy_addr.map(|a| a.to_string());
                    checks.push(c);
                    return checks;
                }
                Ok(x) => x,
            };
            let family = Some(Family::of(&addr.ip()));
            let mut c = check(
                ep,
                Phase::Tcp,
                Verdict::Pass,
                format!("connected to proxy {} ({})", proxy.url, proxy.from),
                ms,
            );
            c.address = Some(addr.to_string());
            c.family = family;
            checks.push(c);
            let spec = ep.http.clone().unwrap_or(crate::model::HttpSpec {
                method: crate::model::Method::Get,
                path: "/".into(),
                expect_header: None,
            });
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
            // Without a fingerprint, these statuses are the proxy's own refusals far more often
            // than the server's: they must not pass.
            let proxy_refusal = h.info.header_present != Some(true)
                && h.info.status.is_some_and(http::proxy_refusal);
            let verdict = if proxy_refusal {
                Verdict::Fail
            } else {
                h.verdict
            };
            let detail = match h.info.status {
                Some(407) => format!(
                    "proxy {} answered 407: {}",
                    proxy.url,
                    if proxy.url.has_credentials() {
                        "it rejected the credentials in the proxy URL"
                    } else {
                        "it requires authentication; put user:password@ in the proxy URL"
                    }
                ),
                Some(s) if proxy_refusal => format!(
                    "{}: {s} through proxy {}, most likely the proxy refusing or failing to reach {host} (no fingerprint header proves otherwise)",
                    h.detail, proxy.url
                ),
                _ => format!("{} (through proxy {})", h.detail, proxy.url),
            };
            let mut c = check(
                ep,
                Phase::Http,
                verdict,
                detail,
                started.elapsed().as_millis() as u64,
            );
            c.address = Some(addr.to_string());
            c.family = family;
            c.http = Some(h.info);
            checks.push(c);
        }
    }
    checks
}
