//! Leaf types shared by every layer. This module imports nothing else of the project.

pub mod host;
pub mod http;
pub mod runner;
pub mod text;
pub mod url;
pub mod verdict;

pub use host::{check_hostname, check_pattern, pattern_covers, Name, Pattern};
pub use http::{HttpSpec, Method};
pub use runner::{RunnerArch, RunnerOs, RunnerPlatform, RunnerVersion};
pub use url::{parse_url, HttpUrl, UrlError};
pub use verdict::{Family, Phase, Route, Verdict};

/// `Duration` as whole milliseconds in JSON (`"after": 5000`), for the typed failure objects.
pub mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
