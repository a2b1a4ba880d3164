//! Proxy settings exactly as the runner reads them (actions/runner `RunnerWebProxy`, ADR 0263).
//!
//! - `https_proxy` then `HTTPS_PROXY`, `http_proxy` then `HTTP_PROXY`, `no_proxy` then `NO_PROXY`:
//!   the lowercase name wins when non-empty. Values are trimmed; no scheme → `http://` prepended.
//! - HTTPS uses only the https proxy (no fallback to http_proxy).
//! - `user:pass@` in the URL becomes Basic credentials; they are never printed ([`ProxyUrl`]'s
//!   `Display` and `Debug` mask the password, [`mask`] does the same for raw strings).
//! - `<runner root>/.env` (plain `KEY=VALUE` lines) overrides the inherited environment.
//! - no_proxy: see [`NoProxy`].

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Serialize;

use crate::model::secret::{percent_decode, shown_userinfo, split_userinfo};

/// A password: its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A proxy URL as the runner uses it. `Display`/`Debug`/`Serialize` show it masked.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub scheme: String,
    /// Host without brackets.
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    /// `Some` when a literal `:` follows the user name (the password may be empty).
    password: Option<Secret>,
}

impl ProxyUrl {
    /// Parse a proxy value the way the runner does (already trimmed, scheme already ensured).
    /// Errors never contain the password.
    pub fn parse(value: &str) -> Result<ProxyUrl, String> {
        let masked = mask(value);
        let (scheme, rest) = value
            .split_once("://")
            .ok_or_else(|| format!("`{masked}` is not a URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        if let Some(at) = rest.rfind('@') {
            if rest[..at].contains(['/', '?', '#']) {
                return Err(format!(
                    "`{masked}`: the user information holds `/`, `?` or `#`; percent-encode them (%2F, %3F, %23)"
                ));
            }
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(r) = hostport.strip_prefix('[') {
            let (h, after) = r
                .split_once(']')
                .ok_or_else(|| format!("`{masked}`: unclosed `[` in the host"))?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(format!("`{masked}` names no host"));
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || "<>\"{}|\\^`%".contains(c))
            && host.parse::<IpAddr>().is_err()
        {
            return Err(format!("`{masked}`: `{host}` is not a host name"));
        }
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            "socks4" | "socks4a" | "socks5" | "socks5h" => 1080,
            _ => 0,
        };
        let port = match port {
            None | Some("") => default_port,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("`{masked}`: `{p}` is not a port number"))?,
        };
        if port == 0 {
            return Err(format!("`{masked}`: unknown scheme `{scheme}` and no port"));
        }
        let (user, password) = match userinfo.map(split_userinfo) {
            None => (None, None),
            Some((user, password)) => {
                let user = percent_decode(user);
                let password = password.map(percent_decode);
                match (user.is_empty(), password) {
                    // `http://@host` or `http://:@host`: nothing to send.
                    (true, None) => (None, None),
                    (true, Some(p)) if p.is_empty() => (None, None),
                    (true, Some(p)) => (None, Some(Secret(p))),
                    (false, p) => (Some(user), p.map(Secret)),
                }
            }
        };
        Ok(ProxyUrl {
            scheme,
            host,
            port,
            user,
            password,
        })
    }

    pub fn has_credentials(&self) -> bool {
        self.user.is_some() || self.password.is_some()
    }

    /// `Proxy-Authorization` value, when the URL carries credentials.
    pub fn basic_auth(&self) -> Option<String> {
        if !self.has_credentials() {
            return None;
        }
        let raw = format!(
            "{}:{}",
            self.user.as_deref().unwrap_or(""),
            self.password.as_ref().map(|s| s.0.as_str()).unwrap_or("")
        );
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }

    /// `host:port` (IPv6 in brackets).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if self.has_credentials() {
            let user = self.user.as_deref().unwrap_or("");
            let password = self.password.as_ref().map(|p| p.0.as_str());
            write!(f, "{}@", shown_userinfo(user, password))?;
        }
        f.write_str(&self.authority())
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

impl Serialize for ProxyUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// From the (masked) text a report holds: saved reports and scenario files are read back with
/// the credentials they never contained.
impl<'de> serde::Deserialize<'de> for ProxyUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ProxyUrl, D::Error> {
        let s = String::deserialize(d)?;
        ProxyUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A raw string that may hold a proxy URL, shown with its password masked.
#[derive(Clone, PartialEq, Eq)]
pub struct Masked(String);

impl Masked {
    pub fn new(raw: &str) -> Masked {
        Masked(raw.to_string())
    }
}

impl fmt::Display for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask(&self.0))
    }
}

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", mask(&self.0))
    }
}

impl Serialize for Masked {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A raw string that may hold a URL, as the tool shows it: the one rule of
/// [`crate::model::secret`] (user information masked, query hidden).
pub fn mask(raw: &str) -> String {
    crate::model::secret::mask_proxy_url(raw)
}

// ---------------------------------------------------------------------------
// The effective environment: inherited, overridden by the runner's .env
// ---------------------------------------------------------------------------

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Environment,
    /// The runner's `.env` file.
    EnvFile,
    /// A command-line flag.
    Flag,
}

