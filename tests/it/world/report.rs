//! Lookups in the JSON report shared by the test modules.

use serde_json::Value;

/// The target object for `host` (first occurrence in any capability).
pub fn target<'a>(json: &'a Value, host: &str) -> &'a Value {
    json["capabilities"]
        .as_array()
        .expect("capabilities")
        .iter()
        .flat_map(|c| c["entries"].as_array().expect("entries").iter())
        .flat_map(|e| e["targets"].as_array().expect("targets").iter())
        .find(|t| t["host"] == host)
        .unwrap_or_else(|| panic!("no target {host} in {json:#}"))
}

/// The plain-words cause of `host`, or "".
pub fn cause(json: &Value, host: &str) -> String {
    target(json, host)["cause"]
        .as_str()
        .unwrap_or("")
        .to_string()
}
