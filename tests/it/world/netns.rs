//! Network namespaces for tests that need a network of their own (root only): one is created
//! with its loopback up and deleted when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether namespace tests can run here: root, and every tool of `tools` on the PATH (or in
/// /usr/sbin, /sbin). Otherwise a notice and `false` — except under `CI=true`, where a missing
/// tool or missing root fails the test (.ci/run installs them and runs as root).
pub fn namespaces_available(tools: &[&str]) -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            !path
                .split(':')
                .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
                .any(|d| Path::new(d).join(t).is_file())
        })
        .collect();
    let why = if !is_root() {
        "creating a network namespace needs root".to_string()
    } else if !missing.is_empty() {
        format!("not installed: {}", missing.join(", "))
    } else {
        return true;
    };
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "{why}, and CI=true: namespace tests must run in CI (.ci/run installs iproute2 and nftables and runs as root)"
    );
    eprintln!("skipped: {why} (this test fails under CI=true)");
    false
}

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

    /// Runs every `ip`/`nft` command line of `lines` inside the namespace (split on spaces;
    /// `nft` rules are given whole); panics naming the first that fails.
    pub fn run_all(&self, lines: &[&str]) {
        for line in lines {
            let argv: Vec<&str> = match line.strip_prefix("nft ") {
                Some(rule) => vec!["nft", rule],
                None => line.split(' ').collect(),
            };
            let out = self
                .exec(argv[0])
                .args(&argv[1..])
                .output()
                .unwrap_or_else(|e| panic!("run {line} in {}: {e}", self.name));
            assert!(
                out.status.success(),
                "{line} in {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// A TCP listener bound to `addr` inside the namespace: a thread enters the namespace
    /// (setns), binds, and the socket stays in the namespace wherever it is used from.
    pub fn listen(&self, addr: std::net::SocketAddr) -> tokio::net::TcpListener {
        let l =
            self.inside(move || std::net::TcpListener::bind(addr).expect("bind in the namespace"));
        l.set_nonblocking(true).expect("non-blocking listener");
        tokio::net::TcpListener::from_std(l).expect("tokio listener")
    }

    /// A UDP socket and a TCP listener on one port of 127.0.0.1 inside the namespace (for a DNS
    /// server there).
    pub fn udp_and_tcp(&self) -> (tokio::net::UdpSocket, tokio::net::TcpListener) {
        let (u, t) = self.inside(|| {
            let u = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp in the namespace");
            let t = std::net::TcpListener::bind(u.local_addr().expect("udp address"))
                .expect("bind tcp in the namespace");
            (u, t)
        });
        u.set_nonblocking(true).expect("non-blocking udp");
        t.set_nonblocking(true).expect("non-blocking tcp");
        (
            tokio::net::UdpSocket::from_std(u).expect("tokio udp"),
            tokio::net::TcpListener::from_std(t).expect("tokio listener"),
        )
    }

    /// Runs `f` on a thread that has entered the namespace (setns): the sockets it makes belong
    /// to the namespace wherever they are used from.
    fn inside<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = Path::new("/run/netns").join(&self.name);
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path)
                .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
            rustix::thread::move_into_link_name_space(
                std::os::fd::AsFd::as_fd(&ns),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .expect("setns into the test's namespace");
            f()
        })
        .join()
        .expect("namespace thread")
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