/// The environment the runner will see: the inherited one, with `<runner dir>/.env` on top.
/// Its `Debug` lists names only (values may hold proxy credentials).
#[derive(Clone, Default)]
pub struct RunnerEnv {
    vars: HashMap<String, (String, Origin)>,
    pub env_file: Option<PathBuf>,
    pub notes: Vec<String>,
}

impl fmt::Debug for RunnerEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("RunnerEnv")
            .field("names", &names)
            .field("env_file", &self.env_file)
            .finish()
    }
}

/// The runner directory given cannot be used (the command layer names the flag).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerDirError {
    #[error("{}: not a directory", dir.display())]
    NotADirectory { dir: PathBuf },
    #[error("{0}")]
    Unreadable(#[from] crate::textfile::ReadError),
}

/// A proxy URL given on the command line that the runner could not use.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BadProxy {
    pub message: String,
}

impl RunnerEnv {
    /// The process environment, then `dir/.env` when `runner_dir` is given.
    pub fn load(runner_dir: Option<&Path>) -> Result<RunnerEnv, RunnerDirError> {
        let mut env = RunnerEnv::default();
        for (k, v) in std::env::vars_os() {
            if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
                env.vars.insert(k, (v, Origin::Environment));
            }
        }
        if let Some(dir) = runner_dir {
            if !dir.is_dir() {
                return Err(RunnerDirError::NotADirectory {
                    dir: dir.to_path_buf(),
                });
            }
            let file = dir.join(".env");
            let limit = crate::textfile::limit::RUNNER_FILE;
            match crate::textfile::read_text(&file, limit, "a runner .env file") {
                Ok(text) => {
                    env.apply_env_file(crate::textfile::strip_bom(&text), &file);
                    env.env_file = Some(file);
                }
                Err(crate::textfile::ReadError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    env.notes.push(format!(
                        "{} does not exist: the runner service uses the inherited environment only",
                        file.display()
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(env)
    }

    /// Apply `.env` text: `KEY=VALUE` per line, no quoting, no comments (as the runner reads it).
    pub fn apply_env_file(&mut self, text: &str, file: &Path) {
        for (n, line) in text.lines().enumerate() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let k = k.trim();
            if k.is_empty() {
                continue;
            }
            if (v.trim().starts_with('"') || v.trim().starts_with('\'')) && PROXY_VARS.contains(&k)
            {
                self.notes.push(format!(
                    "{}:{}: {k} is quoted; the runner does not remove quotes from .env values",
                    file.display(),
                    n + 1
                ));
            }
            self.vars
                .insert(k.to_string(), (v.to_string(), Origin::EnvFile));
        }
    }

    /// A value and its origin.
    pub fn get(&self, name: &str) -> Option<(&str, &Origin)> {
        self.vars.get(name).map(|(v, o)| (v.as_str(), o))
    }

    pub fn set(&mut self, name: &str, value: &str, origin: Origin) {
        self.vars
            .insert(name.to_string(), (value.to_string(), origin));
    }

    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// The runner's rule: the lowercase name when non-empty, else the uppercase one.
    fn pick(&self, lower: &'static str, upper: &'static str) -> Option<Picked> {
        for name in [lower, upper] {
            if let Some((v, o)) = self.get(name) {
                if !v.is_empty() {
                    return Some(Picked {
                        name,
                        value: v.to_string(),
                        origin: o.clone(),
                    });
                }
            }
        }
        None
    }
}

const PROXY_VARS: &[&str] = &[
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "no_proxy",
    "NO_PROXY",
];

struct Picked {
    name: &'static str,
    value: String,
    origin: Origin,
}

// ---------------------------------------------------------------------------
// no_proxy
// ---------------------------------------------------------------------------

/// One no_proxy entry as the runner keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bypass {
    host: String,
    port: Option<String>,
}

/// The runner's no_proxy list: comma separated, trimmed, duplicates dropped; `HOST[:PORT]`.
/// `.x` matches subdomains of x only; `x` matches x and its subdomains; `*` alone matches
/// everything; IPv4 entries are dropped; anything else (CIDRs, `*.x`) is compared literally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<Bypass>,
    all: bool,
    /// Entries the runner ignores or never matches, in words.
    pub warnings: Vec<String>,
}

fn is_ipv4_literal(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|v| v <= 255)
        })
}

