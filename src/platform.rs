//! Reads of the operating system that differ between Linux, macOS and Windows and that no crate
//! answers for us: the machine's name and the open-file limit. Each has one answer per
//! platform, documented here and in docs/platforms.md (which also lists the OS-specific reads
//! that crates do for us: the resolver configuration, the trust stores, signals).
//!
//! A leaf module: it uses nothing of the crate, so every layer may call it.

/// The machine's name, for the report's `hostname` (what `fleet` tells hosts apart by).
///
/// - Linux: `/proc/sys/kernel/hostname` (the UTS namespace's name: a container's own), then
///   `/etc/hostname`.
/// - macOS and the other Unixes: `uname(2)`'s node name (macOS has no /etc/hostname).
/// - Windows: `COMPUTERNAME`, set for every process by Windows.
///
/// Then `HOSTNAME` if exported, else "unknown". Capped at 255 bytes (a DNS name's limit), no
/// control characters.
pub fn hostname() -> String {
    let found = from_files()
        .or_else(from_system)
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| clean(&s))
        .filter(|s| !s.is_empty());
    found.unwrap_or_else(|| "unknown".into())
}

fn from_files() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| {
            // A name is at most 64 bytes on Linux; read no more than a page of either file.
            use std::io::Read;
            let mut text = String::new();
            std::fs::File::open(p)
                .ok()?
                .take(4096)
                .read_to_string(&mut text)
                .ok()?;
            Some(clean(&text)).filter(|s| !s.is_empty())
        })
}

#[cfg(unix)]
fn from_system() -> Option<String> {
    let uts = rustix::system::uname();
    Some(uts.nodename().to_string_lossy().into_owned())
}

#[cfg(windows)]
fn from_system() -> Option<String> {
    std::env::var("COMPUTERNAME").ok()
}

#[cfg(not(any(unix, windows)))]
fn from_system() -> Option<String> {
    None
}

fn clean(s: &str) -> String {
    let s: String = s.trim().chars().filter(|c| !c.is_control()).collect();
    let mut end = s.len().min(255);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// How many file descriptors this process may open, after raising the soft limit towards `need`
/// (never above the hard limit; a refusal leaves it as it was). `None`: no such limit.
///
/// - Linux and macOS: `RLIMIT_NOFILE`. macOS starts processes at a soft limit of 256 and refuses
///   a soft limit above `kern.maxfilesperproc` even when the hard limit says unlimited; the
///   refusal is harmless here (the old limit stays and is what we report).
/// - Windows: sockets are kernel handles with no per-process limit of this kind: `None`.
#[cfg(unix)]
pub fn open_files_limit(need: u64) -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let soft = limit.current.unwrap_or(u64::MAX);
    if soft < need {
        let raised = limit.maximum.map_or(need, |hard| hard.min(need));
        if raised > soft {
            // Refused (e.g. above the system's maximum): the soft limit stays as it is.
            let _ = setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(raised),
                    maximum: limit.maximum,
                },
            );
        }
    }
    getrlimit(Resource::Nofile).current
}

#[cfg(not(unix))]
pub fn open_files_limit(_need: u64) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_this_machines_name() {
        let name = hostname();
        assert!(!name.is_empty() && name.len() <= 255);
        assert!(!name.chars().any(char::is_control), "{name:?}");
        #[cfg(unix)]
        assert_eq!(
            name,
            clean(&rustix::system::uname().nodename().to_string_lossy()),
            "the files and uname(2) agree on Linux; uname is the answer elsewhere"
        );
    }

    #[test]
    fn a_hostile_name_is_cut_and_stripped() {
        assert_eq!(clean(" web\u{1b}[31m-7\n"), "web[31m-7");
        let long = "é".repeat(200);
        let cut = clean(&long);
        assert!(cut.len() <= 255 && cut.chars().all(|c| c == 'é'));
    }

    #[cfg(unix)]
    #[test]
    fn the_open_files_limit_is_raised_towards_what_is_needed_within_the_hard_limit() {
        use rustix::process::{getrlimit, Resource};
        let hard = getrlimit(Resource::Nofile).maximum;
        let got = open_files_limit(256).expect("a limit on Unix");
        assert!(got >= 256.min(hard.unwrap_or(u64::MAX)), "{got}");
        assert_eq!(Some(got), getrlimit(Resource::Nofile).current);
    }
}
