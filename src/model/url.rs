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

pub fn parse_url(s: &str) -> Result<HttpUrl, String> {
    let uri: hyper::Uri = s.parse().map_err(|e| format!("`{s}` is not a URL: {e}"))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => {
            return Err(format!(
                "`{s}`: only http:// and https:// URLs can be measured"
            ))
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("`{s}` has no host"))?
        .to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_err() {
        super::host::check_hostname(&host).map_err(|m| format!("`{s}`: {m}"))?;
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(format!("`{s}`: credentials in the URL are not supported"));
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