impl NoProxy {
    pub fn parse(list: &str) -> NoProxy {
        let mut np = NoProxy::default();
        let mut seen: Vec<String> = Vec::new();
        for raw in list.split(',') {
            let entry = raw.trim();
            if entry.is_empty() || seen.iter().any(|s| s.eq_ignore_ascii_case(entry)) {
                continue;
            }
            seen.push(entry.to_string());
            if entry == "*" {
                np.all = true;
                continue;
            }
            let mut parts = entry.splitn(2, ':').filter(|p| !p.is_empty());
            let Some(host) = parts.next() else { continue };
            let port = parts.next().map(str::to_string);
            if is_ipv4_literal(host) {
                np.warnings.push(format!(
                    "no_proxy entry `{entry}`: the runner ignores IP addresses in no_proxy (list host names)"
                ));
                continue;
            }
            if host.contains('/') {
                np.warnings.push(format!(
                    "no_proxy entry `{entry}`: CIDR ranges never match in the runner (list host names)"
                ));
            } else if let Some(rest) = host.strip_prefix("*.") {
                np.warnings.push(format!(
                    "no_proxy entry `{entry}`: `*.` patterns are compared literally and never match in the runner; write `.{rest}` (subdomains) or `{rest}` (it and its subdomains)"
                ));
            } else if host.contains('*') {
                np.warnings.push(format!(
                    "no_proxy entry `{entry}`: wildcards other than a lone `*` never match in the runner"
                ));
            }
            if let Some(p) = &port {
                if p.parse::<u16>().is_err() {
                    np.warnings.push(format!(
                        "no_proxy entry `{entry}`: `{p}` is not a port, so the entry never matches"
                    ));
                }
            }
            np.entries.push(Bypass {
                host: host.to_string(),
                port,
            });
        }
        np
    }

    /// Does the runner bypass the proxy for `host:port`? (Loopback is handled by [`is_loopback`].)
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let host = host.to_ascii_lowercase();
        self.entries.iter().any(|b| {
            let port_ok = b.port.as_deref().is_none_or(|p| p == port.to_string());
            let h = b.host.to_ascii_lowercase();
            let host_ok = if h.starts_with('.') {
                host.ends_with(&h)
            } else {
                host == h || host.ends_with(&format!(".{h}"))
            };
            host_ok && port_ok
        })
    }

    pub fn is_empty(&self) -> bool {
        !self.all && self.entries.is_empty()
    }
}

/// The runner always goes direct to loopback (`Uri.IsLoopback`).
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

/// One proxy in effect, with where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct ProxySetting {
    pub url: ProxyUrl,
    /// The variable (or flag) it came from, e.g. `https_proxy`.
    pub from: String,
    pub origin: Origin,
}

/// What the report says about the proxy configuration (credentials masked).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProxySettings {
    pub https: Option<ProxySetting>,
    pub http: Option<ProxySetting>,
    /// The no_proxy value in effect (as given).
    pub no_proxy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_proxy_from: Option<String>,
    #[serde(skip)]
    pub bypass: NoProxy,
    /// Things the runner does differently from what the configuration suggests.
    pub warnings: Vec<String>,
}

impl ProxySettings {
    /// Settings from the runner's environment, overridden by `--proxy` / `--no-proxy`.
    /// `Err` only for an invalid `--proxy` (a usage error); invalid variables are warnings,
    /// because the runner then silently connects directly.
    pub fn resolve(
        env: &RunnerEnv,
        flag_proxy: Option<&str>,
        flag_no_proxy: Option<&str>,
    ) -> Result<ProxySettings, BadProxy> {
        let mut s = ProxySettings::default();
        match flag_proxy.map(str::trim) {
            Some("") => {}
            Some(v) => {
                let value = if v.contains("://") {
                    v.to_string()
                } else {
                    format!("http://{v}")
                };
                let bad = |message| BadProxy { message };
                let url = ProxyUrl::parse(&value).map_err(bad)?;
                check_scheme(&url).map_err(bad)?;
                for slot in [&mut s.https, &mut s.http] {
                    *slot = Some(ProxySetting {
                        url: url.clone(),
                        from: "--proxy".into(),
                        origin: Origin::Flag,
                    });
                }
            }
            None => {
                s.https = s.read_var(env, "https_proxy", "HTTPS_PROXY");
                s.http = s.read_var(env, "http_proxy", "HTTP_PROXY");
                if s.https.is_none() {
                    if let Some(h) = &s.http {
                        s.warnings.push(format!(
                            "{} is set but https_proxy is not: the runner sends HTTPS (all GitHub traffic) directly, it does not fall back to {}",
                            h.from, h.from
                        ));
                    }
                }
            }
        }
        let (list, from) = match flag_no_proxy {
            Some(v) => (Some(v.to_string()), Some("--no-proxy".to_string())),
            None => match env.pick("no_proxy", "NO_PROXY") {
                Some(p) => (Some(p.value), Some(describe_origin(p.name, &p.origin))),
                None => (None, None),
            },
        };
        if let Some(list) = &list {
            s.bypass = NoProxy::parse(list);
            // An entry is outside text: escaped in the warning that names it.
            s.warnings.extend(
                s.bypass
                    .warnings
                    .iter()
                    .map(|w| crate::model::text::clipped(w)),
            );
        }
        s.no_proxy = list
            .filter(|l| !l.trim().is_empty())
            .map(|l| crate::model::text::printable(&l));
        s.no_proxy_from = from;
        Ok(s)
    }

