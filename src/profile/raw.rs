//! The serde shapes of a profile file. Only `profile::parse` uses these.

use std::collections::BTreeMap;

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
    pub variables: BTreeMap<String, RawVariable>,
    pub capabilities: Vec<RawCapability>,
    #[serde(default)]
    pub throughput: Option<RawThroughput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThroughput {
    #[serde(default)]
    pub min_kbps: Option<Spanned<u32>>,
    #[serde(default)]
    pub gating: Option<bool>,
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
    pub default: Option<String>,
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
    pub gating: bool,
    #[serde(default)]
    pub when: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    pub when_set: Option<Spanned<Vec<String>>>,
    pub entries: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntry {
    #[serde(default)]
    pub host: Option<Spanned<String>>,
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    #[serde(default)]
    pub probe: Option<Spanned<Vec<RawProbe>>>,
    #[serde(default)]
    pub ports: Option<Spanned<Vec<u16>>>,
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

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawProbe {
    Name(String),
    Detailed(RawProbeDetailed),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbeDetailed {
    pub host: String,
    #[serde(default)]
    pub http: Option<RawHttp>,
    #[serde(default)]
    pub ports: Option<Vec<u16>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub path: String,
    #[serde(default)]
    pub expect_header: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
}

/// The parser's message without its own location suffix and snippet (we print those).
pub fn clean_message(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    let first = full.lines().next().unwrap_or("").trim().to_string();
    // serde-saphyr appends " at line L, column C"; we print file:line:col ourselves.
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first,
    }
}
