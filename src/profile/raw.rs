//! The serde shapes of a profile file. Only `profile::parse` uses these.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub schema_version: Spanned<u32>,
    pub name: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub variables: Pairs<RawVariable>,
    pub capabilities: Spanned<Vec<RawCapability>>,
    #[serde(default)]
    pub throughput: Option<RawThroughput>,
    #[serde(default)]
    pub runner_version: Option<Spanned<RawRunnerVersion>>,
    /// Ask api.github.com for the unauthenticated API quota of this egress address.
    #[serde(default)]
    pub api_quota: Option<Flag>,
}

/// `runner_version:` — what GitHub accepts of a runner's version.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRunnerVersion {
    /// The lowest version GitHub registers (`X.Y.Z`).
    pub minimum: Spanned<String>,
    /// Where that minimum is stated (shown in the report).
    #[serde(default)]
    pub source: Option<String>,
    /// Days a newer release may be out before the service gives the runner no jobs.
    #[serde(default)]
    pub max_days_behind: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThroughput {
    #[serde(default)]
    pub min_kbps: Option<Spanned<u32>>,
    #[serde(default)]
    pub gating: Option<Flag>,
    #[serde(default)]
    pub download: Option<Spanned<String>>,
    #[serde(default)]
    pub upload: Option<Spanned<String>>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariable {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<Spanned<String>>,
    #[serde(default)]
    pub allowed: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapability {
    pub id: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub gating: Flag,
    #[serde(default)]
    pub runner_client: Option<Flag>,
    #[serde(default)]
    pub when: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    pub when_set: Option<Spanned<Vec<String>>>,
    pub entries: Vec<Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntry {
    #[serde(default)]
    pub host: Option<Spanned<String>>,
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    #[serde(default)]
    pub redirect: Option<Spanned<RawRedirect>>,
    #[serde(default)]
    pub probe: Option<Spanned<Vec<RawProbe>>>,
    #[serde(default)]
    pub ports: Option<Spanned<Vec<Port>>>,
    #[serde(default)]
    pub scheme: Option<Spanned<String>>,
    #[serde(default)]
    pub http: Option<RawHttp>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub when: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    pub when_set: Option<Spanned<Vec<String>>>,
}

/// `redirect:` — a URL whose redirect chain is followed, every hop's host probed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedirect {
    pub url: Spanned<String>,
    /// `GET` (with `Range: bytes=0-0`, the default) or `HEAD`.
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    /// Hosts the chain is known to reach (firewall and audit know them without network).
    #[serde(default)]
    pub expect: Option<Spanned<Vec<String>>>,
    /// The size of what the URL serves, bytes, when the server does not say.
    #[serde(default)]
    pub size: Option<Spanned<u64>>,
    /// The URL is the runner's own update package (its size gives the update estimate).
    #[serde(default)]
    pub runner_package: Option<Flag>,
    /// `latest`: probe the latest runner release's package for this host instead of `url`,
    /// which stays the fallback when the latest cannot be learned.
    #[serde(default)]
    pub runner_release: Option<Spanned<String>>,
}

/// `- name` or `- {host: name, http: …, ports: …}`.
#[derive(Debug)]
pub enum RawProbe {
    Name(String),
    Detailed(Box<RawProbeDetailed>),
}

impl<'de> Deserialize<'de> for RawProbe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ProbeVisitor;
        impl<'de> Visitor<'de> for ProbeVisitor {
            type Value = RawProbe;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a host name or a mapping with `host:`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawProbe, E> {
                Ok(RawProbe::Name(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawProbe, A::Error> {
                RawProbeDetailed::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|d| RawProbe::Detailed(Box::new(d)))
            }
        }
        d.deserialize_any(ProbeVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbeDetailed {
    pub host: String,
    #[serde(default)]
    pub http: Option<RawHttp>,
    #[serde(default)]
    pub ports: Option<Vec<Port>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub path: Spanned<String>,
    #[serde(default)]
    pub expect_header: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    /// Seconds, when this request has a shorter bound than the run's `--timeout`.
    #[serde(default)]
    pub timeout: Option<Spanned<u64>>,
}

/// A mapping kept in file order with the position of each key (`variables:`).
#[derive(Debug)]
pub struct Pairs<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for Pairs<V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V_<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of names to settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<V>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Spanned<String>, V>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V_(std::marker::PhantomData))
    }
}

/// A YAML 1.2 boolean: `true` or `false`, unquoted. `yes`, `on` and the string `"false"` are
/// refused (YAML 1.1 read them as booleans; YAML 1.2 and this tool do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FlagVisitor;
        impl<'de> Visitor<'de> for FlagVisitor {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`true` or `false`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                Err(E::custom(format!(
                    "expected `true` or `false`, found `{}` (write an unquoted `true` or `false`)",
                    super::clip(v, 40)
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                Err(E::custom(format!(
                    "expected `true` or `false`, found `{v}`"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
                Err(E::custom(format!(
                    "expected `true` or `false`, found `{v}`"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Flag, E> {
                Err(E::custom(format!(
                    "expected `true` or `false`, found `{v}`"
                )))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Flag, E> {
                Err(E::custom("expected `true` or `false`, found nothing"))
            }
        }
        d.deserialize_any(FlagVisitor)
    }
}

/// A TCP port, 1-65535, with the offending value in the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port(pub u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PortVisitor;
        impl<'de> Visitor<'de> for PortVisitor {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port number (1-65535)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Port, E> {
                match u16::try_from(v) {
                    Ok(p) if p > 0 => Ok(Port(p)),
                    _ => Err(E::custom(format!("port {v} is out of range (1-65535)"))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Port, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    Err(_) => Err(E::custom(format!("port {v} is out of range (1-65535)"))),
                }
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Port, E> {
                Err(E::custom(format!("port {v} is out of range (1-65535)")))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Port, E> {
                Err(E::custom(format!("port {v} is out of range (1-65535)")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Port, E> {
                Err(E::custom(format!(
                    "port `{v}` is not a whole number (1-65535)"
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Port, E> {
                Err(E::custom(format!(
                    "port `{}` is not a number (1-65535)",
                    super::clip(v, 40)
                )))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Port, E> {
                Err(E::custom(format!("port `{v}` is not a number (1-65535)")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Port, E> {
                Err(E::custom("a port number (1-65535) is missing"))
            }
        }
        d.deserialize_any(PortVisitor)
    }
}
