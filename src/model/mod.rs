//! Leaf types shared by every layer. This module imports nothing else of the project.

pub mod host;
pub mod http;
pub mod url;
pub mod verdict;

pub use host::{check_hostname, check_pattern, pattern_covers, Name, Pattern};
pub use http::{HttpSpec, Method};
pub use url::{parse_url, HttpUrl, UrlError};
pub use verdict::{Family, Phase, Route, Verdict};
