//! The words for throughput and the long poll, written once from the typed values, and their
//! JSON form. Table, markdown, JUnit, annotations and JSON all take them from here.
//!
//! JSON (`schema_version: 1`): each direction keeps `direction, url, verdict, kbps, bytes,
//! sample_ms, elapsed_ms, via_proxy, ttfb_ms, stopped, detail, archive_warning` and adds
//! `failure` (`null`, or `{kind, …typed fields}` on a failed or unmeasured direction); the long
//! poll keeps `host, route, hold_seconds, survived, detail` and adds `failure` the same way.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use crate::model::{Family, Route, Verdict};
use crate::network::{Cut, LongPollFailure, LongPollOutcome, LongPollReport, Text};
use crate::probe::dns::{fmt_duration, DnsFailure};
use crate::probe::long_poll::HOLD;
use crate::probe::throughput::{AddressError, ConnectError};
use crate::probe::LookupError;
use crate::report::throughput::{
    DirectionResult, Judgment, Missing, StopReason, ThroughputFailure, ThroughputReport,
    RUNNER_HTTP_TIMEOUT_S,
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
            "at {:.0} kbit/s a 2 MB action archive takes {:.0} s, longer than the runner's {RUNNER_HTTP_TIMEOUT_S:.0} s HTTP timeout: downloads of larger actions will fail",
            a.rate, a.seconds
        )
    })
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
        ThroughputFailure::Socket(e) => e.to_string(),
        ThroughputFailure::Connect { addr, error } => match error {
            ConnectError::Io(e) => format!("TCP {addr}: {e}"),
            ConnectError::TimedOut(d) => {
                format!("TCP {addr}: no answer within {}", fmt_duration(*d))
            }
        },
        ThroughputFailure::Proxy(t) => t.detail.clone(),
        ThroughputFailure::Tls { reason } => reason.clone(),
        ThroughputFailure::NoResponse(d) => format!("no response within {}", fmt_duration(*d)),
        ThroughputFailure::Request(e) => format!("request failed: {e}"),
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
    }
}

