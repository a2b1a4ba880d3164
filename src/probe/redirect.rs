//! Redirect probes: request a URL and follow where it leads, as a download would (a runner
//! update: `github.com/…/releases/download/…` answers `302` to the release-asset host).
//!
//! Every hop's host goes through the same path as any probed name — DNS (CNAME chain), TCP on
//! each family, TLS against the runner's trust, then the hop's own request (GET with
//! `Range: bytes=0-0`, or HEAD) with the host's fingerprint header when the profile gives it
//! one. What each hop answered (status, `Location`, size) is observed here; `report::redirect`
//! judges the chain.
//!
//! Signed download URLs carry short-lived tokens in their query (`sig=`, `jwt=`): observations
//! keep only the path, with the query replaced by `?…`. The full URL is used for the requests
//! only.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::outcome::{HttpInfo, TargetOutcome};
use super::Shared;
use crate::model::runner::RELEASES;
use crate::model::{parse_url, HttpSpec, HttpUrl, Method, RunnerPlatform, RunnerVersion, UrlError};
use crate::plan::{Endpoint, PlannedRedirect, Proto, Target, MAX_REDIRECT_HOPS};

/// One request of the chain and what its host gave.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    /// The URL requested (query hidden).
    pub url: String,
    pub host: String,
    /// Everything observed about the host for this request (DNS, TCP, TLS, the HTTP answer).
    pub outcome: TargetOutcome,
}

impl Hop {
    /// The HTTP answer of this hop (the first address family that got one).
    pub fn answer(&self) -> Option<&HttpInfo> {
        self.outcome
            .checks
            .iter()
            .filter_map(|c| c.http())
            .find(|h| h.status.is_some())
    }

    pub fn status(&self) -> Option<u16> {
        self.answer().and_then(|h| h.status)
    }
}

/// Why following stopped at the last hop although it answered a redirect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RedirectStop {
    /// A 3xx without `Location`.
    NoLocation { status: u16 },
    /// A `Location` that is not a URL the runner could follow (query hidden).
    BadLocation {
        location: String,
        #[serde(skip)]
        error: UrlError,
    },
    /// From https to plain http: .NET's HttpClient (the runner) does not follow such a
    /// redirect.
    Downgrade { location: String },
    /// The chain went on after this many requests.
    TooManyHops { limit: usize },
}

/// A followed chain.
#[derive(Debug, Clone, Serialize)]
pub struct RedirectObservation {
    /// The URL the chain starts from (query hidden).
    pub url: String,
    pub hops: Vec<Hop>,
    pub stop: Option<RedirectStop>,
    /// For `runner_release: latest`: how the latest release was looked up, and what it gave.
    pub release: Option<ReleaseLookup>,
}

/// The latest runner release, asked of `github.com/actions/runner/releases/latest` with
/// redirects off: it answers `302` to `…/releases/tag/vX.Y.Z`.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseLookup {
    /// The URL asked.
    pub url: String,
    /// The platform whose package was wanted.
    pub platform: RunnerPlatform,
    /// The request to github.com (DNS, TCP, TLS, its answer).
    pub hop: Hop,
    /// The latest version, when the answer named one.
    pub version: Option<RunnerVersion>,
    /// The package's URL for the platform, when there is one: the chain starts there.
    pub asset_url: Option<String>,
    /// Why the chain starts from the profile's pinned URL instead.
    pub failure: Option<LatestFailure>,
}

/// Why the latest runner release's package could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LatestFailure {
    /// github.com gave no answer (its DNS, connection, TLS or request failed: the lookup's
    /// observation says which).
    NoAnswer,
    /// The answer was not a redirect to a release tag (a filtering proxy's page, a changed site).
    NotATag {
        status: u16,
        /// The `Location`, if any (query hidden).
        location: Option<String>,
    },
    /// The runner publishes no package for this OS and architecture.
    NoPackage { os: String, arch: String },
}

