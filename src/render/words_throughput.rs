//! The words for throughput and the long poll, written once from the typed values, and their
//! JSON form. Table, markdown, JUnit, annotations and JSON all take them from here.
//!
//! JSON (`schema_version: 1`): each direction keeps `direction, url, verdict, kbps, bytes,
//! sample_ms, elapsed_ms, via_proxy, ttfb_ms, stopped, detail, archive_warning` and adds
//! `failure` (`null`, or `{kind, …typed fields}` on a failed or unmeasured direction); the long
//! poll keeps `host, route, hold_seconds, survived, detail` and adds `failure` the same way.

use serde::{Serialize, Serializer};
use serde_json::{json, Value};

#[cfg(test)]
use super::words::long_poll_fix;
use super::words::{
    fmt_duration, long_poll_detail, lookup_failure, os_error, proxy_failure, tls_failure,
};
use crate::model::{Route, Verdict};
use crate::probe::dns::DnsFailure;
use crate::probe::http::HttpFailure;
use crate::probe::lookup::LookupWhy;
use crate::probe::throughput::{AddressError, ConnectError, Unconfirmable};
use crate::report::findings::{Cut, LongPollFailure, LongPollOutcome, LongPollReport};
use crate::report::throughput::{
    DirectionResult, Judgment, Missing, StopReason, ThroughputFailure, ThroughputReport,
    UpdateEstimate, DOWNLOAD_TIMEOUT_VAR, HTTP_TIMEOUT_VAR,
};

/// How sampling stopped, as the `stopped` field says it.
pub fn stop_reason(s: StopReason) -> &'static str {
    match s {
        StopReason::Certain => "verdict certain",
        StopReason::ByteBound => "byte limit",
        StopReason::TimeBound => "time limit",
        StopReason::TransferEnded => "transfer ended",
        StopReason::ConnectionClosed => "connection closed",
    }
}

/// The `stopped` field: how sampling stopped, `error` when it never started, `not measured`.
pub fn stopped(d: &DirectionResult) -> &'static str {
    match &d.sample {
        None => "not measured",
        Some(s) => s.stopped.map(stop_reason).unwrap_or("error"),
    }
}

/// The archive warning of a slow download.
pub fn archive_warning(d: &DirectionResult) -> Option<String> {
    d.archive.map(|a| {
        format!(
            "at {:.0} kbit/s a 2 MB action archive takes {:.0} s, longer than the runner's {} s HTTP timeout{}: downloads of larger actions will fail",
            a.rate,
            a.seconds,
            a.timeout.seconds,
            if a.timeout.from_variable {
                format!(" ({HTTP_TIMEOUT_VAR}, clamped to 100–1200 s)")
            } else {
                String::new()
            }
        )
    })
}

/// How long a runner update takes at the measured rate, against its download timeout.
pub fn update_estimate(u: &UpdateEstimate) -> String {
    let mb = u.package_bytes as f64 / 1_000_000.0;
    let timeout = if u.timeout.from_variable {
        format!(
            "{} ({DOWNLOAD_TIMEOUT_VAR})",
            fmt_duration(std::time::Duration::from_secs(u.timeout.seconds))
        )
    } else {
        "15-minute".to_string()
    };
    let took = fmt_duration(std::time::Duration::from_secs_f64(u.seconds.min(1e9)));
    let size = match u.size_from {
        "server" => format!("the {mb:.0} MB runner package"),
        _ => format!("the runner package (about {mb:.0} MB, as the profile states)"),
    };
    if u.too_slow {
        format!(
            "at {:.0} kbit/s {size} takes {took}, longer than the runner's {timeout} download timeout: the runner cannot update itself over this link",
            u.rate
        )
    } else {
        format!(
            "a runner update ({size}) takes {took} at this rate, within the {timeout} download timeout"
        )
    }
}

