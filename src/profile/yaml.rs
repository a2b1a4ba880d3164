//! How profiles are parsed (serde-saphyr options) and how its errors are put in our words.
//!
//! Errors are mapped by their kind (the `serde_saphyr::Error` variant), never by their text: the
//! library's wording (API hints, type names, debug dumps of its limits) must not reach the user.

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Error, Options};

use crate::error::Pos;

/// At most this many YAML nodes (mappings, sequences, scalars), aliases expanded. The built-in
/// profiles have about 2,000.
pub const MAX_NODES: usize = 100_000;
/// At most this many events replayed from aliases (`*name`) in all.
pub const MAX_REPLAYED: usize = 100_000;
/// At most this many levels of nesting.
pub const MAX_DEPTH: usize = 64;

/// Parser options for profiles: YAML 1.2 booleans, duplicate keys refused, unknown tags
/// refused, and a small budget so that an alias bomb ends fast with a clear error.
pub fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_nodes = MAX_NODES;
    budget.max_events = 4 * MAX_NODES;
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = 1;
    let mut o = Options::default();
    o.budget = Some(budget);
    o.alias_limits.max_total_replayed_events = MAX_REPLAYED;
    o.duplicate_keys = DuplicateKeyPolicy::Error;
    o.strict_booleans = true;
    o.reject_unsupported_tags = true;
    // We print our own snippet; the library's would copy the input.
    o.with_snippet = false;
    o
}

/// The position and our message for a parse error.
pub fn describe(e: &Error) -> (Option<Pos>, String) {
    let pos = e.location().filter(|l| l.line() > 0).map(|l| Pos {
        line: l.line(),
        column: l.column().max(1),
    });
    (pos, message(e.without_snippet()))
}

fn alias_limit() -> String {
    format!(
        "the profile is too large or too deeply nested (YAML aliases expand to more than {MAX_REPLAYED} nodes)"
    )
}

