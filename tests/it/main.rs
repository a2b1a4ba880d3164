//! One integration-test binary (a single link of the whole stack): every test spawns the real
//! CLI against servers it starts on loopback. Nothing here contacts a non-loopback address.

mod audit_meta;
mod check;
mod faults;
mod firewall;
mod fuzz;
mod fuzz_corpus;
mod json;
mod pipeline;
mod proxy;
mod proxy_server;
mod throttle;
mod throughput;
mod world;
