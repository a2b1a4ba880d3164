//! runner-preflight: does this machine's network let a GitHub Actions self-hosted runner work?
//!
//! Layers, each using only those below it (ARCHITECTURE.md):
//! [`model`] (leaf types) ← [`profile`] (data) ← [`plan`] (targets) ← [`env`] (proxy, trust
//! stores, runner files) ← [`probe`] (typed observations) ← [`report`] (verdicts, findings, the
//! exit code) ← [`render`] (every word and format) ← [`cli`] (flags, files, signals).
//! [`firewall`], [`audit`], [`meta`] and [`fleet`] are the rule, allow-list, /meta and fleet models beside
//! `report`; [`textfile`], [`words`] and [`platform`] are leaf helpers (capped input reads;
//! plurals and durations; the machine's name and open-file limit per operating system).

pub mod audit;
pub mod cli;
pub mod env;
pub mod error;
pub mod firewall;
pub mod fleet;
pub mod meta;
pub mod model;
pub mod plan;
pub mod platform;
pub mod probe;
pub mod profile;
pub mod render;
pub mod report;
pub mod textfile;
pub mod words;