/// The plain-language detail of a direction.
pub fn detail(d: &DirectionResult) -> String {
    let dir = d.direction.id();
    let mut s = match &d.judgment {
        Judgment::NotMeasured(Missing::Source) => format!(
            "{dir} not measured: the profile names no download source; pass --throughput-url URL"
        ),
        Judgment::NotMeasured(Missing::Sink) => format!(
            "{dir} not measured: the profile names no upload sink that takes data without a token (a figure would be made up); pass --upload-url URL of an endpoint that accepts a POST"
        ),
        Judgment::Failed(ThroughputFailure::Stalled {
            bytes,
            waited,
            stopped,
        }) => format!(
            "{dir} stalled: {bytes} bytes, then nothing for {} ({})",
            fmt_duration(*waited),
            stop_reason(*stopped)
        ),
        Judgment::Failed(ThroughputFailure::TooFewBytes { bytes, needed }) => format!(
            "{dir}: the source sent only {bytes} bytes, too few to measure a rate (at least {needed} are needed; pass --throughput-url with a larger file)"
        ),
        Judgment::Failed(ThroughputFailure::UploadUnconfirmable { why }) => format!(
            "cannot measure upload against this URL: {}; no rate is given (pass --upload-url of an endpoint that reads the whole body before it answers 2xx and keeps the connection open)",
            unconfirmable_cause(why)
        ),
        Judgment::Failed(ThroughputFailure::UploadUnconfirmed { body, waited }) => format!(
            "{dir} below {}: the server had not confirmed a {body}-byte body after {} (only its answer after reading the body proves the bytes arrived)",
            d.kbps
                .map(|k| format!("{k:.0} kbit/s"))
                .unwrap_or_else(|| "any measurable rate".to_string()),
            fmt_duration(*waited)
        ),
        Judgment::Failed(f) => format!("{dir} not measured: {}", failure_cause(f)),
        Judgment::AtOnce { bytes } => format!(
            "{dir}: all {bytes} bytes arrived at once (faster than can be timed; above the floor)"
        ),
        Judgment::AboveFloor { rate, floor } => {
            format!("{dir} {rate:.0} kbit/s ≥ {floor:.0} kbit/s floor")
        }
        Judgment::BelowFloor { rate, floor } => format!(
            "{dir} {rate:.0} kbit/s is below the {floor:.0} kbit/s floor GitHub requires"
        ),
    };
    if let (Judgment::AboveFloor { .. }, Some(w)) = (&d.judgment, archive_warning(d)) {
        s = format!("{s}; {w}");
    }
    if let Some(u) = &d.update {
        s = format!("{s}; {}", update_estimate(u));
    }
    if d.proxy_only {
        s.push_str("; measured up to the proxy only: a proxy can buffer megabytes, so the uplink behind it is not confirmed");
    }
    s
}

/// Why a direction could not be measured, in plain words.
pub fn failure_cause(f: &ThroughputFailure) -> String {
    match f {
        ThroughputFailure::Url(e) => e.to_string(),
        ThroughputFailure::Address(e) => address_cause(e),
        ThroughputFailure::NoAddress { host } => format!("no address for {host}"),
        ThroughputFailure::Socket(e) => format!("cannot create a socket: {}", os_error(e)),
        ThroughputFailure::Connect { addr, error } => match error {
            ConnectError::Io(e) => format!("TCP {addr}: {}", os_error(e)),
            ConnectError::TimedOut(d) => {
                format!("TCP {addr}: no answer within {}", fmt_duration(*d))
            }
        },
        ThroughputFailure::Proxy(f) => proxy_failure(f),
        ThroughputFailure::Tls { host, failure } => tls_failure(failure, host, false),
        ThroughputFailure::NoResponse(d) => format!("no response within {}", fmt_duration(*d)),
        ThroughputFailure::Request(HttpFailure::Exchange { what, error }) => format!(
            "request failed: {}",
            super::words::exchange_failure(*what, error.as_ref())
        ),
        ThroughputFailure::Request(f) => super::words::http_failure(f, "the", "request"),
        ThroughputFailure::RedirectWithoutLocation { status } => {
            format!("redirect {status} without Location")
        }
        ThroughputFailure::BadRedirect(e) => format!("redirect to {e}"),
        ThroughputFailure::TooManyRedirects { max } => format!("more than {max} redirects"),
        ThroughputFailure::ProxyRefused { status, proxy } => format!(
            "{status} through the proxy {proxy}: the proxy refuses or cannot reach the download source"
        ),
        ThroughputFailure::SourceStatus { status } => format!(
            "the download source answered {status} (the network path works, but there is nothing to measure; pass --throughput-url)"
        ),
        ThroughputFailure::Body(e) => format!("body failed: {e}"),
        ThroughputFailure::NoBody { stopped } => {
            format!("no body bytes arrived ({})", stop_reason(*stopped))
        }
        ThroughputFailure::Stalled {
            bytes,
            waited,
            stopped,
        } => format!(
            "stalled: {bytes} bytes, then nothing for {} ({})",
            fmt_duration(*waited),
            stop_reason(*stopped)
        ),
        ThroughputFailure::TooFewBytes { bytes, needed } => format!(
            "the source sent only {bytes} bytes, too few to measure a rate (at least {needed} are needed)"
        ),
        ThroughputFailure::Write(e) => format!("write failed: {e}"),
        ThroughputFailure::UploadRejected {
            after,
            error,
            answer,
        } => format!(
            "the server stopped taking the upload after {after} bytes ({error}){}",
            answer
                .as_ref()
                .map(|line| format!("; it answered `{}`", line.escape_debug()))
                .unwrap_or_default()
        ),
        ThroughputFailure::UploadUnconfirmable { why } => format!(
            "cannot measure upload against this URL: {}",
            unconfirmable_cause(why)
        ),
        ThroughputFailure::UploadUnconfirmed { body, waited } => format!(
            "the server had not confirmed a {body}-byte body after {}",
            fmt_duration(*waited)
        ),
        ThroughputFailure::RunTimeLimit { limit } => format!(
            "the run's time limit (--max-time {}) ended before a rate was measured (give a longer --max-time, or --no-throughput)",
            fmt_duration(*limit)
        ),
        ThroughputFailure::PathMtuBlackHole {
            addr,
            body,
            works_at_mss,
            stalled_at_mss,
        } => format!(
            "a {body}-byte upload to {addr} stalls{}, but arrives over a connection announcing MSS {works_at_mss}: full-size packets on the way up are lost (a path-MTU black hole)",
            stalled_at_mss.map(|m| format!(" at MSS {m}")).unwrap_or_default()
        ),
    }
}