    fn read_var(
        &mut self,
        env: &RunnerEnv,
        lower: &'static str,
        upper: &'static str,
    ) -> Option<ProxySetting> {
        let picked = env.pick(lower, upper)?;
        let from = describe_origin(picked.name, &picked.origin);
        if picked.name == upper {
            if let Some((v, _)) = env.get(lower) {
                if v.is_empty() {
                    self.warnings
                        .push(format!("{lower} is set but empty: the runner uses {upper}"));
                }
            }
        } else if let Some((v, _)) = env.get(upper) {
            if !v.trim().is_empty() && v.trim() != picked.value.trim() {
                self.warnings.push(format!(
                    "{lower} and {upper} differ: the runner uses {lower} ({}), not {upper} ({})",
                    Masked::new(picked.value.trim()),
                    Masked::new(v.trim())
                ));
            }
        }
        let trimmed = picked.value.trim();
        if trimmed.is_empty() {
            return None;
        }
        let value = if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            self.warnings.push(format!(
                "{from} `{}` has no scheme: the runner prepends http:// (older runners ignored such a value, actions/runner#961); write http://{}",
                Masked::new(trimmed),
                Masked::new(trimmed)
            ));
            format!("http://{trimmed}")
        };
        match ProxyUrl::parse(&value).and_then(|u| check_scheme(&u).map(|_| u)) {
            Ok(url) => Some(ProxySetting {
                url,
                from,
                origin: picked.origin,
            }),
            Err(e) => {
                self.warnings.push(format!(
                    "{from}: {e}; the runner ignores it and connects directly"
                ));
                None
            }
        }
    }

    /// The proxy the runner uses for `host:port` (`https` selects https_proxy), if any.
    pub fn route(&self, host: &str, port: u16, https: bool) -> Option<&ProxySetting> {
        let p = if https { &self.https } else { &self.http };
        let p = p.as_ref()?;
        if is_loopback(host) || self.bypass.matches(host, port) {
            return None;
        }
        Some(p)
    }

    pub fn any(&self) -> bool {
        self.https.is_some() || self.http.is_some()
    }
}

fn check_scheme(url: &ProxyUrl) -> Result<(), String> {
    match url.scheme.as_str() {
        "http" => Ok(()),
        other => Err(format!(
            "`{url}`: {other}:// proxies are not supported by this check (the runner's proxies are http://)"
        )),
    }
}

