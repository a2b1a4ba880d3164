//! Network namespaces for tests that need a network of their own (root only): one is created
//! with its loopback up and deleted when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether this process runs as root: the effective uid is the second field of the `Uid:` line
/// in /proc/self/status.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// A network namespace created by the test (loopback up) and deleted when dropped.
pub struct Netns {
    ip: PathBuf,
    pub name: String,
}

impl Netns {
    /// Creates `rp-<tag>-<pid>` with the `ip` tool at `ip`; panics when it cannot.
    pub fn new(ip: &Path, tag: &str) -> Netns {
        let name = format!("rp-{tag}-{}", std::process::id());
        let out = Command::new(ip)
            .args(["netns", "add", &name])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", ip.display()));
        assert!(
            out.status.success(),
            "ip netns add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ns = Netns {
            ip: ip.to_path_buf(),
            name,
        };
        assert!(
            ns.succeeds(&["ip", "link", "set", "lo", "up"]),
            "loopback up in {}",
            ns.name
        );
        ns
    }

    /// `ip netns exec <name> <program>`: a command run inside the namespace.
    pub fn exec(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(&self.ip);
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs `argv` inside the namespace; false when it cannot run or fails.
    pub fn succeeds(&self, argv: &[&str]) -> bool {
        self.exec(argv[0])
            .args(&argv[1..])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new(&self.ip)
            .args(["netns", "delete", &self.name])
            .output();
    }
}