/// Why a server's answers to the upload cannot confirm what it received.
pub fn unconfirmable_cause(why: &Unconfirmable) -> String {
    match why {
        Unconfirmable::Refused { status, body: 0 } => {
            format!("the server answered {status} to an empty POST (it refuses uploads)")
        }
        Unconfirmable::Refused { status, body } => {
            format!("the server answered {status} to a {body}-byte POST (it refuses the upload)")
        }
        Unconfirmable::AnsweredEarly { status, sent, body } => format!(
            "the server answered {status} after {sent} of {body} bytes, before it had the body: it does not read what it is sent"
        ),
        Unconfirmable::Closes { status } => format!(
            "the server answered {status} with `Connection: close`, which is how servers answer without reading a body"
        ),
        Unconfirmable::NotRead { status, body } => format!(
            "the server answered {status} to a {body}-byte POST but not the request that followed it on the same connection: it answers before it reads the body, so its answers tell nothing about the bytes"
        ),
    }
}

/// Why no address was found, in plain words.
pub fn address_cause(e: &AddressError) -> String {
    match e {
        AddressError::Lookup(l) => lookup_failure(l),
        AddressError::NoneToConnect {
            host,
            port,
            connect_to,
        } => format!(
            "no address to connect to for {host}:{port}{}",
            connect_to
                .as_ref()
                .map(|n| format!(
                    " (--connect-to {}:{})",
                    n.host.as_deref().unwrap_or(host),
                    n.port
                ))
                .unwrap_or_default()
        ),
    }
}

fn ms(d: std::time::Duration) -> u64 {
    d.as_millis() as u64
}

fn dns_kind(f: &DnsFailure) -> &'static str {
    match f {
        DnsFailure::NxDomain { .. } => "nxdomain",
        DnsFailure::NoAddresses => "no_addresses",
        DnsFailure::ServFail { .. } => "servfail",
        DnsFailure::Refused { .. } => "refused",
        DnsFailure::OtherCode { .. } => "other_code",
        DnsFailure::Timeout { .. } => "timeout",
        DnsFailure::CnameLoop { .. } => "cname_loop",
        DnsFailure::ChainTooLong { .. } => "chain_too_long",
        DnsFailure::Network { .. } => "network",
        DnsFailure::BadName { .. } => "bad_name",
        DnsFailure::NothingListens { .. } => "nothing_listens",
        DnsFailure::NoServers => "no_servers",
        DnsFailure::Malformed { .. } => "malformed",
        DnsFailure::TruncatedTcpFailed { .. } => "truncated_tcp_failed",
    }
}

/// The machine-readable failure of a direction: `{kind, …typed fields}`, or `None` when it
/// passed (or only warns with a rate: the archive warning, a proxied upload).
pub fn failure_json(d: &DirectionResult) -> Option<Value> {
    Some(match &d.judgment {
        Judgment::NotMeasured(m) => json!({
            "kind": "not_measured",
            "missing": match m { Missing::Source => "source", Missing::Sink => "sink" },
        }),
        Judgment::BelowFloor { rate, floor } => json!({
            "kind": "below_floor",
            "kbps": (rate * 10.0).round() / 10.0,
            "min_kbps": floor,
        }),
        Judgment::Failed(f) => throughput_failure_json(f),
        Judgment::AtOnce { .. } | Judgment::AboveFloor { .. } => return None,
    })
}

