//! runner-preflight: does this machine's network let a GitHub Actions self-hosted runner work?
//!
//! Pipeline: [`profile`] (data) → [`plan`] (targets) → [`probe`] (dns, tcp, tls, http) →
//! [`report`] (verdicts) → [`render`] (table, json, junit, markdown, annotations). [`cli`] maps
//! flags onto that; [`ci`] adds the pipeline outputs and [`gate`] the `--fail-on` exit code.

pub mod ci;
pub mod cli;
pub mod error;
pub mod gate;
pub mod hostname;
pub mod plan;
pub mod probe;
pub mod profile;
pub mod render;
pub mod report;
