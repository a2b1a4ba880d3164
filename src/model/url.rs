//! HTTP URLs the tool requests itself: parsed once, validated host, default ports.

/// An http or https URL the tool itself requests (throughput sources, /meta, redirects), a host name, an optional port and a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl std::fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            write!(f, "{scheme}://{}{}", self.host, self.path)
        } else {
            write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

/// Why a string is not an HTTP URL the tool can request. `Display` is the message shown today.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    #[error("`{url}` is not a URL: {reason}")]
    NotAUrl { url: String, reason: String },
    #[error("`{url}`: only http:// and https:// URLs can be measured")]
    Scheme { url: String },
    #[error("`{url}` has no host")]
    NoHost { url: String },
    /// The host is not a valid name (the reason is the host check's).
    #[error("`{url}`: {reason}")]
    BadHost { url: String, reason: String },
    #[error("`{url}`: credentials in the URL are not supported")]
    Credentials { url: String },
}

impl From<UrlError> for String {
    fn from(e: UrlError) -> String {
        e.to_string()
    }
}

pub fn parse_url(s: &str) -> Result<HttpUrl, UrlError> {
    // The URL comes from outside (a flag, a profile, a runner's files): shown masked (it may
    // carry credentials or a signed query), escaped and clipped in every message.
    let url = || super::text::clipped(&super::secret::mask_url(s));
    // The URI parser's own words ("invalid uri character") are not ours: a character no URL
    // holds is named, any other refusal said in one sentence.
    let uri: hyper::Uri = s.parse().map_err(|_| UrlError::NotAUrl {
        url: url(),
        reason: match s
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_graphic() || "\"<>\\^`{|}".contains(*c))
        {
            Some((i, ' ')) => format!("character {} is a space, which a URL cannot hold", i + 1),
            Some((i, c)) if c.is_ascii_graphic() => {
                format!("character {} (`{c}`) cannot be part of a URL", i + 1)
            }
            Some((i, c)) => format!(
                "character {} ({}) cannot be part of a URL",
                i + 1,
                c.escape_unicode()
            ),
            None => "it is not of the form http(s)://host[:port]/path".into(),
        },
    })?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(UrlError::Scheme { url: url() }),
    };
    let host = uri
        .host()
        .ok_or_else(|| UrlError::NoHost { url: url() })?
        .to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_err() {
        super::host::check_hostname(&host)
            .map_err(|reason| UrlError::BadHost { url: url(), reason })?;
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(UrlError::Credentials { url: url() });
    }
    Ok(HttpUrl {
        tls,
        port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        host,
    })
}