/// `{kind, …typed fields}` for a throughput failure.
pub fn throughput_failure_json(f: &ThroughputFailure) -> Value {
    match f {
        ThroughputFailure::Url(e) => json!({"kind": "bad_url", "reason": e.to_string()}),
        ThroughputFailure::Address(AddressError::Lookup(l)) => {
            let host = &l.host;
            match &l.why {
                LookupWhy::Dns { failure } => json!({
                    "kind": "address_lookup", "host": host, "resolver": "dns", "dns": dns_kind(failure),
                }),
                LookupWhy::NoAddress => json!({
                    "kind": "address_lookup", "host": host, "resolver": "dns", "dns": "no_addresses",
                }),
                LookupWhy::System { gai } => json!({
                    "kind": "address_lookup", "host": host, "resolver": "system",
                    "error": gai.error, "code": gai.code, "errno": gai.errno,
                }),
                LookupWhy::Timeout { after } => json!({
                    "kind": "address_lookup", "host": host, "resolver": "system",
                    "timeout_ms": ms(*after),
                }),
            }
        }
        ThroughputFailure::Address(AddressError::NoneToConnect {
            host,
            port,
            connect_to,
        }) => json!({
            "kind": "no_address", "host": host, "port": port, "connect_to": connect_to,
        }),
        ThroughputFailure::NoAddress { host } => json!({"kind": "no_address", "host": host}),
        ThroughputFailure::Socket(e) => {
            json!({"kind": "socket", "error": os_error(e), "os_error": e})
        }
        ThroughputFailure::Connect { addr, error } => match error {
            ConnectError::TimedOut(d) => json!({
                "kind": "tcp", "address": addr.to_string(), "timeout_ms": ms(*d),
            }),
            ConnectError::Io(e) => json!({
                "kind": "tcp", "address": addr.to_string(), "error": os_error(e), "os_error": e,
            }),
        },
        ThroughputFailure::Proxy(f) => json!({
            "kind": "proxy", "proxy": f,
        }),
        ThroughputFailure::Tls { failure, .. } => json!({"kind": "tls", "tls": failure}),
        ThroughputFailure::NoResponse(d) => json!({"kind": "no_response", "timeout_ms": ms(*d)}),
        ThroughputFailure::Request(f) => json!({
            "kind": "request", "error": failure_cause(&ThroughputFailure::Request(f.clone())),
            "http": f,
        }),
        ThroughputFailure::RedirectWithoutLocation { status } => {
            json!({"kind": "redirect_without_location", "status": status})
        }
        ThroughputFailure::BadRedirect(e) => {
            json!({"kind": "bad_redirect", "reason": e.to_string()})
        }
        ThroughputFailure::TooManyRedirects { max } => {
            json!({"kind": "too_many_redirects", "max": max})
        }
        ThroughputFailure::ProxyRefused { status, proxy } => json!({
            "kind": "proxy_refused", "status": status, "proxy": proxy.to_string(),
        }),
        ThroughputFailure::SourceStatus { status } => {
            json!({"kind": "http_status", "status": status})
        }
        ThroughputFailure::Body(e) => json!({"kind": "body", "error": e.to_string()}),
        ThroughputFailure::NoBody { stopped } => {
            json!({"kind": "no_body", "stopped": stop_reason(*stopped)})
        }
        ThroughputFailure::Stalled {
            bytes,
            waited,
            stopped,
        } => json!({
            "kind": "stalled", "bytes": bytes, "waited_ms": ms(*waited),
            "stopped": stop_reason(*stopped),
        }),
        ThroughputFailure::TooFewBytes { bytes, needed } => {
            json!({"kind": "too_few_bytes", "bytes": bytes, "needed": needed})
        }
        ThroughputFailure::Write(e) => json!({"kind": "write", "error": e.to_string()}),
        ThroughputFailure::UploadRejected {
            after,
            error,
            answer,
        } => json!({
            "kind": "upload_rejected", "after_bytes": after, "error": error.to_string(),
            "answer": answer,
        }),
        ThroughputFailure::UploadUnconfirmable { why } => match why {
            Unconfirmable::Refused { status, body } => json!({
                "kind": "upload_unconfirmable", "reason": "refused", "status": status,
                "body_bytes": body,
            }),
            Unconfirmable::AnsweredEarly { status, sent, body } => json!({
                "kind": "upload_unconfirmable", "reason": "answered_early", "status": status,
                "sent_bytes": sent, "body_bytes": body,
            }),
            Unconfirmable::Closes { status } => json!({
                "kind": "upload_unconfirmable", "reason": "connection_close", "status": status,
            }),
            Unconfirmable::NotRead { status, body } => json!({
                "kind": "upload_unconfirmable", "reason": "not_read", "status": status,
                "body_bytes": body,
            }),
        },
        ThroughputFailure::UploadUnconfirmed { body, waited } => json!({
            "kind": "upload_unconfirmed", "body_bytes": body, "waited_ms": ms(*waited),
        }),
        ThroughputFailure::RunTimeLimit { limit } => json!({
            "kind": "run_time_limit", "max_time_ms": ms(*limit),
        }),
        ThroughputFailure::PathMtuBlackHole {
            addr,
            body,
            works_at_mss,
            stalled_at_mss,
        } => json!({
            "kind": "path_mtu_black_hole", "address": addr.to_string(), "body_bytes": body,
            "works_at_mss": works_at_mss, "stalled_at_mss": stalled_at_mss,
        }),
    }
}

/// A direction as every renderer shows it (and as JSON writes it).
#[derive(Debug, Clone, Serialize)]
pub struct DirectionView {
    /// `download` or `upload`.
    pub direction: &'static str,
    pub url: Option<String>,
    pub verdict: Verdict,
    /// Sustained rate; `null` when not measured.
    pub kbps: Option<f64>,
    pub bytes: u64,
    /// Length of the sustained sample the rate is computed over.
    pub sample_ms: u64,
    /// From connecting to the verdict (set-up, TTFB and sample).
    pub elapsed_ms: u64,
    /// The proxy the measurement went through (credentials masked), or `null` for direct.
    pub via_proxy: Option<String>,
    /// Time to first byte (download), excluded from the rate.
    pub ttfb_ms: Option<u64>,
    /// Why sampling stopped: verdict certain, byte limit, time limit, transfer ended, …
    pub stopped: &'static str,
    pub detail: String,
    /// Download: how long a runner update would take (`{package_bytes, size_from, seconds,
    /// timeout_seconds, timeout_from, too_slow, detail}`), when the package size is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<Value>,
    pub archive_warning: Option<String>,
    /// `{kind, …}` on a failed or unmeasured direction.
    pub failure: Option<Value>,
}

