//! `profiles`, `profile show|validate|source`: what the profiles say, without probing.

use super::args::ProfileCommand;
use super::output;
use super::settings::plan_of;
use super::Failure;
use crate::error::InputError;
use crate::plan;
use crate::{profile, profile::BUILTIN_NAMES};

/// `profiles`: the built-in profiles and their variables.
pub fn profiles() -> Result<u8, Failure> {
    let mut out = String::new();
    for (name, src) in profile::builtins() {
        match profile::parse(&format!("builtin:{name}"), src) {
            Ok(p) => {
                let vars: Vec<String> = p
                    .variables
                    .iter()
                    .map(|v| {
                        if v.required {
                            v.name.clone()
                        } else {
                            format!("[{}]", v.name)
                        }
                    })
                    .collect();
                out.push_str(&format!(
                    "{name:<8} {}{}\n",
                    p.title,
                    if vars.is_empty() {
                        String::new()
                    } else {
                        format!("  (variables: {})", vars.join(" "))
                    }
                ));
            }
            Err(e) => out.push_str(&format!("{name:<8} (invalid: {e})\n")),
        }
    }
    output::stdout("the list of profiles", &out)?;
    Ok(0)
}

/// `profile show|validate|source`.
pub fn profile(cmd: ProfileCommand) -> Result<u8, Failure> {
    match cmd {
        ProfileCommand::Validate {
            profile,
            profile_flag,
            limits,
        } => {
            let spec = profile.or(profile_flag).unwrap_or_default();
            let p = profile::resolve_with(&spec, limits.limits())?;
            let names: usize = p.capabilities.iter().map(|c| c.entries.len()).sum();
            output::stdout(
                "the result",
                &format!(
                    "{}: valid profile `{}` — {} capabilities, {names} entries\n",
                    p.origin,
                    p.name,
                    p.capabilities.len()
                ),
            )?;
        }
        ProfileCommand::Source { name } => match profile::builtin(&name) {
            Some(src) => output::stdout("the profile", src)?,
            None => {
                return Err(InputError::usage(format!(
                    "no built-in profile `{name}`;{} built-in profiles are {}",
                    crate::words::did_you_mean(&name, BUILTIN_NAMES.iter().copied())
                        .map(|s| format!(" did you mean `{s}`?"))
                        .unwrap_or_default(),
                    BUILTIN_NAMES.join(", ")
                ))
                .into())
            }
        },
        ProfileCommand::Show(args) => {
            let plan = plan_of(args.profile(), args.select.selection())?;
            output::stdout("the plan", &show_plan(&plan))?;
        }
    }
    Ok(0)
}

/// `profile show`: what will be probed.
pub fn show_plan(plan: &plan::Plan) -> String {
    let mut s = format!(
        "profile {} — {} ({})\n",
        plan.profile_name, plan.profile_title, plan.profile_origin
    );
    if !plan.variables.is_empty() {
        let vars: Vec<String> = plan
            .variables
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        s.push_str(&format!("variables: {}\n", vars.join(", ")));
    }
    for c in &plan.capabilities {
        s.push_str(&format!(
            "\n{} — {}{}\n",
            c.id,
            c.title,
            if c.gating { " [gating]" } else { "" }
        ));
        for e in &c.entries {
            if e.wildcard {
                s.push_str(&format!("  {}\n", e.pattern));
                if e.targets.is_empty() {
                    s.push_str("    (no representative name to probe)\n");
                }
                for t in &e.targets {
                    s.push_str(&format!("    {}\n", describe_target(t)));
                }
            } else {
                for t in &e.targets {
                    s.push_str(&format!("  {}\n", describe_target(t)));
                }
            }
            if let Some(r) = &e.redirect {
                s.push_str(&format!(
                    "  redirect {} {} (every hop's host probed; known hosts: {})\n",
                    r.method.as_str(),
                    crate::model::mask_url(&r.url),
                    r.known_hosts().join(", ")
                ));
            }
            if let Some(n) = &e.note {
                s.push_str(&format!("      note: {n}\n"));
            }
        }
    }
    for (id, why) in &plan.inactive {
        s.push_str(&format!("\nnot checked: {id} — {why}\n"));
    }
    let hosts = plan.hosts().len();
    s.push_str(&format!("\n{hosts} names to probe\n"));
    s
}

fn describe_target(t: &plan::Target) -> String {
    let eps: Vec<String> = t
        .endpoints
        .iter()
        .map(|e| {
            let mut d = format!(
                "{}:{}",
                match e.proto {
                    plan::Proto::Https => "https",
                    plan::Proto::Http => "http",
                },
                e.port
            );
            if let (None, plan::Proto::Http) = (&e.http, e.proto) {
                d.push_str(" GET /");
            }
            if let Some(h) = &e.http {
                d.push_str(&format!(
                    " {} {}",
                    h.method.as_str(),
                    crate::model::secret::hide_query(&h.path)
                ));
                if let Some(x) = &h.expect_header {
                    d.push_str(&format!(" expect {x}"));
                }
                if let Some(t) = h.timeout_secs {
                    d.push_str(&format!(" within {t} s"));
                }
            }
            d
        })
        .collect();
    format!("{}  [{}]", t.host, eps.join("; "))
}
