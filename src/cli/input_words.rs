//! The words of the typed input errors of lower layers that name a flag: only the command layer
//! knows which flag a value came from.

use std::fmt;

use crate::model::text::clipped;
use crate::plan::{PlanError, Selection};

fn flag(s: Selection) -> &'static str {
    match s {
        Selection::Only => "--capability",
        Selection::Require => "--require",
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::UnknownCapability {
                selection,
                id,
                profile,
                valid,
            } => write!(
                f,
                "{}: unknown capability `{}` in profile `{profile}`;{} valid capabilities are: {}",
                flag(*selection),
                clipped(id),
                crate::words::did_you_mean(id, valid.iter().map(String::as_str))
                    .map(|s| format!(" did you mean `{s}`?"))
                    .unwrap_or_default(),
                valid.join(", ")
            ),
            PlanError::InactiveCapability {
                selection,
                id,
                condition,
            } => write!(
                f,
                "{}: capability `{id}` is not part of this check: it applies only when {condition}",
                flag(*selection)
            ),
            PlanError::DuplicateVar {
                name,
                first,
                second,
            } => write!(
                f,
                "--var {} given twice (`{}` and `{}`): give each variable once",
                clipped(name),
                clipped(first),
                clipped(second)
            ),
            PlanError::UnknownVariable {
                name,
                profile,
                known,
            } if known.is_empty() => {
                write!(
                    f,
                    "--var {}: profile `{profile}` takes no variables",
                    clipped(name)
                )
            }
            PlanError::UnknownVariable {
                name,
                profile,
                known,
            } => write!(
                f,
                "--var {0}: profile `{profile}` has no variable `{0}`; its variables are: {1}",
                clipped(name),
                known.join(", ")
            ),
            PlanError::NotAllowed {
                name,
                value,
                allowed,
            } => write!(
                f,
                "--var {0}={1}: `{1}` is not allowed; expected one of: {2}",
                clipped(name),
                clipped(value),
                allowed.join(", ")
            ),
            PlanError::BadValue { name } => write!(
                f,
                "--var {}: the value contains a control character or `$`",
                clipped(name)
            ),
            PlanError::MissingVariable {
                name,
                profile,
                description,
            } => write!(
                f,
                "profile `{profile}` needs variable `{name}`{description}: add --var {name}=VALUE"
            ),
        }
    }
}