/// The view of one direction.
pub fn view(d: &DirectionResult) -> DirectionView {
    let s = d.sample.as_ref();
    DirectionView {
        direction: d.direction.id(),
        url: s.map(|s| s.url.clone()),
        verdict: d.verdict,
        kbps: d.kbps,
        bytes: s.map_or(0, |s| s.bytes),
        sample_ms: s.map_or(0, |s| ms(s.sample)),
        elapsed_ms: s.map_or(0, |s| ms(s.elapsed)),
        via_proxy: s.and_then(|s| s.via_proxy.as_ref()).map(|p| p.to_string()),
        ttfb_ms: s.and_then(|s| s.ttfb).map(ms),
        stopped: stopped(d),
        detail: detail(d),
        archive_warning: archive_warning(d),
        update: d.update.as_ref().map(|u| {
            json!({
                "package_bytes": u.package_bytes,
                "size_from": u.size_from,
                "seconds": u.seconds.round(),
                "timeout_seconds": u.timeout.seconds,
                "timeout_from": if u.timeout.from_variable { DOWNLOAD_TIMEOUT_VAR } else { "default" },
                "too_slow": u.too_slow,
                "detail": update_estimate(u),
            })
        }),
        failure: failure_json(d),
    }
}

#[derive(Serialize)]
struct ReportView<'a> {
    verdict: Verdict,
    gating: bool,
    min_kbps: u32,
    max_bytes: u64,
    directions: Vec<DirectionView>,
    notes: &'a [String],
}

/// The report's `throughput` object.
impl Serialize for ThroughputReport {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ReportView {
            verdict: self.verdict,
            gating: self.gating,
            min_kbps: self.min_kbps,
            max_bytes: self.max_bytes,
            directions: self.directions.iter().map(view).collect(),
            notes: &self.notes,
        }
        .serialize(ser)
    }
}

// ---- the long poll ----

/// `{kind, …}` when the long poll did not survive.
pub fn long_poll_failure_json(lp: &LongPollReport) -> Option<Value> {
    Some(match &lp.observed.outcome {
        LongPollOutcome::Answered { .. } => return None,
        LongPollOutcome::Cut { after, how } => json!({
            "kind": "cut",
            "after_ms": ms(*after),
            "how": match how { Cut::Closed => "closed", Cut::Reset => "reset", Cut::Broken(_) => "broken", Cut::Silent { .. } => "silent" },
        }),
        LongPollOutcome::Unanswered { held, .. } => {
            json!({"kind": "unanswered", "held_ms": ms(*held)})
        }
        LongPollOutcome::NotStarted(f) => json!({
            "kind": "not_started",
            "cause": match f {
                LongPollFailure::Proxy(_) => "proxy",
                LongPollFailure::NoAddress { .. } => "no_address",
                LongPollFailure::Tcp { .. } => "tcp",
                LongPollFailure::Tls { .. } => "tls",
                LongPollFailure::FirstRequest { .. } => "first_request",
            },
        }),
    })
}

#[derive(Serialize)]
struct LongPollView<'a> {
    host: &'a str,
    route: Route,
    hold_seconds: u64,
    first_request: bool,
    survived: bool,
    detail: String,
    failure: Option<Value>,
}

/// The report's `network.long_poll` object.
impl Serialize for LongPollReport {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        LongPollView {
            host: &self.host,
            route: self.route,
            hold_seconds: self.hold_seconds,
            first_request: self.observed.primed,
            survived: self.survived,
            detail: long_poll_detail(self),
            failure: long_poll_failure_json(self),
        }
        .serialize(ser)
    }
}

#[cfg(test)]
mod tests {
    use crate::probe::lookup::LookupFailure;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::env::proxy::ProxyUrl;
    use crate::probe::long_poll::LongPoll;
    use crate::probe::throughput::DirectionSample;
    use crate::report::throughput::{judge, judge_direction, Direction, Measurement};

    fn sample(direction: Direction, rate: Option<f64>) -> DirectionSample {
        DirectionSample {
            direction,
            url: "http://x.example/f".into(),
            bytes: 5,
            sample: Duration::from_millis(1500),
            elapsed: Duration::from_millis(2500),
            ttfb: Some(Duration::from_millis(12)),
            via_proxy: None,
            stopped: Some(StopReason::Certain),
            rate,
            failure: None,
        }
    }

    fn failed(direction: Direction, f: ThroughputFailure) -> DirectionResult {
        judge_direction(
            DirectionSample {
                failure: Some(f),
                stopped: None,
                ttfb: None,
                bytes: 0,
                ..sample(direction, None)
            },
            70,
        )
    }

    fn proxy() -> ProxyUrl {
        ProxyUrl::parse("http://bob:pw@proxy.example:3128").unwrap()
    }

