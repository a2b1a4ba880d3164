//! runner-preflight: does this machine's network let a GitHub Actions self-hosted runner work?
//!
//! Pipeline: [`profile`] (data) → [`plan`] (targets) → [`probe`] (dns, tcp, tls, http) →
//! [`report`] (verdicts) → [`render`] (table, json, junit, markdown, annotations). [`cli`] maps
//! flags onto that (and adds the pipeline outputs); [`gate`] decides the `--fail-on` exit code.

pub mod audit;
pub mod cli;
pub mod env;
pub mod error;
pub mod firewall;
pub mod gate;
pub mod meta;
pub mod model;
pub mod plan;
pub mod probe;
pub mod profile;
pub mod proxy;
pub mod render;
pub mod report;
pub mod textfile;
pub mod words;
