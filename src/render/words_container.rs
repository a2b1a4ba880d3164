//! The words of the container-jobs check (Docker's bridges and networks against the uplink and
//! the addresses the runner needs), written once for every format.

use crate::env::docker::{DaemonProblem, Unreadable};
use crate::model::os_error::IoKind;
use crate::probe::docker::ApiFailure;
use crate::report::container::{
    ApiState, ContainerProblem, ContainerReport, ContainerSkip, MtuFrom, Needed,
};

/// Why `daemon.json` could not be used.
pub fn daemon_problem(p: &DaemonProblem) -> String {
    match p {
        DaemonProblem::Unreadable { path, why } => match why {
            Unreadable::TooLarge { limit } => {
                format!("{path}: larger than {limit} bytes, more than any daemon.json (not read)")
            }
            Unreadable::NotUtf8 { offset } => {
                format!("{path}: not UTF-8 text (invalid byte at offset {offset})")
            }
            Unreadable::NotRegular => format!("{path}: not a regular file (not read)"),
            Unreadable::Io { error } => {
                format!("{path}: cannot read: {}", super::words::os_error(error))
            }
        },
        DaemonProblem::NotJson { path, line, column } => {
            format!("{path}:{line}:{column}: not valid JSON")
        }
        DaemonProblem::BadField { path, field } => {
            format!("{path}: \"{field}\" has a value Docker does not accept")
        }
    }
}

fn mtu_from(m: MtuFrom) -> &'static str {
    match m {
        MtuFrom::DaemonJson => "daemon.json \"mtu\"",
        MtuFrom::NetworkOption => "com.docker.network.driver.mtu",
        MtuFrom::Bridge => "the bridge's own",
    }
}

fn needed(n: &[Needed]) -> String {
    let v: Vec<String> = n
        .iter()
        .take(5)
        .map(|x| {
            let mut who: Vec<String> = x.hosts.iter().take(3).cloned().collect();
            if x.hosts.len() > 3 {
                who.push(format!("{} more", x.hosts.len() - 3));
            }
            if x.proxy {
                who.insert(0, "the proxy".into());
            }
            format!("{} ({})", x.address, who.join(", "))
        })
        .collect();
    let more = n.len().saturating_sub(v.len());
    match more {
        0 => v.join(", "),
        m => format!("{} and {m} more", v.join(", ")),
    }
}

/// One problem in a line.
pub fn problem(p: &ContainerProblem) -> String {
    match p {
        ContainerProblem::SubnetCovers {
            network,
            subnet,
            needed: n,
        } => format!(
            "{network} uses {subnet}, which covers {}: container jobs cannot reach it",
            needed(n)
        ),
        ContainerProblem::MtuAboveUplink {
            network,
            mtu,
            mtu_from: from,
            uplink,
            uplink_mtu,
        } => format!(
            "{network} has MTU {mtu} ({}) but the uplink {uplink} carries {uplink_mtu}: container jobs' full-size packets do not fit",
            mtu_from(*from)
        ),
        ContainerProblem::PoolCovers {
            pool,
            default_pool,
            needed: n,
        } => format!(
            "Docker takes job networks from {pool} ({}), which covers {}",
            if *default_pool {
                "a default pool"
            } else {
                "default-address-pools"
            },
            needed(n)
        ),
        ContainerProblem::DaemonConfig { problem } => daemon_problem(problem),
    }
}

fn api_failure(f: &ApiFailure) -> String {
    match f {
        ApiFailure::Connect { error } => match (error.kind, error.errno) {
            (IoKind::PermissionDenied, _) => {
                "no permission (run as root or in the docker group to see job networks)".into()
            }
            (IoKind::ConnectionRefused, _) => "nothing answers (Docker is not running?)".into(),
            // ENOENT, ENOTSOCK: the path is gone or is not a socket.
            (_, Some(2)) => "no such socket".into(),
            (_, Some(88)) => "not a socket".into(),
            _ => format!("cannot connect: {}", super::words::os_error(error)),
        },
        ApiFailure::Timeout { ms } => format!(
            "no answer within {}",
            super::words::fmt_duration(std::time::Duration::from_millis(*ms))
        ),
        ApiFailure::Request => "the request failed (not Docker's API?)".into(),
        ApiFailure::Status { status } => format!("it answered {status}"),
        ApiFailure::TooLarge { limit } => format!("its answer is larger than {limit} bytes"),
        ApiFailure::NotNetworks => "its answer is not a list of networks".into(),
    }
}

/// What the API socket gave, in words.
pub fn api_state(a: &ApiState) -> String {
    match a {
        ApiState::Absent { socket } => format!("no Docker API at {socket}"),
        ApiState::Read { socket, networks } => format!(
            "{} from the Docker API ({socket})",
            super::words::plural(*networks, "network")
        ),
        ApiState::Failed { socket, failure } => {
            format!("Docker API {socket}: {}", api_failure(failure))
        }
    }
}

/// The check's result in a sentence.
pub fn message(r: &ContainerReport) -> String {
    match &r.skipped {
        Some(ContainerSkip::NotLinux) => {
            return "not checked: Docker's container networking is read on Linux only".into()
        }
        Some(ContainerSkip::NoDocker { config_dir, socket }) => {
            return format!(
                "not checked: no Docker here (no {config_dir}/daemon.json, nothing at {socket}, no docker0 or br-* bridge)"
            )
        }
        None => {}
    }
    let nets: Vec<String> = r
        .networks
        .iter()
        .map(|n| {
            let subnets: Vec<String> = n.subnets.iter().map(|s| s.to_string()).collect();
            format!(
                "{}{}{}",
                n.label(),
                n.mtu.map(|m| format!(" MTU {m}")).unwrap_or_default(),
                if subnets.is_empty() {
                    String::new()
                } else {
                    format!(" {}", subnets.join(" "))
                }
            )
        })
        .collect();
    let uplink = match &r.uplink {
        Some(u) => format!(
            "uplink {}{}{}",
            u.interface,
            u.mtu.map(|m| format!(" MTU {m}")).unwrap_or_default(),
            match (u.path_mtu, u.mtu) {
                (Some(p), Some(m)) if p < m => format!(", path MTU {p}"),
                _ => String::new(),
            }
        ),
        None => "no default route".into(),
    };
    let state = match r.problems.len() {
        0 => "no conflict with the uplink or the addresses the runner needs".to_string(),
        n => super::words::plural(n, "problem"),
    };
    format!(
        "{state}; {uplink}; {}; {}",
        if nets.is_empty() {
            "no Docker bridge".to_string()
        } else {
            nets.join(", ")
        },
        api_state(&r.api)
    )
}