    #[test]
    fn judged_rates() {
        let d = |dir, rate| detail(&judge_direction(sample(dir, Some(rate)), 70));
        assert_eq!(
            d(Direction::Upload, 100.4),
            "upload 100 kbit/s ≥ 70 kbit/s floor"
        );
        assert_eq!(
            d(Direction::Download, 60.0),
            "download 60 kbit/s is below the 70 kbit/s floor GitHub requires"
        );
        assert_eq!(
            d(Direction::Download, 80.0),
            "download 80 kbit/s ≥ 70 kbit/s floor; at 80 kbit/s a 2 MB action archive takes 200 s, longer than the runner's 100 s HTTP timeout: downloads of larger actions will fail"
        );
        // Below the floor the archive warning is its own field, not in the detail.
        let slow = judge_direction(sample(Direction::Download, Some(60.0)), 70);
        assert_eq!(
            archive_warning(&slow).as_deref(),
            Some("at 60 kbit/s a 2 MB action archive takes 267 s, longer than the runner's 100 s HTTP timeout: downloads of larger actions will fail")
        );
        let through = judge_direction(
            DirectionSample {
                via_proxy: Some(proxy()),
                ..sample(Direction::Upload, Some(500.0))
            },
            70,
        );
        assert_eq!(
            detail(&through),
            "upload 500 kbit/s ≥ 70 kbit/s floor; measured up to the proxy only: a proxy can buffer megabytes, so the uplink behind it is not confirmed"
        );
        assert_eq!(
            detail(&judge_direction(sample(Direction::Download, None), 70)),
            "download: all 5 bytes arrived at once (faster than can be timed; above the floor)"
        );
    }

    #[test]
    fn stopped_words() {
        for (r, w) in [
            (StopReason::Certain, "verdict certain"),
            (StopReason::ByteBound, "byte limit"),
            (StopReason::TimeBound, "time limit"),
            (StopReason::TransferEnded, "transfer ended"),
            (StopReason::ConnectionClosed, "connection closed"),
        ] {
            let d = judge_direction(
                DirectionSample {
                    stopped: Some(r),
                    ..sample(Direction::Upload, Some(100.0))
                },
                70,
            );
            assert_eq!(stopped(&d), w);
        }
        let nx = failed(
            Direction::Download,
            ThroughputFailure::NoResponse(Duration::from_secs(5)),
        );
        assert_eq!(stopped(&nx), "error");
        let none = judge(
            Measurement {
                download: None,
                upload: None,
            },
            70,
            1,
            true,
            None,
        );
        assert_eq!(stopped(&none.directions[0]), "not measured");
    }

    #[test]
    fn not_measured_and_failures() {
        let none = judge(
            Measurement {
                download: None,
                upload: None,
            },
            70,
            1,
            true,
            None,
        );
        assert_eq!(
            detail(&none.directions[0]),
            "download not measured: the profile names no download source; pass --throughput-url URL"
        );
        assert_eq!(
            detail(&none.directions[1]),
            "upload not measured: the profile names no upload sink that takes data without a token (a figure would be made up); pass --upload-url URL of an endpoint that accepts a POST"
        );
        let d = |dir, f| detail(&failed(dir, f));
        assert_eq!(
            d(Direction::Download, ThroughputFailure::SourceStatus { status: 404 }),
            "download not measured: the download source answered 404 (the network path works, but there is nothing to measure; pass --throughput-url)"
        );
        assert_eq!(
            d(
                Direction::Download,
                ThroughputFailure::ProxyRefused {
                    status: 403,
                    proxy: proxy()
                }
            ),
            "download not measured: 403 through the proxy http://bob:***@proxy.example:3128: the proxy refuses or cannot reach the download source"
        );
        assert_eq!(
            d(
                Direction::Download,
                ThroughputFailure::Stalled {
                    bytes: 100,
                    waited: Duration::from_secs(1),
                    stopped: StopReason::TimeBound
                }
            ),
            "download stalled: 100 bytes, then nothing for 1 s (time limit)"
        );
        assert_eq!(
            d(
                Direction::Download,
                ThroughputFailure::TooFewBytes {
                    bytes: 2000,
                    needed: 16384
                }
            ),
            "download: the source sent only 2000 bytes, too few to measure a rate (at least 16384 are needed; pass --throughput-url with a larger file)"
        );
        assert_eq!(
            d(
                Direction::Upload,
                ThroughputFailure::UploadRejected {
                    after: 0,
                    error: Arc::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
                    answer: Some("HTTP/1.1 413 Payload Too Large".into()),
                }
            ),
            "upload not measured: the server stopped taking the upload after 0 bytes (broken pipe); it answered `HTTP/1.1 413 Payload Too Large`"
        );
        assert_eq!(
            d(
                Direction::Upload,
                ThroughputFailure::Connect {
                    addr: "127.0.0.1:9".parse().unwrap(),
                    error: ConnectError::TimedOut(Duration::from_millis(2500)),
                }
            ),
            "upload not measured: TCP 127.0.0.1:9: no answer within 2.5 s"
        );
        assert_eq!(
            d(
                Direction::Download,
                ThroughputFailure::Address(AddressError::NoneToConnect {
                    host: "dl.example".into(),
                    port: 80,
                    connect_to: Some(crate::probe::outcome::Redirected {
                        host: Some("other.example".into()),
                        port: 80,
                    }),
                })
            ),
            "download not measured: no address to connect to for dl.example:80 (--connect-to other.example:80)"
        );
        assert_eq!(
            d(
                Direction::Download,
                ThroughputFailure::Address(AddressError::Lookup(LookupFailure {
                    host: "dl.example".into(),
                    why: LookupWhy::Timeout {
                        after: Duration::from_secs(5),
                    },
                }))
            ),
            "download not measured: DNS: no answer for dl.example within 5 s"
        );
        assert_eq!(
            d(
                Direction::Download,
                ThroughputFailure::TooManyRedirects { max: 3 }
            ),
            "download not measured: more than 3 redirects"
        );
    }