/// Why no address was found, in plain words.
pub fn address_cause(e: &AddressError) -> String {
    match e {
        AddressError::Lookup(l) => lookup_cause(l),
        AddressError::NoneToConnect {
            host,
            port,
            connect_to,
        } => format!(
            "no address to connect to for {host}:{port}{}",
            connect_to
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
    }
}

/// A failed address lookup, in plain words.
pub fn lookup_cause(e: &LookupError) -> String {
    match e {
        LookupError::Dns { host, failure } => failure.cause(host),
        LookupError::NoAddress { host } => format!("DNS: no address for {host}"),
        LookupError::System { host, source } => format!("DNS: cannot resolve {host}: {source}"),
        LookupError::SystemTimeout { host, after } => {
            format!("DNS: no answer for {host} within {}", fmt_duration(*after))
        }
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
        ThroughputFailure::Address(AddressError::Lookup(l)) => match l {
            LookupError::Dns { host, failure } => json!({
                "kind": "address_lookup", "host": host, "resolver": "dns", "dns": dns_kind(failure),
            }),
            LookupError::NoAddress { host } => json!({
                "kind": "address_lookup", "host": host, "resolver": "dns", "dns": "no_addresses",
            }),
            LookupError::System { host, source } => json!({
                "kind": "address_lookup", "host": host, "resolver": "system",
                "error": source.to_string(),
            }),
            LookupError::SystemTimeout { host, after } => json!({
                "kind": "address_lookup", "host": host, "resolver": "system",
                "timeout_ms": ms(*after),
            }),
        },
        ThroughputFailure::Address(AddressError::NoneToConnect {
            host,
            port,
            connect_to,
        }) => json!({
            "kind": "no_address", "host": host, "port": port, "connect_to": connect_to,
        }),
        ThroughputFailure::NoAddress { host } => json!({"kind": "no_address", "host": host}),
        ThroughputFailure::Socket(e) => json!({"kind": "socket", "error": e.to_string()}),
        ThroughputFailure::Connect { addr, error } => match error {
            ConnectError::TimedOut(d) => json!({
                "kind": "tcp", "address": addr.to_string(), "timeout_ms": ms(*d),
            }),
            ConnectError::Io(e) => json!({
                "kind": "tcp", "address": addr.to_string(), "error": e.to_string(),
            }),
        },
        ThroughputFailure::Proxy(t) => json!({
            "kind": "proxy", "proxy_address": t.proxy_addr.map(|a| a.to_string()),
        }),
        ThroughputFailure::Tls { .. } => json!({"kind": "tls"}),
        ThroughputFailure::NoResponse(d) => json!({"kind": "no_response", "timeout_ms": ms(*d)}),
        ThroughputFailure::Request(e) => json!({"kind": "request", "error": e.to_string()}),
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

fn secs(d: std::time::Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// What happened to the idle connection, in plain words.
pub fn long_poll_detail(lp: &LongPollReport) -> String {
    let o = &lp.observed;
    let host = &o.host;
    let via = o
        .proxy
        .as_ref()
        .map(|p| format!(" through proxy {p}"))
        .unwrap_or_default();
    match &o.outcome {
        LongPollOutcome::NotStarted(f) => format!("long poll not tested: {}", long_poll_cause(f)),
        LongPollOutcome::Cut { after, how } => format!(
            "the idle HTTPS connection to {host}{via} was {} after {} of the {} hold (by a middlebox or the server); the runner's long poll keeps a connection idle for {} s",
            match how {
                Cut::Closed => "closed".to_string(),
                Cut::Reset => "reset".to_string(),
                Cut::Broken(e) => format!("broken ({e})"),
            },
            secs(*after),
            secs(o.hold),
            HOLD.as_secs()
        ),
        LongPollOutcome::Answered { held, path, status } => format!(
            "an idle HTTPS connection to {host}{via} survived {} and still answered (GET {path} → {status})",
            secs(*held)
        ),
        LongPollOutcome::Unanswered { held, reason, .. } => format!(
            "the idle HTTPS connection to {host}{via} stayed open {} but no longer answers ({reason}): a middlebox dropped it silently",
            secs(*held)
        ),
    }
}

/// Why the long poll could not start, in plain words.
pub fn long_poll_cause(f: &LongPollFailure) -> String {
    match f {
        LongPollFailure::Proxy(t) => t.detail.clone(),
        LongPollFailure::NoAddress { host } => format!("{host} has no address to connect to"),
        LongPollFailure::Tcp { port, failure } => failure.describe(*port, Family::Ipv4),
        LongPollFailure::Tls { reason } => reason.clone(),
    }
}

/// What to do about a cut long poll.
pub fn long_poll_fix(host: &str) -> String {
    format!(
        "let idle HTTPS connections to {host} live at least 60 s in the proxy or firewall (the runner's long poll lasts 50 s)"
    )
}

/// `{kind, …}` when the long poll did not survive.
pub fn long_poll_failure_json(lp: &LongPollReport) -> Option<Value> {
    Some(match &lp.observed.outcome {
        LongPollOutcome::Answered { .. } => return None,
        LongPollOutcome::Cut { after, how } => json!({
            "kind": "cut",
            "after_ms": ms(*after),
            "how": match how { Cut::Closed => "closed", Cut::Reset => "reset", Cut::Broken(_) => "broken" },
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
            },
        }),
    })
}

#[derive(Serialize)]
struct LongPollView<'a> {
    host: &'a str,
    route: Route,
    hold_seconds: u64,
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
            survived: self.survived,
            detail: long_poll_detail(self),
            failure: long_poll_failure_json(self),
        }
        .serialize(ser)
    }
}

/// A finding's words.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Text::Written(s) => f.write_str(s),
            Text::LongPoll(lp) => f.write_str(&long_poll_detail(lp)),
            Text::LongPollFix { host } => f.write_str(&long_poll_fix(host)),
        }
    }
}

/// A finding's words, as a JSON string.
impl Serialize for Text {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_str(self)
    }
}