/// Ask `releases/latest` (one request, redirects not followed) and choose the package.
async fn latest(
    shared: &Arc<Shared>,
    r: &PlannedRedirect,
    deadline: tokio::time::Instant,
) -> ReleaseLookup {
    let url = format!("{RELEASES}/latest");
    let platform = shared.cfg.runner_platform.clone();
    let parsed = parse_url(&url).expect("the releases URL is a valid constant");
    let target = Target {
        host: parsed.host.clone(),
        endpoints: vec![Endpoint {
            port: parsed.port,
            proto: Proto::Https,
            http: Some(HttpSpec {
                method: Method::Get,
                path: parsed.path.clone(),
                expect_header: r.fingerprints.get(&parsed.host).cloned(),
                first_byte: false,
                timeout_secs: None,
            }),
        }],
    };
    let started = std::time::Instant::now();
    let outcome =
        match tokio::time::timeout_at(deadline, super::probe_target(shared, &target)).await {
            Ok(o) => o,
            Err(_) => super::unfinished(&target, &shared.cfg, started),
        };
    let answer = outcome
        .checks
        .iter()
        .filter_map(|c| c.http())
        .find(|h| h.status.is_some())
        .cloned();
    // The request's path and any Location are stored masked by the probe itself.
    let hop = Hop {
        url: url.clone(),
        host: parsed.host.clone(),
        outcome,
    };
    let mut lookup = ReleaseLookup {
        url,
        platform,
        hop,
        version: None,
        asset_url: None,
        failure: None,
    };
    let Some(answer) = answer else {
        lookup.failure = Some(LatestFailure::NoAnswer);
        return lookup;
    };
    let status = answer.status.unwrap_or(0);
    let version = (300..400)
        .contains(&status)
        .then_some(answer.location.as_deref())
        .flatten()
        .and_then(RunnerVersion::from_tag_location);
    let Some(version) = version else {
        lookup.failure = Some(LatestFailure::NotATag {
            status,
            location: answer.location.as_deref().map(hide_query),
        });
        return lookup;
    };
    lookup.version = Some(version);
    match lookup.platform.asset_url(version) {
        Some(u) => lookup.asset_url = Some(u),
        None => {
            lookup.failure = Some(LatestFailure::NoPackage {
                os: lookup.platform.os_name.clone(),
                arch: lookup.platform.arch_name.clone(),
            })
        }
    }
    lookup
}

/// `/path?query` → `/path?…` (a signed URL's query holds tokens).
pub fn hide_query(path: &str) -> String {
    crate::model::secret::hide_query(path)
}

fn shown(u: &HttpUrl) -> String {
    HttpUrl {
        path: hide_query(&u.path),
        ..u.clone()
    }
    .to_string()
}

/// Where a `Location` points, resolved against the URL that gave it (RFC 9110 §10.2.2:
/// absolute, scheme-relative, absolute-path or relative-path references).
pub fn resolve_location(base: &HttpUrl, location: &str) -> Result<HttpUrl, UrlError> {
    let loc = location.trim();
    if loc.contains("://") {
        return parse_url(loc);
    }
    let scheme = if base.tls { "https" } else { "http" };
    if let Some(rest) = loc.strip_prefix("//") {
        return parse_url(&format!("{scheme}://{rest}"));
    }
    let path = if loc.starts_with('/') {
        loc.to_string()
    } else {
        let dir = base
            .path
            .split('?')
            .next()
            .and_then(|p| p.rsplit_once('/'))
            .map_or("", |(d, _)| d);
        format!("{dir}/{loc}")
    };
    parse_url(
        &HttpUrl {
            path,
            ..base.clone()
        }
        .to_string(),
    )
}