    /// Every typed lookup failure has its sentence (one wording, in `render::words`).
    #[test]
    fn lookup_words() {
        let of = |why| {
            lookup_failure(&LookupFailure {
                host: "h.example".into(),
                why,
            })
        };
        assert_eq!(
            of(LookupWhy::Dns {
                failure: DnsFailure::NoServers
            }),
            "DNS: no name server configured (empty /etc/resolv.conf?); use --dns-server"
        );
        assert_eq!(of(LookupWhy::NoAddress), "DNS: no address for h.example");
        assert_eq!(
            of(LookupWhy::System {
                gai: crate::model::GaiError {
                    error: crate::model::ResolverError::NoName,
                    code: Some(-2),
                    errno: None,
                }
            }),
            "DNS: cannot resolve h.example: the name does not exist or has no address (getaddrinfo: EAI_NONAME)"
        );
        assert_eq!(
            of(LookupWhy::Timeout {
                after: Duration::from_millis(1500)
            }),
            "DNS: no answer for h.example within 1.5 s"
        );
    }

    #[test]
    fn json_keeps_every_field_and_adds_failure() {
        let tp = judge(
            Measurement {
                download: Some(sample(Direction::Download, Some(500.0))),
                upload: Some(DirectionSample {
                    failure: Some(ThroughputFailure::SourceStatus { status: 404 }),
                    ..sample(Direction::Upload, None)
                }),
            },
            70,
            2048,
            true,
            Some("a note".into()),
        );
        let v = serde_json::to_value(&tp).unwrap();
        let keys = |o: &Value| -> Vec<String> {
            o.as_object().unwrap().keys().cloned().collect::<Vec<_>>()
        };
        let mut top = keys(&v);
        top.sort();
        assert_eq!(
            top,
            [
                "directions",
                "gating",
                "max_bytes",
                "min_kbps",
                "notes",
                "verdict"
            ]
        );
        let mut dir = keys(&v["directions"][0]);
        dir.sort();
        assert_eq!(
            dir,
            [
                "archive_warning",
                "bytes",
                "detail",
                "direction",
                "elapsed_ms",
                "failure",
                "kbps",
                "sample_ms",
                "stopped",
                "ttfb_ms",
                "url",
                "verdict",
                "via_proxy"
            ]
        );
        let down = &v["directions"][0];
        assert_eq!(down["direction"], "download");
        assert_eq!(down["verdict"], "pass");
        assert_eq!(down["kbps"], 500.0);
        assert_eq!(down["sample_ms"], 1500);
        assert_eq!(down["elapsed_ms"], 2500);
        assert_eq!(down["ttfb_ms"], 12);
        assert_eq!(down["stopped"], "verdict certain");
        assert!(down["failure"].is_null());
        let up = &v["directions"][1];
        assert_eq!(up["verdict"], "warn");
        assert_eq!(up["failure"]["kind"], "http_status");
        assert_eq!(up["failure"]["status"], 404);
        assert!(up["kbps"].is_null());
        assert_eq!(v["notes"][0], "a note");
        assert_eq!(v["verdict"], "warn");
        // Not measured: the same fields, zero and null, and a failure saying what is missing.
        let none = judge(
            Measurement {
                download: None,
                upload: None,
            },
            70,
            1,
            true,
            None,
        );
        let v = serde_json::to_value(&none).unwrap();
        let up = &v["directions"][1];
        assert!(up["url"].is_null() && up["via_proxy"].is_null() && up["ttfb_ms"].is_null());
        assert_eq!(
            (up["bytes"].as_u64(), up["sample_ms"].as_u64()),
            (Some(0), Some(0))
        );
        assert_eq!(up["failure"]["kind"], "not_measured");
        assert_eq!(up["failure"]["missing"], "sink");
        // Below the floor is a failure with its numbers.
        let slow = judge_direction(sample(Direction::Upload, Some(33.33)), 70);
        assert_eq!(
            failure_json(&slow),
            Some(json!({"kind": "below_floor", "kbps": 33.3, "min_kbps": 70.0}))
        );
        // The proxy is shown masked.
        let through = judge_direction(
            DirectionSample {
                via_proxy: Some(proxy()),
                ..sample(Direction::Upload, Some(500.0))
            },
            70,
        );
        assert_eq!(
            view(&through).via_proxy.as_deref(),
            Some("http://bob:***@proxy.example:3128")
        );
    }

    fn long_poll(proxy: Option<ProxyUrl>, outcome: LongPollOutcome) -> LongPollReport {
        LongPollReport::judge(LongPoll {
            host: "broker.example".into(),
            route: if proxy.is_some() {
                Route::Proxy
            } else {
                Route::Direct
            },
            proxy,
            hold: Duration::from_secs(4),
            primed: false,
            outcome,
        })
    }

