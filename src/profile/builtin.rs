//! Built-in profiles, compiled into the binary from `profiles/`.

pub const BUILTIN_NAMES: &[&str] = &["dotcom", "ghes", "ghecom"];

const DOTCOM: &str = include_str!("../../profiles/dotcom.yaml");
const GHES: &str = include_str!("../../profiles/ghes.yaml");
const GHECOM: &str = include_str!("../../profiles/ghecom.yaml");

/// The source text of a built-in profile.
pub fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "dotcom" => Some(DOTCOM),
        "ghes" => Some(GHES),
        "ghecom" => Some(GHECOM),
        _ => None,
    }
}

/// Every built-in profile: (name, source).
pub fn builtins() -> impl Iterator<Item = (&'static str, &'static str)> {
    BUILTIN_NAMES
        .iter()
        .map(|n| (*n, builtin(n).expect("every listed built-in has a source")))
}