fn message(e: &Error) -> String {
    match e {
        Error::WithSnippet { error, .. } => message(error),
        Error::AliasError { error, .. } => match &**error {
            Error::Budget {
                breach: BudgetBreach::Nodes { .. },
                ..
            } => format!(
                "the profile is too large or too deeply nested (YAML aliases expand to more than {MAX_NODES} nodes)"
            ),
            inner if is_limit(inner) => message(inner),
            inner => format!("{} (in a value copied from a YAML anchor)", message(inner)),
        },
        Error::Message { msg, .. } => msg.clone(),
        Error::DuplicateMappingKey { key: Some(k), .. } => format!(
            "duplicate key `{}`: each key may appear only once in a mapping",
            super::clip(k, 80)
        ),
        Error::DuplicateMappingKey { key: None, .. } => {
            "duplicate key: each key may appear only once in a mapping".into()
        }
        Error::MultipleDocuments { .. } => {
            "only one YAML document per profile: remove this `---` and what follows, or put it in its own file".into()
        }
        Error::Budget { breach, .. } => budget(breach),
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => alias_limit(),
        Error::AliasReplayStackDepthExceeded { max_depth, .. } => format!(
            "the profile is too deeply nested (YAML aliases nest more than {max_depth} levels)"
        ),
        Error::RecursiveReferencesRequireWeakTypes { .. } => {
            "a YAML alias refers to the anchor that contains it".into()
        }
        Error::UnknownAnchor { .. } => {
            "this alias (`*name`) refers to an anchor (`&name`) that is not defined before it".into()
        }
        Error::MergeValueNotMapOrSeqOfMaps { .. } => {
            "the value of a merge key `<<` must be a mapping or a list of mappings".into()
        }
        Error::MergeKeyNotAllowed { .. } => "merge keys (`<<`) are not allowed here".into(),
        Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let field = super::clip(field, 80);
            if expected.is_empty() {
                format!("unknown field `{field}`: no keys are allowed here")
            } else {
                format!(
                    "unknown field `{field}`: expected one of {}",
                    expected.join(", ")
                )
            }
        }
        Error::SerdeMissingField { field, .. } => format!("missing field `{field}`"),
        Error::SerdeUnknownVariant {
            variant, expected, ..
        } => format!(
            "unknown value `{}`: expected one of {}",
            super::clip(variant, 80),
            expected.join(", ")
        ),
        Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | Error::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => format!(
            "expected {}, found {}",
            super::clip(expected, 120),
            super::clip(unexpected, 120)
        ),
        Error::SerdeInvalidLength { len, expected, .. } => {
            format!("expected {}, found {len} items", super::clip(expected, 120))
        }
        Error::InvalidScalar { ty, .. } => match *ty {
            "bool" => "expected `true` or `false`".into(),
            "u8" => "expected a whole number from 0 to 255".into(),
            "u16" => "expected a whole number from 0 to 65535".into(),
            "u32" => "expected a whole number from 0 to 4294967295".into(),
            "u64" | "usize" => "expected a whole number from 0 or more".into(),
            "i8" | "i16" | "i32" | "i64" | "isize" => "expected a whole number".into(),
            "f32" | "f64" => "expected a number".into(),
            "char" => "expected a single character".into(),
            _ => "this value has the wrong type".into(),
        },
        Error::InvalidBooleanStrict { .. } => "expected `true` or `false`".into(),
        Error::NullIntoString { .. } => "expected a text value, found nothing".into(),
        Error::Unexpected { expected, .. } => format!("expected {expected}"),
        Error::UnexpectedSequenceEnd { .. } | Error::UnexpectedMappingEnd { .. } => {
            "the list or mapping ends too early".into()
        }
        Error::Eof { .. } => "the file ends in the middle of a value".into(),
        Error::InvalidUtf8Input => "the file is not UTF-8 text".into(),
        Error::UnsupportedTag { tag, .. } => format!(
            "YAML tag `{}` is not supported in a profile: remove it",
            super::clip(tag, 40)
        ),
        Error::TaggedStructFieldName { tag, .. } => format!(
            "YAML tag `{}` on a key is not supported in a profile: remove it",
            super::clip(tag, 40)
        ),
        Error::InvalidBinaryBase64 { .. }
        | Error::BinaryNotUtf8 { .. }
        | Error::TaggedScalarCannotDeserializeIntoString { .. } => {
            "tagged values (`!!binary`, `!tag`) are not supported in a profile: write plain text"
                .into()
        }
        Error::FoldedBlockScalarMustIndentContent { .. } => {
            "the text of a folded block (`>`) must be indented".into()
        }
        Error::IndentationError { .. } => "wrong indentation".into(),
        Error::QuotingRequired { value, .. } => {
            format!("quote `{}`: it would be read as a number or a boolean", super::clip(value, 40))
        }
        Error::NonFiniteFloat { .. } => "expected a finite number".into(),
        // The YAML scanner's own syntax messages ("did not find expected ',' or ']'", …): plain
        // words about the YAML, no types. Keep them, without the location (we print it).
        Error::ExternalMessage { msg, .. } => super::clip(msg, 200),
        _ => "this is not valid YAML for a profile".into(),
    }
}

fn is_limit(e: &Error) -> bool {
    matches!(
        e,
        Error::Budget { .. }
            | Error::AliasReplayLimitExceeded { .. }
            | Error::AliasExpansionLimitExceeded { .. }
            | Error::AliasReplayCounterOverflow { .. }
            | Error::AliasReplayStackDepthExceeded { .. }
    )
}

fn budget(b: &BudgetBreach) -> String {
    match b {
        BudgetBreach::Nodes { .. } => {
            format!("the profile is too large: more than {MAX_NODES} YAML values")
        }
        BudgetBreach::RecordedAnchorEvents { .. } => alias_limit(),
        BudgetBreach::Events { .. } | BudgetBreach::ScalarBytes { .. } | BudgetBreach::RecordedAnchorBytes { .. } => {
            "the profile is too large: it holds more YAML than a profile needs".into()
        }
        BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::MergeKeys { .. } => {
            "the profile uses too many YAML anchors, aliases or merge keys (`&`, `*`, `<<`)".into()
        }
        BudgetBreach::Depth { .. } => {
            format!("the profile is nested too deeply (more than {MAX_DEPTH} levels)")
        }
        BudgetBreach::Documents { .. } => {
            "only one YAML document per profile: remove this `---` and what follows, or put it in its own file".into()
        }
        _ => "the profile is too large or too complex".into(),
    }
}