fn describe_origin(name: &str, origin: &Origin) -> String {
    match origin {
        Origin::EnvFile => format!("{name} (runner .env)"),
        Origin::Environment => name.to_string(),
        Origin::Flag => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> RunnerEnv {
        let mut e = RunnerEnv::default();
        for (k, v) in pairs {
            e.set(k, v, Origin::Environment);
        }
        e
    }

    #[test]
    fn no_proxy_rules_table() {
        // (no_proxy, host, port, bypassed?)
        let cases: &[(&str, &str, u16, bool)] = &[
            // `.x`: subdomains only
            (".example.com", "a.example.com", 443, true),
            (".example.com", "a.b.example.com", 443, true),
            (".example.com", "example.com", 443, false),
            (".example.com", "badexample.com", 443, false),
            // `x`: itself and subdomains
            ("example.com", "example.com", 443, true),
            ("example.com", "api.example.com", 443, true),
            ("example.com", "notexample.com", 443, false),
            ("example.com", "example.com.evil.net", 443, false),
            // case-insensitive
            ("Example.COM", "API.example.com", 443, true),
            // `*` alone: everything
            ("*", "github.com", 443, true),
            ("foo.org, *", "github.com", 80, true),
            // `:port` must match when given
            ("example.com:8443", "example.com", 8443, true),
            ("example.com:8443", "example.com", 443, false),
            (".example.com:443", "a.example.com", 443, true),
            (".example.com:443", "a.example.com", 80, false),
            // IPv4 entries are dropped
            ("127.0.0.1", "127.0.0.1", 443, false),
            ("10.1.2.3", "10.1.2.3", 443, false),
            // CIDRs never match
            ("10.0.0.0/8", "10.1.2.3", 443, false),
            // `*.x` is literal and never matches
            ("*.example.com", "a.example.com", 443, false),
            ("*.example.com", "example.com", 443, false),
            // whitespace and empty entries
            (
                "  github.com , ,api.example.com ",
                "api.example.com",
                443,
                true,
            ),
            ("  github.com , ,api.example.com ", "github.com", 443, true),
            ("", "github.com", 443, false),
        ];
        for (list, host, port, want) in cases {
            let np = NoProxy::parse(list);
            assert_eq!(
                np.matches(host, *port),
                *want,
                "no_proxy={list:?} host={host} port={port}"
            );
        }
    }

    #[test]
    fn no_proxy_warns_about_entries_the_runner_ignores() {
        let np = NoProxy::parse("10.0.0.1,10.0.0.0/8,*.corp.example,good.example");
        assert_eq!(np.warnings.len(), 3, "{:?}", np.warnings);
        assert!(np.warnings[0].contains("ignores IP addresses"));
        assert!(np.warnings[1].contains("CIDR"));
        assert!(np.warnings[2].contains("write `.corp.example`"));
    }

    #[test]
    fn loopback_is_always_bypassed() {
        let s =
            ProxySettings::resolve(&env(&[("https_proxy", "http://p:3128")]), None, None).unwrap();
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.5.6.7",
            "::1",
            "[::1]",
        ] {
            assert!(s.route(h, 443, true).is_none(), "{h}");
        }
        assert!(s.route("github.com", 443, true).is_some());
    }

    #[test]
    fn lowercase_wins_when_non_empty() {
        let s = ProxySettings::resolve(
            &env(&[
                ("https_proxy", "http://lower:1"),
                ("HTTPS_PROXY", "http://upper:2"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.https.as_ref().unwrap().url.host, "lower");
        assert!(s.warnings.iter().any(|w| w.contains("differ")));
        let s = ProxySettings::resolve(
            &env(&[("https_proxy", ""), ("HTTPS_PROXY", "http://upper:2")]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.https.as_ref().unwrap().url.host, "upper");
        let s = ProxySettings::resolve(
            &env(&[("no_proxy", ""), ("NO_PROXY", "example.com")]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.no_proxy.as_deref(), Some("example.com"));
    }

    #[test]
    fn no_fallback_from_https_to_http_proxy() {
        let s =
            ProxySettings::resolve(&env(&[("http_proxy", "http://p:3128")]), None, None).unwrap();
        assert!(s.route("github.com", 443, true).is_none());
        assert!(s.route("github.com", 80, false).is_some());
        assert!(s.warnings.iter().any(|w| w.contains("does not fall back")));
    }

    #[test]
    fn no_scheme_gets_http_and_a_warning_trimmed() {
        let s =
            ProxySettings::resolve(&env(&[("https_proxy", "  proxy.corp:3128 \n")]), None, None)
                .unwrap();
        let p = s.https.unwrap();
        assert_eq!(p.url.scheme, "http");
        assert_eq!(p.url.authority(), "proxy.corp:3128");
        assert!(s.warnings.iter().any(|w| w.contains("no scheme")));
    }

    #[test]
    fn credentials_are_used_but_never_shown() {
        let u = ProxyUrl::parse("http://al%40ice:s3cr%3At@proxy:8080").unwrap();
        assert_eq!(u.user.as_deref(), Some("al@ice"));
        assert_eq!(u.to_string(), "http://al@ice:***@proxy:8080");
        assert!(!format!("{u:?}").contains("s3cr"));
        assert!(!serde_json::to_string(&u).unwrap().contains("s3cr"));
        let expect = base64::engine::general_purpose::STANDARD.encode("al@ice:s3cr:t");
        assert_eq!(u.basic_auth().unwrap(), format!("Basic {expect}"));
        assert_eq!(mask("http://bob:hunter2@p:1/x"), "http://bob:***@p:1/x");
        assert_eq!(mask("bob:hunter2@p:1"), "bob:***@p:1");
        assert!(!Masked::new("http://u:pw@h").to_string().contains("pw"));
        let err = ProxyUrl::parse("http://u:topsecret@host:notaport").unwrap_err();
        assert!(!err.contains("topsecret"), "{err}");
        for raw in [
            "http://u:top/secret@host:1",
            "http://u:top?sec#ret@host:1/x",
        ] {
            let err = ProxyUrl::parse(raw).unwrap_err();
            assert!(
                !err.contains("top") && err.contains("percent-encode"),
                "{err}"
            );
        }
        assert!(
            mask("http://u:top/secret@host:1").starts_with("http://u:***@host:1"),
            "{}",
            mask("http://u:top/secret@host:1")
        );
        // A raw `?` or `#` before the last `@` may as well start a query holding an address
        // (`?email=a@b`): everything after the scheme is hidden, the password with it.
        assert_eq!(mask("http://u:top?sec#ret@host:1/x"), "http://…");
        let mut e = RunnerEnv::default();
        e.set("https_proxy", "http://u:topsecret@h:1", Origin::Environment);
        assert!(!format!("{e:?}").contains("topsecret"));
        // A percent-encoded `:` and a lone token are masked whole.
        assert_eq!(mask("http://user%3Asecret@p:1"), "http://***@p:1");
        assert_eq!(mask("http://ghp_token123@p:1"), "http://***@p:1");
        let t = ProxyUrl::parse("http://ghp_token123@proxy:3128").unwrap();
        assert_eq!(t.to_string(), "http://***@proxy:3128");
    }

    #[test]
    fn flag_overrides_environment() {
        let e = env(&[("https_proxy", "http://env:1"), ("no_proxy", "a.example")]);
        let s = ProxySettings::resolve(&e, Some("http://flag:2"), Some("b.example")).unwrap();
        assert_eq!(s.https.as_ref().unwrap().url.host, "flag");
        assert_eq!(s.http.as_ref().unwrap().url.host, "flag");
        assert!(s.route("x.b.example", 443, true).is_none());
        assert!(s.route("x.a.example", 443, true).is_some());
        let s = ProxySettings::resolve(&e, Some(""), None).unwrap();
        assert!(s.https.is_none());
        assert!(ProxySettings::resolve(&e, Some("socks5://x:1"), None).is_err());
    }

    #[test]
    fn env_file_overrides_environment_without_quoting() {
        let mut e = env(&[("https_proxy", "http://env:1")]);
        e.apply_env_file(
            "https_proxy=http://file:2\n# comment=kept as a key\nNODE_EXTRA_CA_CERTS=/etc/corp.pem\nno_proxy=\"quoted.example\"\n",
            Path::new("/runner/.env"),
        );
        let s = ProxySettings::resolve(&e, None, None).unwrap();
        let p = s.https.unwrap();
        assert_eq!(p.url.host, "file");
        assert_eq!(p.origin, Origin::EnvFile);
        assert_eq!(e.get("NODE_EXTRA_CA_CERTS").unwrap().0, "/etc/corp.pem");
        assert_eq!(s.no_proxy.as_deref(), Some("\"quoted.example\""));
        assert!(e.notes.iter().any(|n| n.contains("quoted")));
    }

    #[test]
    fn invalid_variable_is_a_warning_not_an_error() {
        let s = ProxySettings::resolve(
            &env(&[("https_proxy", "http://u:pw@host:99999")]),
            None,
            None,
        )
        .unwrap();
        assert!(s.https.is_none());
        assert!(s.warnings.iter().any(|w| w.contains("connects directly")));
        assert!(s.warnings.iter().all(|w| !w.contains(":pw@")));
    }

    /// Every way a proxy URL is shown: Display, Debug, Serialize of [`ProxyUrl`], and
    /// [`Masked`] / [`mask`] of the raw string.
    fn all_shown(raw: &str) -> Vec<String> {
        let u = ProxyUrl::parse(raw).unwrap();
        vec![
            u.to_string(),
            format!("{u:?}"),
            serde_json::to_string(&u).unwrap(),
            mask(raw),
            Masked::new(raw).to_string(),
            format!("{:?}", Masked::new(raw)),
            serde_json::to_string(&Masked::new(raw)).unwrap(),
        ]
    }

    #[test]
    fn percent_encoded_colon_is_part_of_the_user_and_masked_whole() {
        let raw = "http://ghp_SECRET%3Apart2@127.0.0.1:3";
        let u = ProxyUrl::parse(raw).unwrap();
        assert_eq!(u.user.as_deref(), Some("ghp_SECRET:part2"));
        assert!(u.password.is_none());
        assert_eq!(u.to_string(), "http://***@127.0.0.1:3");
        assert_eq!(mask(raw), "http://***@127.0.0.1:3");
        for shown in all_shown(raw) {
            assert!(
                !shown.contains("ghp_") && !shown.contains("part2"),
                "{shown}"
            );
        }
        // The runner sends the decoded user with an empty password, as curl does.
        let expect = base64::engine::general_purpose::STANDARD.encode("ghp_SECRET:part2:");
        assert_eq!(u.basic_auth().unwrap(), format!("Basic {expect}"));
        // Through https_proxy as well.
        let s = ProxySettings::resolve(&env(&[("https_proxy", raw)]), None, None).unwrap();
        assert_eq!(s.https.unwrap().url.to_string(), "http://***@127.0.0.1:3");
        let s = ProxySettings::resolve(
            &env(&[("https_proxy", "ghp_SECRET%3Apart2@p:3")]),
            None,
            None,
        )
        .unwrap();
        assert!(
            s.warnings.iter().all(|w| !w.contains("ghp_")),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn masking_table() {
        // (raw, shown, Proxy-Authorization credentials)
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("http://tok%40en@p:1", "http://***@p:1", Some("tok@en:")),
            ("http://tok%25en@p:1", "http://***@p:1", Some("tok%en:")),
            ("http://ghp_token@p:1", "http://***@p:1", Some("ghp_token:")),
            (
                "http://bob:hunter2@p:1",
                "http://bob:***@p:1",
                Some("bob:hunter2"),
            ),
            // An empty password is the token convention `TOKEN:@` (issue 22 row 5a): the
            // user part is masked whole.
            ("http://bob:@p:1", "http://***@p:1", Some("bob:")),
            (
                "http://bob:pa%3Ass@p:1",
                "http://bob:***@p:1",
                Some("bob:pa:ss"),
            ),
            ("http://bob:a:b@p:1", "http://bob:***@p:1", Some("bob:a:b")),
            ("http://:hunter2@p:1", "http://:***@p:1", Some(":hunter2")),
            (
                "http://al%40ice:pw@p:1",
                "http://al@ice:***@p:1",
                Some("al@ice:pw"),
            ),
            ("http://p:1", "http://p:1", None),
        ];
        for (raw, shown, creds) in cases {
            let u = ProxyUrl::parse(raw).unwrap();
            assert_eq!(u.to_string(), *shown, "{raw}");
            assert_eq!(mask(raw), *shown, "mask {raw}");
            let want = creds.map(|c| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(c)
                )
            });
            assert_eq!(u.basic_auth(), want, "{raw}");
            for s in all_shown(raw) {
                assert!(
                    !s.contains("hunter2") && !s.contains("tok") && !s.contains("ghp"),
                    "{s}"
                );
            }
        }
        // A control character in a shown user name is escaped.
        assert_eq!(mask("http://a%0Ab:pw@p:1"), "http://a\\nb:***@p:1");
    }

    #[test]
    fn a_url_without_port_gets_its_schemes_default() {
        for (raw, port) in [
            ("http://p", 80),
            ("http://p:", 80),
            ("https://p", 443),
            ("HTTPS://p/", 443),
            ("socks4://p", 1080),
            ("socks4a://p", 1080),
            ("socks5://p", 1080),
            ("socks5h://p", 1080),
            ("ftp://p:21", 21),
        ] {
            assert_eq!(ProxyUrl::parse(raw).unwrap().port, port, "{raw}");
        }
        for raw in ["ftp://p", "http://p:0", "http://p:65536", "http://p:x"] {
            assert!(ProxyUrl::parse(raw).is_err(), "{raw}");
        }
        let err = ProxyUrl::parse("gopher://p").unwrap_err();
        assert!(err.contains("unknown scheme `gopher`"), "{err}");
    }

    #[test]
    fn port_zero_is_refused_as_not_a_port_number() {
        let err = ProxyUrl::parse("http://p:0").unwrap_err();
        assert!(err.contains("`0` is not a port number"), "{err}");
    }

    #[test]
    fn hosts_are_checked_and_ipv6_is_bracketed() {
        let u = ProxyUrl::parse("http://[::1]:3128").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.authority(), "[::1]:3128");
        assert_eq!(u.to_string(), "http://[::1]:3128");
        assert_eq!(format!("{u:?}"), "ProxyUrl(http://[::1]:3128)");
        assert_eq!(ProxyUrl::parse("http://[::1]").unwrap().port, 80);
        assert!(ProxyUrl::parse("http://[::1:3128").is_err());
        for raw in [
            "http://a%20b:1",
            "http://a b:1",
            "http://:1",
            "http://u:pw@:1",
            "p:1",
        ] {
            assert!(ProxyUrl::parse(raw).is_err(), "{raw}");
        }
        assert!(ProxyUrl::parse("http://u/x@p:1").is_err());
        assert!(!ProxyUrl::parse("http://p:1").unwrap().has_credentials());
    }

    #[test]
    fn secrets_and_masked_text_are_shown_as_stars_never_blank() {
        let s = Secret("hunter2".into());
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        let m = Masked::new("http://bob:hunter2@p:1");
        assert_eq!(m.to_string(), "http://bob:***@p:1");
        assert_eq!(format!("{m:?}"), "\"http://bob:***@p:1\"");
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"http://bob:***@p:1\"");
        assert_eq!(Masked::new("plain").to_string(), "plain");
    }

    #[test]
    fn a_user_part_with_percent_signs_is_masked_whole() {
        // Invalid or truncated escapes stay as they are and are still hidden.
        for raw in [
            "http://tok%zzen@p:1",
            "http://tok%4@p:1",
            "http://tok%@p:1",
            "http://%41tok@p:1",
        ] {
            assert_eq!(mask(raw), "http://***@p:1", "{raw}");
            assert_eq!(ProxyUrl::parse(raw).unwrap().to_string(), "http://***@p:1");
        }
        assert_eq!(percent_decode("a%41"), "aA");
        assert_eq!(percent_decode("a%4"), "a%4");
        assert_eq!(percent_decode("%zz%41%"), "%zzA%");
        assert_eq!(mask("http://b%41b:pw%41@p:1"), "http://bAb:***@p:1");
        assert_eq!(mask("no-at-sign"), "no-at-sign");
    }

    #[test]
    fn a_user_only_url_keeps_its_proxy_authorization() {
        let u = ProxyUrl::parse("http://ghp_token@p:1").unwrap();
        assert!(u.has_credentials());
        let b64 = base64::engine::general_purpose::STANDARD.encode("ghp_token:");
        assert_eq!(
            u.basic_auth().as_deref(),
            Some(format!("Basic {b64}").as_str())
        );
        // A password alone is still sent; `@` and `:@` alone send nothing.
        let p = ProxyUrl::parse("http://:pw@p:1").unwrap();
        assert!(p.user.is_none() && p.has_credentials());
        for raw in ["http://@p:1", "http://:@p:1"] {
            let u = ProxyUrl::parse(raw).unwrap();
            assert!(!u.has_credentials(), "{raw}");
            assert_eq!(u.basic_auth(), None, "{raw}");
        }
    }

    #[test]
    fn ipv4_literals_are_told_from_names() {
        for ip in ["1.2.3.4", "0.0.0.0", "255.255.255.255", "10.200.3.40"] {
            assert!(is_ipv4_literal(ip), "{ip}");
        }
        for s in [
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.2.3.4",
            "1..3.4",
            "a.b.c.d",
            "1234.1.1.1",
        ] {
            assert!(!is_ipv4_literal(s), "{s}");
        }
    }

    #[test]
    fn no_proxy_odd_entries() {
        let np = NoProxy::parse(" , ");
        assert!(np.is_empty());
        assert!(!np.matches("github.com", 443));
        assert!(!NoProxy::parse("*").is_empty());
        assert!(!NoProxy::parse("a.example").is_empty());
        let np = NoProxy::parse("a.example:http,:8080,A.EXAMPLE:HTTP,b.ex*ample");
        assert_eq!(np.entries.len(), 3, "{np:?}"); // the duplicate is dropped
        assert!(np
            .warnings
            .iter()
            .any(|w| w.contains("`http` is not a port")));
        assert!(np
            .warnings
            .iter()
            .any(|w| w.contains("wildcards other than")));
        assert!(!np.matches("a.example", 80));
        let np = NoProxy::parse("10.0.0.0/8,*.x.example");
        assert!(np.warnings.iter().any(|w| w.contains("CIDR")));
        assert!(np.warnings.iter().any(|w| w.contains("write `.x.example`")));
        assert!(!NoProxy::parse("a.example").matches("xa.example", 443));
    }

    #[test]
    fn loopback_names() {
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.9.9.9",
            "[::1]",
            "::1",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["localhost.example", "10.0.0.1", "[::2]", "github.com"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn runner_dir_with_without_and_with_an_unreadable_env_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = RunnerEnv::load(Some(dir.path())).unwrap();
        assert!(e.env_file.is_none());
        assert!(
            e.notes.iter().any(|n| n.contains(".env does not exist")),
            "{:?}",
            e.notes
        );
        std::fs::write(
            dir.path().join(".env"),
            "\u{feff}https_proxy=http://file:1\n=x\nnot a pair\n",
        )
        .unwrap();
        let e = RunnerEnv::load(Some(dir.path())).unwrap();
        assert_eq!(
            e.env_file.as_deref(),
            Some(dir.path().join(".env").as_path())
        );
        assert_eq!(
            e.get("https_proxy"),
            Some(("http://file:1", &Origin::EnvFile))
        );
        assert!(e.get("").is_none());
        assert!(e.notes.is_empty(), "{:?}", e.notes);
        let s = ProxySettings::resolve(&e, None, None).unwrap();
        assert_eq!(s.https.unwrap().from, "https_proxy (runner .env)");
        // Unreadable: `.env` is a directory.
        let bad = tempfile::tempdir().unwrap();
        std::fs::create_dir(bad.path().join(".env")).unwrap();
        assert!(matches!(
            RunnerEnv::load(Some(bad.path())),
            Err(RunnerDirError::Unreadable(_))
        ));
        let file = dir.path().join(".env");
        assert!(matches!(
            RunnerEnv::load(Some(&file)),
            Err(RunnerDirError::NotADirectory { .. })
        ));
        // The inherited environment is there too.
        let e = RunnerEnv::load(None).unwrap();
        assert!(e.env_file.is_none() && e.notes.is_empty());
        if let Ok(path) = std::env::var("PATH") {
            assert_eq!(e.get("PATH").map(|(v, _)| v), Some(path.as_str()));
        }
    }

    #[test]
    fn runner_env_debug_lists_names_not_values() {
        let mut e = env(&[("https_proxy", "http://u:hunter2@p:1"), ("A", "1")]);
        let d = format!("{e:?}");
        assert!(
            d.contains("\"A\", \"https_proxy\"") && !d.contains("hunter2"),
            "{d}"
        );
        e.remove("A");
        assert!(e.get("A").is_none());
    }

    #[test]
    fn variable_warnings() {
        // Empty lowercase: the uppercase one is used, and said so.
        let s = ProxySettings::resolve(
            &env(&[("https_proxy", ""), ("HTTPS_PROXY", "http://up:1")]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.https.as_ref().unwrap().url.host, "up");
        assert_eq!(s.https.as_ref().unwrap().from, "HTTPS_PROXY");
        assert!(s
            .warnings
            .iter()
            .any(|w| w == "https_proxy is set but empty: the runner uses HTTPS_PROXY"));
        // Both set and different: the lowercase one wins (masked in the warning).
        let s = ProxySettings::resolve(
            &env(&[
                ("https_proxy", "http://u:pw@low:1"),
                ("HTTPS_PROXY", "http://up:1"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.https.as_ref().unwrap().url.host, "low");
        let w = s
            .warnings
            .iter()
            .find(|w| w.contains("differ"))
            .expect("differ warning");
        assert!(
            w.contains("http://u:***@low:1") && !w.contains("pw@"),
            "{w}"
        );
        // Same value in both: no warning.
        let s = ProxySettings::resolve(
            &env(&[
                ("https_proxy", "http://p:1"),
                ("HTTPS_PROXY", " http://p:1 "),
            ]),
            None,
            None,
        )
        .unwrap();
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        // Only http_proxy: HTTPS goes direct, and the report says so.
        let s = ProxySettings::resolve(&env(&[("http_proxy", "http://p:1")]), None, None).unwrap();
        assert!(s.https.is_none() && s.any());
        assert!(s
            .warnings
            .iter()
            .any(|w| w.contains("does not fall back to http_proxy")));
        assert!(s.route("github.com", 80, false).is_some());
        assert!(s.route("github.com", 443, true).is_none());
        assert!(!ProxySettings::resolve(&env(&[]), None, None).unwrap().any());
        // A blank --proxy flag: the environment is not read either.
        let s =
            ProxySettings::resolve(&env(&[("https_proxy", "http://p:1")]), Some("  "), Some(""))
                .unwrap();
        assert!(!s.any());
        assert_eq!(s.no_proxy, None);
        assert_eq!(s.no_proxy_from.as_deref(), Some("--no-proxy"));
        // A whitespace-only variable is no proxy.
        let s = ProxySettings::resolve(&env(&[("https_proxy", "  ")]), None, None).unwrap();
        assert!(s.https.is_none());
        // --proxy with a scheme is kept as given.
        let s = ProxySettings::resolve(&env(&[]), Some("http://f:2"), None).unwrap();
        assert_eq!(s.http.unwrap().url.authority(), "f:2");
    }
}
