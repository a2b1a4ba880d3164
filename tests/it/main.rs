//! One integration-test binary (a single link of the whole stack): every test spawns the real
//! CLI against servers it starts on loopback. Nothing here contacts a non-loopback address.

mod action;
mod audit_meta;
mod check;
mod cli_edge;
mod container;
mod deb;
mod deploy_k8s;
mod diagnosis;
mod dns_walk;
mod faults;
mod fidelity;
mod firewall;
mod fleet;
mod formats_agree;
mod fuzz;
mod fuzz_corpus;
mod hostile;
mod hostile_files;
mod hostile_secrets;
mod hostile_text;
mod html;
mod idle;
mod path_faults;
mod pipeline;
mod proxy;
mod scenarios;
mod scheduling;
mod serve;
mod snapshots;
mod throttle;
mod throughput;
mod today;
mod world;
/// The harness's own smoke tests, beside `world` (which benches/latency.rs also compiles).
#[path = "world/smoke.rs"]
mod world_smoke;