    #[test]
    fn long_poll_words() {
        let cut = long_poll(
            Some(proxy()),
            LongPollOutcome::Cut {
                after: Duration::from_millis(1004),
                how: Cut::Closed,
            },
        );
        assert!(!cut.survived);
        assert_eq!(
            long_poll_detail(&cut),
            "the idle HTTPS connection to broker.example through proxy http://bob:***@proxy.example:3128 was closed after 1.0 s of the 4.0 s hold (by a middlebox or the server); the runner's long poll keeps a connection idle for 50 s"
        );
        let reset = long_poll(
            None,
            LongPollOutcome::Cut {
                after: Duration::from_secs(2),
                how: Cut::Reset,
            },
        );
        assert!(long_poll_detail(&reset).contains(" was reset after 2.0 s of the 4.0 s hold"));
        let ok = long_poll(
            None,
            LongPollOutcome::Answered {
                held: Duration::from_secs(4),
                path: "/".into(),
                status: 200,
            },
        );
        assert!(ok.survived);
        assert_eq!(
            long_poll_detail(&ok),
            "an idle HTTPS connection to broker.example survived 4.0 s and still answered (GET / → 200)"
        );
        let silent = long_poll(
            None,
            LongPollOutcome::Unanswered {
                held: Duration::from_secs(4),
                path: "/".into(),
                failure: Some(crate::probe::http::HttpFailure::Timeout {
                    after: Duration::from_secs(5),
                }),
            },
        );
        assert!(!silent.survived);
        assert_eq!(
            long_poll_detail(&silent),
            "the idle HTTPS connection to broker.example stayed open 4.0 s but no longer answers (no complete HTTP response to GET / within 5 s (the server is silent, or sends too slowly)): a middlebox dropped it silently"
        );
        let never = long_poll(
            None,
            LongPollOutcome::NotStarted(LongPollFailure::NoAddress {
                host: "broker.example".into(),
            }),
        );
        assert!(!never.survived);
        assert_eq!(
            long_poll_detail(&never),
            "long poll not tested: broker.example has no address to connect to"
        );
        assert_eq!(
            long_poll_fix("broker.example"),
            "let idle HTTPS connections to broker.example live at least 60 s in the proxy or firewall (the runner's long poll lasts 50 s)"
        );
    }

    #[test]
    fn idle_cut_words() {
        let silent = long_poll(
            None,
            LongPollOutcome::Cut {
                after: Duration::from_millis(4010),
                how: Cut::Silent {
                    timeout: Duration::from_secs(2),
                },
            },
        );
        assert_eq!(
            long_poll_detail(&silent),
            "the idle HTTPS connection to broker.example was dropped silently: after 4.0 s idle it stayed open, but a request reusing it got no answer within 2.0 s (a NAT or proxy forgot the flow without closing it); the runner's long poll keeps a connection idle for 50 s"
        );
        let j = long_poll_failure_json(&silent).unwrap();
        assert_eq!(j["how"], "silent");
        assert_eq!(j["after_ms"], 4010);
        let ka = crate::env::net::Keepalive {
            time_s: 7200,
            intvl_s: 75,
            probes: 9,
        };
        assert_eq!(
            super::super::words::keepalive_detail("broker.example", Duration::from_secs(350), &ka),
            "the idle connection to broker.example was cut after 350.0 s, but this machine sends its first TCP keepalive only after 7200 s idle (net.ipv4.tcp_keepalive_time; then every 75 s, 9 probes): keepalives cannot keep such connections alive"
        );
        let fix = super::super::words::keepalive_fix(Duration::from_secs(120));
        assert!(
            fix.contains("sysctl -w net.ipv4.tcp_keepalive_time=80,"),
            "{fix}"
        );
        assert!(fix.contains("AWS NAT gateway: 350 s"), "{fix}");
    }

    #[test]
    fn long_poll_json() {
        let cut = long_poll(
            Some(proxy()),
            LongPollOutcome::Cut {
                after: Duration::from_millis(1004),
                how: Cut::Reset,
            },
        );
        let v = serde_json::to_value(&cut).unwrap();
        assert_eq!(v["host"], "broker.example");
        assert_eq!(v["route"], "proxy");
        assert_eq!(v["hold_seconds"], 4);
        assert_eq!(v["survived"], false);
        assert_eq!(v["detail"], long_poll_detail(&cut));
        assert_eq!(
            v["failure"],
            json!({"kind": "cut", "after_ms": 1004, "how": "reset"})
        );
        let f = crate::report::findings::Finding {
            severity: crate::report::findings::Severity::Warn,
            topic: crate::report::findings::Topic::LongPoll,
            kind: crate::report::findings::FindingKind::LongPoll {
                report: Box::new(cut.clone()),
            },
            hosts: vec![],
        };
        assert_eq!(
            super::super::words::finding_message(&f),
            long_poll_detail(&cut)
        );
        assert!(super::super::words::finding_fix(&f)
            .unwrap()
            .starts_with("let idle HTTPS"));
    }
}
