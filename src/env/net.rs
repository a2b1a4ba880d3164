//! This host's interfaces and routes, read the way `ip link` and `ip route` show them, from
//! `/sys/class/net` and `/proc/net/{route,ipv6_route}` (Linux; elsewhere the tables are empty and
//! everything that depends on them says "unknown"). Read once at start, as the rest of the
//! environment: the path checks (the outgoing interface of a connection and its MTU, whether a
//! family has a route at all) look them up here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::Family;

/// `/proc/net/route` and friends are small; a table beyond this is not a host's routing table.
const ROUTE_FILE_LIMIT: u64 = 4 << 20;
/// At most this many interfaces are read (a host with more is a router, not a runner).
const MAX_INTERFACES: usize = 4096;

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub name: String,
    /// Its MTU (`/sys/class/net/NAME/mtu`).
    pub mtu: Option<u32>,
    /// A bridge (`/sys/class/net/NAME/bridge` exists).
    #[serde(default)]
    pub bridge: bool,
}

/// One route of the main table (IPv4) or of any table (IPv6, as `/proc` shows them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    pub destination: IpAddr,
    pub prefix_len: u8,
    pub gateway: Option<IpAddr>,
    pub interface: String,
}

impl RouteEntry {
    /// Does this route cover `ip`?
    pub fn covers(&self, ip: IpAddr) -> bool {
        prefix_covers(self.destination, self.prefix_len, ip)
    }
}

/// Does `net/len` cover `ip` (of the same family)?
pub fn prefix_covers(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let len = u32::from(len.min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let len = u32::from(len.min(128));
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// The interfaces and routes of this host (its network namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub interfaces: Vec<Interface>,
    pub routes: Vec<RouteEntry>,
}

impl Network {
    /// Read from `/sys` and `/proc`; what cannot be read is left out.
    pub fn load() -> Network {
        Network::load_from(Path::new("/sys/class/net"), Path::new("/proc/net"))
    }

    /// Read from the given `sys/class/net` and `proc/net` directories.
    pub fn load_from(sys_class_net: &Path, proc_net: &Path) -> Network {
        let mut interfaces = Vec::new();
        if let Ok(dir) = std::fs::read_dir(sys_class_net) {
            for e in dir.flatten().take(MAX_INTERFACES) {
                let name = e.file_name().to_string_lossy().into_owned();
                let path = e.path();
                interfaces.push(Interface {
                    mtu: crate::textfile::read_text(&path.join("mtu"), 64, "an interface MTU")
                        .ok()
                        .and_then(|s| s.trim().parse().ok()),
                    bridge: path.join("bridge").is_dir(),
                    name: crate::model::text::printable(&name),
                });
            }
        }
        interfaces.sort_by(|a, b| a.name.cmp(&b.name));
        let read = |f: &str| {
            crate::textfile::read_text(&proc_net.join(f), ROUTE_FILE_LIMIT, "a routing table")
                .unwrap_or_default()
        };
        let mut routes = parse_route_v4(&read("route"));
        routes.extend(parse_route_v6(&read("ipv6_route")));
        Network { interfaces, routes }
    }

    /// The route a connection to `ip` takes (the longest prefix covering it); a loopback
    /// address leaves by `lo`, whose routes live in the local table `/proc` does not show.
    pub fn route_to(&self, ip: IpAddr) -> Option<RouteEntry> {
        if ip.is_loopback() && self.interface("lo").is_some() {
            return Some(RouteEntry {
                destination: ip,
                prefix_len: if ip.is_ipv4() { 8 } else { 128 },
                gateway: None,
                interface: "lo".to_string(),
            });
        }
        self.routes
            .iter()
            .filter(|r| r.covers(ip))
            .max_by_key(|r| r.prefix_len)
            .cloned()
    }

    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }

    /// The MTU of the interface a connection to `ip` leaves by, with its name.
    pub fn outgoing(&self, ip: IpAddr) -> Option<(String, Option<u32>)> {
        let r = self.route_to(ip)?;
        let mtu = self.interface(&r.interface).and_then(|i| i.mtu);
        Some((r.interface, mtu))
    }

    /// Was anything read at all? (Not on other systems than Linux, or without `/proc`.)
    pub fn known(&self) -> bool {
        !self.interfaces.is_empty()
    }

    /// Does this host have a route to `family`'s internet (a default route, or any route that
    /// is neither loopback, link-local nor multicast)? `None` when the tables were not read.
    pub fn has_route(&self, family: Family) -> Option<bool> {
        if !self.known() {
            return None;
        }
        Some(self.routes.iter().any(|r| {
            Family::of(&r.destination) == family
                && !r.destination.is_loopback()
                && !r.destination.is_multicast()
                && !matches!(r.destination, IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80)
                && r.interface != "lo"
        }))
    }
}

