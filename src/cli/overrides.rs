//! Parsing `--resolve HOST:PORT:ADDR[,ADDR…]` and `--connect-to HOST:PORT:CONNECT_HOST:CONNECT_PORT`
//! into the probe's overrides, with errors naming the flag. Every host is checked before it can
//! reach a resolver.

use std::net::IpAddr;

use crate::probe::overrides::{ConnectTo, Resolve};

/// Split on `:` outside `[...]`.
fn split_colons(s: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '[' => {
                depth += 1;
                parts.last_mut().expect("non-empty").push(c);
            }
            ']' => {
                depth -= 1;
                parts.last_mut().expect("non-empty").push(c);
            }
            ':' if depth == 0 => parts.push(String::new()),
            _ => parts.last_mut().expect("non-empty").push(c),
        }
    }
    parts
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    // `[v6]` or a bare address; a lone bracket is a typo, not an address.
    let inner = match (s.strip_prefix('['), s.ends_with(']')) {
        (Some(rest), true) => rest.strip_suffix(']')?,
        (None, false) => s,
        _ => return None,
    };
    inner.parse().ok()
}

/// A host field: a host name (RFC 1123, any case) or an IP literal (IPv6 in brackets or bare).
/// Returns it lower-cased, without brackets.
fn parse_host(flag: &str, whole: &str, s: &str) -> Result<String, String> {
    if let Some(ip) = parse_ip(s) {
        return Ok(ip.to_string());
    }
    let lower = s.to_ascii_lowercase();
    crate::model::check_hostname(&lower).map_err(|m| {
        format!(
            "{flag} `{}`: {m} (expected a host name or an IP address)",
            whole.escape_debug()
        )
    })?;
    Ok(lower)
}

fn parse_port(s: &str, what: &str) -> Result<Option<u16>, String> {
    if s.is_empty() || s == "*" {
        return Ok(None);
    }
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(Some(p)),
        _ => Err(format!("{what} `{s}` is not a port number (1-65535)")),
    }
}

impl std::str::FromStr for Resolve {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("--resolve `{s}`: expected HOST:PORT:ADDRESS[,ADDRESS…], e.g. github.com:443:127.0.0.1")
        };
        let parts = split_colons(s);
        if parts.len() != 3 || parts[0].is_empty() {
            return Err(bad());
        }
        let host = parse_host("--resolve", s, &parts[0])?;
        let port = parse_port(&parts[1], "port")?;
        let mut addrs = Vec::new();
        for a in parts[2].split(',') {
            addrs.push(
                parse_ip(a.trim())
                    .ok_or_else(|| format!("--resolve `{s}`: `{a}` is not an IP address"))?,
            );
        }
        Ok(Resolve { host, port, addrs })
    }
}

impl std::str::FromStr for ConnectTo {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts = split_colons(s);
        if parts.len() != 4 {
            return Err(format!(
                "--connect-to `{s}`: expected HOST:PORT:CONNECT_HOST:CONNECT_PORT (HOST, PORT, CONNECT_HOST or CONNECT_PORT may be empty), e.g. github.com:443:127.0.0.1:8443"
            ));
        }
        // Each host is checked before it can reach a resolver: `a;b`, `bad host` or `$(id)`
        // are usage errors, not names to look up.
        let opt = |p: &str| -> Result<Option<String>, String> {
            if p.is_empty() {
                Ok(None)
            } else {
                parse_host("--connect-to", s, p).map(Some)
            }
        };
        Ok(ConnectTo {
            host: opt(&parts[0])?,
            port: parse_port(&parts[1], "port")?,
            to_host: opt(&parts[2])?,
            to_port: parse_port(&parts[3], "connect port")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resolve() {
        let r: Resolve = "github.com:443:127.0.0.1,[::1]".parse().unwrap();
        assert_eq!(r.port, Some(443));
        assert_eq!(r.addrs.len(), 2);
        assert!("github.com:443".parse::<Resolve>().is_err());
        assert!("github.com:x:1.2.3.4".parse::<Resolve>().is_err());
        assert!("github.com:443:nope".parse::<Resolve>().is_err());
        assert!("a.b:443:[::1".parse::<Resolve>().is_err());
        assert!("a.b:443:[::1]".parse::<Resolve>().is_ok());
    }

    #[test]
    fn parses_connect_to() {
        let c: ConnectTo = ":443:127.0.0.1:8443".parse().unwrap();
        assert!(c.matches("github.com", 443));
        assert!(!c.matches("github.com", 80));
        let c: ConnectTo = "github.com:443::9000".parse().unwrap();
        assert_eq!(c.to_host, None);
        assert_eq!(c.to_port, Some(9000));
        let c: ConnectTo = "a.b:443:[::1]:8443".parse().unwrap();
        assert_eq!(c.to_host.as_deref(), Some("::1"));
        assert!("a:b".parse::<ConnectTo>().is_err());
    }

    #[test]
    fn hosts_are_checked_before_any_lookup() {
        for bad in [
            "h:8444:a;b:8444",
            "h:8444:bad host:8444",
            "h:8444:$(id):8444",
            "a;b:443:127.0.0.1:8443",
            "h:8444:[::1:8444",
        ] {
            let e = bad.parse::<ConnectTo>().unwrap_err();
            assert!(e.starts_with("--connect-to `"), "{bad}: {e}");
        }
        let e = "h:8444:a;b:8444".parse::<ConnectTo>().unwrap_err();
        assert!(
            e.contains("`a;b` is not a host name: character `;` is not allowed"),
            "{e}"
        );
        // The whole value with no colons is still a usage error.
        assert!("bad host".parse::<ConnectTo>().is_err());
        assert!("$(id)".parse::<ConnectTo>().is_err());
        for bad in [
            "bad host:443:127.0.0.1",
            "$(id):443:127.0.0.1",
            "a;b:443:[::1]",
        ] {
            let e = bad.parse::<Resolve>().unwrap_err();
            assert!(e.contains("is not a host name"), "{bad}: {e}");
        }
        // Upper case is folded, IP literals are accepted.
        let c: ConnectTo = "GitHub.com:443:127.0.0.1:8443".parse().unwrap();
        assert_eq!(c.host.as_deref(), Some("github.com"));
        assert_eq!(c.to_host.as_deref(), Some("127.0.0.1"));
        let r: Resolve = "API.GitHub.com:443:127.0.0.1".parse().unwrap();
        assert_eq!(r.host, "api.github.com");
    }
}