/// Follow every planned redirect (each once), at most `cfg.max_time` in all, with `shared`'s
/// DNS answers (a hop to a probed name asks no question the probe has asked).
pub(super) async fn follow_shared(
    shared: Arc<Shared>,
    redirects: Vec<PlannedRedirect>,
) -> HashMap<PlannedRedirect, RedirectObservation> {
    let deadline = tokio::time::Instant::now() + shared.cfg.max_time;
    if !redirects.iter().any(|r| r.latest_runner) {
        shared.latest.send_replace(Some(None));
    }
    let mut set = tokio::task::JoinSet::new();
    for r in redirects {
        let shared = shared.clone();
        set.spawn(async move {
            let obs = follow(&shared, &r, deadline).await;
            (r, obs)
        });
    }
    let mut out = HashMap::new();
    while let Some(j) = set.join_next().await {
        if let Ok((r, obs)) = j {
            out.insert(r, obs);
        }
    }
    // Whoever waits for the latest release waits no longer than the chains.
    shared.latest.send_if_modified(|v| {
        let unset = v.is_none();
        if unset {
            *v = Some(None);
        }
        unset
    });
    out
}

fn hop_target(r: &PlannedRedirect, u: &HttpUrl) -> Target {
    Target {
        host: u.host.clone(),
        endpoints: vec![Endpoint {
            port: u.port,
            proto: if u.tls { Proto::Https } else { Proto::Http },
            http: Some(HttpSpec {
                method: r.method,
                path: u.path.clone(),
                expect_header: r.fingerprints.get(&u.host).cloned(),
                first_byte: r.method == Method::Get,
                timeout_secs: None,
            }),
        }],
    }
}

/// Connections opened ahead for the hosts a chain is expected to reach, by host; the ones no
/// hop took are dropped with the chain.
struct Ahead(HashMap<String, tokio::task::JoinHandle<super::Opened>>);

impl Drop for Ahead {
    fn drop(&mut self) {
        for task in self.0.values() {
            task.abort();
        }
    }
}

/// Open (DNS, TCP, TLS; no request) each host the profile says the chain reaches, other than
/// its first, while the hops before it wait for their answers: the hop there then costs its
/// request only. The runner opens that connection after the redirect; what is observed of it
/// (DNS, each family's connect and handshake) is the same.
fn open_ahead(shared: &Arc<Shared>, r: &PlannedRedirect, first: &HttpUrl) -> Ahead {
    let mut tasks = HashMap::new();
    for host in &r.expect {
        if *host == first.host || tasks.contains_key(host) {
            continue;
        }
        tasks.insert(host.clone(), open_one_ahead(shared, host));
    }
    Ahead(tasks)
}

/// Open `host` on 443 (DNS, TCP, TLS; no request) in a task of its own.
fn open_one_ahead(shared: &Arc<Shared>, host: &str) -> tokio::task::JoinHandle<super::Opened> {
    let shared = shared.clone();
    let h = host.to_string();
    let endpoints = [Endpoint {
        port: 443,
        proto: Proto::Https,
        http: None,
    }];
    tokio::spawn(async move { super::open_target(&shared, &h, &endpoints).await })
}

