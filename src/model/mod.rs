//! Leaf types shared by every layer. This module imports nothing else of the project.

pub mod host;
pub mod http;
pub mod os_error;
pub mod runner;
pub mod secret;
pub mod text;
pub mod url;
pub mod verdict;

pub use host::{check_hostname, check_pattern, pattern_covers, Name, Pattern};
pub use http::{HttpSpec, Method};
pub use os_error::{GaiError, IoKind, OsError, ResolverError};
pub use runner::{RunnerArch, RunnerOs, RunnerPlatform, RunnerVersion};
pub use secret::mask_url;
pub use url::{parse_url, HttpUrl, UrlError};
pub use verdict::{Family, Phase, Route, Verdict};

/// `Duration` as whole milliseconds in JSON (`"after": 5000`), for the typed failure objects.
pub mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    /// Whole milliseconds, or the `{"secs": …, "nanos": …}` object that serde gives a bare
    /// `Duration`: reports saved before every duration was written in milliseconds (the OS
    /// resolver's timeout was one, issue 23 row 12) still read back.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Millis(u64),
            Struct { secs: u64, nanos: u32 },
        }
        Ok(match Either::deserialize(d)? {
            Either::Millis(ms) => Duration::from_millis(ms),
            Either::Struct { secs, nanos } => {
                Duration::from_secs(secs).saturating_add(Duration::from_nanos(u64::from(nanos)))
            }
        })
    }

    #[cfg(test)]
    mod tests {
        use std::time::Duration;

        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct T {
            #[serde(with = "super")]
            after: Duration,
        }

        #[test]
        fn written_in_milliseconds_and_read_in_either_form() {
            let t = T {
                after: Duration::from_millis(5_250),
            };
            assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"after":5250}"#);
            assert_eq!(serde_json::from_str::<T>(r#"{"after":5250}"#).unwrap(), t);
            let legacy = r#"{"after":{"secs":5,"nanos":250000000}}"#;
            assert_eq!(serde_json::from_str::<T>(legacy).unwrap(), t);
            assert!(serde_json::from_str::<T>(r#"{"after":"5s"}"#).is_err());
        }
    }
}