const RTF_UP: u32 = 0x0001;
const RTF_REJECT: u32 = 0x0200;

/// `/proc/net/route`: `Iface Destination Gateway Flags RefCnt Use Metric Mask …`, addresses as
/// the kernel's 32-bit words in hex (network byte order read as a native integer).
fn parse_route_v4(text: &str) -> Vec<RouteEntry> {
    let word = |h: &str| {
        u32::from_str_radix(h, 16)
            .ok()
            .map(|v| Ipv4Addr::from(v.to_ne_bytes()))
    };
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [iface, dest, gw, flags, _, _, _, mask, ..] = f.as_slice() else {
            continue;
        };
        let (Some(dest), Some(gw), Some(mask), Ok(flags)) = (
            word(dest),
            word(gw),
            word(mask),
            u32::from_str_radix(flags, 16),
        ) else {
            continue;
        };
        if flags & RTF_UP == 0 || flags & RTF_REJECT != 0 {
            continue;
        }
        out.push(RouteEntry {
            destination: IpAddr::V4(dest),
            prefix_len: u32::from(mask).count_ones() as u8,
            gateway: (!gw.is_unspecified()).then_some(IpAddr::V4(gw)),
            interface: crate::model::text::printable(iface),
        });
    }
    out
}

/// `/proc/net/ipv6_route`: `dest prefix src src_prefix next_hop metric refcnt use flags iface`,
/// addresses as 32 hex digits.
fn parse_route_v6(text: &str) -> Vec<RouteEntry> {
    let addr = |h: &str| u128::from_str_radix(h, 16).ok().map(Ipv6Addr::from);
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [dest, len, _, _, hop, _, _, _, flags, iface] = f.as_slice() else {
            continue;
        };
        let (Some(dest), Ok(len), Some(hop), Ok(flags)) = (
            addr(dest),
            u8::from_str_radix(len, 16),
            addr(hop),
            u32::from_str_radix(flags, 16),
        ) else {
            continue;
        };
        if flags & RTF_UP == 0 || flags & RTF_REJECT != 0 || len > 128 {
            continue;
        }
        out.push(RouteEntry {
            destination: IpAddr::V6(dest),
            prefix_len: len,
            gateway: (!hop.is_unspecified()).then_some(IpAddr::V6(hop)),
            interface: crate::model::text::printable(iface),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
        eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
        eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n\
        eth0\t000012AC\t00000000\t0201\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
    const ROUTE6: &str = "20010db8000000000000000000000000 20 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n\
        00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo\n\
        00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001 lo\n";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn routes_are_read_as_ip_route_shows_them() {
        let v4 = parse_route_v4(ROUTE);
        // The reject route (flags 0x0200) is no way out.
        assert_eq!(v4.len(), 2, "{v4:?}");
        if cfg!(target_endian = "little") {
            assert_eq!(v4[0].gateway, Some(ip("192.168.0.1")));
            assert_eq!(
                (v4[1].destination, v4[1].prefix_len),
                (ip("192.168.0.0"), 24)
            );
        }
        let v6 = parse_route_v6(ROUTE6);
        assert_eq!(v6.len(), 2, "{v6:?}");
        assert_eq!(
            (v6[0].destination, v6[0].prefix_len),
            (ip("2001:db8::"), 32)
        );
        let net = Network {
            interfaces: vec![
                Interface {
                    name: "eth0".into(),
                    mtu: Some(1400),
                    bridge: false,
                },
                Interface {
                    name: "lo".into(),
                    mtu: Some(65536),
                    bridge: false,
                },
            ],
            routes: v6,
        };
        assert_eq!(
            net.outgoing(ip("2001:db8::7")),
            Some(("eth0".into(), Some(1400)))
        );
        assert_eq!(
            net.outgoing(ip("127.0.0.1")),
            Some(("lo".into(), Some(65536)))
        );
        assert_eq!(net.route_to(ip("2001:db9::1")), None);
        assert_eq!(net.has_route(Family::Ipv6), Some(true));
        // No IPv4 route at all: only the loopback.
        assert_eq!(net.has_route(Family::Ipv4), Some(false));
        assert_eq!(Network::default().has_route(Family::Ipv4), None);
    }

    #[test]
    fn prefixes_cover_their_addresses_only() {
        assert!(prefix_covers(ip("10.0.0.0"), 8, ip("10.200.1.2")));
        assert!(!prefix_covers(ip("10.0.0.0"), 8, ip("11.0.0.1")));
        assert!(prefix_covers(ip("0.0.0.0"), 0, ip("192.0.2.1")));
        assert!(prefix_covers(ip("64:ff9b::"), 96, ip("64:ff9b::c000:201")));
        assert!(!prefix_covers(ip("64:ff9b::"), 96, ip("2001:db8::1")));
        assert!(!prefix_covers(ip("10.0.0.0"), 8, ip("::1")));
    }
}

/// The kernel's TCP keepalive timers (`net.ipv4.tcp_keepalive_*`, Linux): an idle connection
/// with keepalive on sends its first probe after `time_s`, then one every `intvl_s`, and gives up
/// after `probes` unanswered ones. A middlebox that forgets idle flows sooner than `time_s` cuts
/// connections that keepalives could otherwise have kept (issue 21, item 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keepalive {
    pub time_s: u64,
    pub intvl_s: u64,
    pub probes: u64,
}

impl Keepalive {
    /// Read from `/proc/sys/net/ipv4`; `None` where it is not there (not Linux) or unreadable.
    pub fn read() -> Option<Keepalive> {
        Self::read_from(Path::new("/proc/sys/net/ipv4"))
    }

    fn read_from(dir: &Path) -> Option<Keepalive> {
        let value = |name: &str| -> Option<u64> {
            let text = crate::textfile::read_text(&dir.join(name), 64, "sysctl value").ok()?;
            text.trim().parse().ok()
        };
        Some(Keepalive {
            time_s: value("tcp_keepalive_time")?,
            intvl_s: value("tcp_keepalive_intvl")?,
            probes: value("tcp_keepalive_probes")?,
        })
    }
}

#[cfg(test)]
mod keepalive_tests {
    use super::*;

    #[test]
    fn keepalive_timers_are_read_and_garbage_is_none() {
        let dir = tempfile::tempdir().unwrap();
        for (name, v) in [
            ("tcp_keepalive_time", "7200\n"),
            ("tcp_keepalive_intvl", "75\n"),
            ("tcp_keepalive_probes", "9\n"),
        ] {
            std::fs::write(dir.path().join(name), v).unwrap();
        }
        assert_eq!(
            Keepalive::read_from(dir.path()),
            Some(Keepalive {
                time_s: 7200,
                intvl_s: 75,
                probes: 9
            })
        );
        std::fs::write(dir.path().join("tcp_keepalive_probes"), "nine").unwrap();
        assert_eq!(Keepalive::read_from(dir.path()), None);
        assert_eq!(Keepalive::read_from(&dir.path().join("absent")), None);
    }
}