async fn follow(
    shared: &Arc<Shared>,
    r: &PlannedRedirect,
    deadline: tokio::time::Instant,
) -> RedirectObservation {
    // The package URL is on github.com, like the lookup: its connection is opened beside the
    // lookup, so the download's first request goes out as soon as the version is known instead
    // of after a second handshake (issue 25).
    let package_host = parse_url(RELEASES).map(|u| u.host).ok();
    let lookup_ahead = match (r.latest_runner, &package_host) {
        (true, Some(h)) => Some((h.clone(), open_one_ahead(shared, h))),
        _ => None,
    };
    let release = match r.latest_runner {
        true => {
            let l = latest(shared, r, deadline).await;
            let version = l.version;
            shared.latest.send_if_modified(|v| {
                let first = v.is_none();
                if first {
                    *v = Some(version);
                }
                first
            });
            Some(l)
        }
        false => None,
    };
    // The latest release's package when it could be chosen, else the profile's pinned URL.
    let start = release
        .as_ref()
        .and_then(|l| l.asset_url.clone())
        .unwrap_or_else(|| r.url.clone());
    let mut obs = RedirectObservation {
        url: parse_url(&start)
            .map(|u| shown(&u))
            .unwrap_or_else(|_| crate::model::mask_url(&start)),
        hops: Vec::new(),
        stop: None,
        release,
    };
    let Ok(mut url) = parse_url(&start) else {
        // The plan checked the URL; nothing to follow otherwise.
        return obs;
    };
    let mut ahead = open_ahead(shared, r, &url);
    if let Some((host, task)) = lookup_ahead {
        match host == url.host && url.tls && url.port == 443 {
            true => {
                ahead.0.insert(host, task);
            }
            false => task.abort(),
        }
    }
    for _ in 0..MAX_REDIRECT_HOPS {
        let target = hop_target(r, &url);
        let started = std::time::Instant::now();
        let opened = (url.tls && url.port == 443)
            .then(|| ahead.0.remove(&url.host))
            .flatten();
        let hop = async {
            match opened {
                Some(task) => match task.await {
                    Ok(o) => super::finish_target(shared, o, &target).await,
                    // The task opening ahead panicked (it should not): probe afresh.
                    Err(_) => super::probe_target(shared, &target).await,
                },
                None => super::probe_target(shared, &target).await,
            }
        };
        let outcome = match tokio::time::timeout_at(deadline, hop).await {
            Ok(o) => o,
            Err(_) => super::unfinished(&target, &shared.cfg, started),
        };
        // The raw Location (full query) to follow; observations keep it hidden.
        let location = outcome
            .checks
            .iter()
            .filter_map(|c| c.http())
            .find(|h| h.status.is_some())
            .and_then(|h| h.follow.clone().map(|l| (h.status, l)));
        let status = outcome
            .checks
            .iter()
            .filter_map(|c| c.http())
            .find_map(|h| h.status);
        obs.hops.push(Hop {
            url: shown(&url),
            host: url.host.clone(),
            outcome,
        });
        let Some(status) = status else {
            return obs;
        };
        if !(300..400).contains(&status) || status == 304 {
            return obs;
        }
        let Some((_, loc)) = location else {
            obs.stop = Some(RedirectStop::NoLocation { status });
            return obs;
        };
        let next = match resolve_location(&url, &loc) {
            Ok(n) => n,
            Err(error) => {
                obs.stop = Some(RedirectStop::BadLocation {
                    location: crate::model::mask_url(&loc),
                    error,
                });
                return obs;
            }
        };
        if url.tls && !next.tls {
            obs.stop = Some(RedirectStop::Downgrade {
                location: shown(&next),
            });
            return obs;
        }
        url = next;
    }
    obs.stop = Some(RedirectStop::TooManyHops {
        limit: MAX_REDIRECT_HOPS,
    });
    obs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HttpUrl {
        parse_url("https://github.com/actions/runner/releases/download/v1/x.tar.gz?a=1").unwrap()
    }

    #[test]
    fn locations_resolve_against_the_url_that_gave_them() {
        let abs = resolve_location(
            &base(),
            "https://release-assets.githubusercontent.com/a/b?sig=x",
        )
        .unwrap();
        assert_eq!(abs.host, "release-assets.githubusercontent.com");
        assert_eq!(abs.path, "/a/b?sig=x");
        let scheme_rel = resolve_location(&base(), "//objects.example/z").unwrap();
        assert!(scheme_rel.tls);
        assert_eq!(scheme_rel.host, "objects.example");
        let abs_path = resolve_location(&base(), "/other").unwrap();
        assert_eq!(
            (abs_path.host.as_str(), abs_path.path.as_str()),
            ("github.com", "/other")
        );
        let rel = resolve_location(&base(), "y.tar.gz").unwrap();
        assert_eq!(rel.path, "/actions/runner/releases/download/v1/y.tar.gz");
        assert!(resolve_location(&base(), "ftp://x.example/").is_err());
    }

    #[test]
    fn queries_are_hidden() {
        assert_eq!(hide_query("/a/b?sig=secret&jwt=eyJ"), "/a/b?…");
        assert_eq!(hide_query("/a/b"), "/a/b");
        assert_eq!(
            shown(&base()),
            "https://github.com/actions/runner/releases/download/v1/x.tar.gz?…"
        );
    }
}
