//! The words of the typed input errors of lower layers that name a flag: only the command layer
//! knows which flag a value came from.

use std::fmt;

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
                "{}: unknown capability `{id}` in profile `{profile}`; valid capabilities are: {valid}",
                flag(*selection)
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
                "--var {name} given twice (`{first}` and `{second}`): give each variable once"
            ),
            PlanError::UnknownVariable {
                name,
                profile,
                known,
            } if known.is_empty() => {
                write!(f, "--var {name}: profile `{profile}` takes no variables")
            }
            PlanError::UnknownVariable {
                name,
                profile,
                known,
            } => write!(
                f,
                "--var {name}: profile `{profile}` has no variable `{name}`; its variables are: {}",
                known.join(", ")
            ),
            PlanError::NotAllowed {
                name,
                value,
                allowed,
            } => write!(
                f,
                "--var {name}={value}: `{value}` is not allowed; expected one of: {}",
                allowed.join(", ")
            ),
            PlanError::BadValue { name } => write!(
                f,
                "--var {name}: the value contains a control character or `$`"
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
