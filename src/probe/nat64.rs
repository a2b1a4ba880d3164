//! DNS64 / NAT64: the prefix a DNS64 resolver synthesises AAAA records in, learnt the way
//! RFC 7050 says — ask for the AAAA records of `ipv4only.arpa`, a name that has only the A
//! records 192.0.0.170 and 192.0.0.171: any AAAA answer is synthesised, and where those
//! addresses sit in it tells the prefix and its length (RFC 6052 §2.2).
//!
//! An IPv6-only host reaches github.com (which has no AAAA record, actions/runner#3138) only
//! through DNS64 + NAT64; the report labels such addresses "via NAT64" rather than taking them
//! for GitHub's own.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// The name whose AAAA records reveal the prefix (RFC 7050 §2).
pub const DISCOVERY_NAME: &str = "ipv4only.arpa";
/// Its only A records (RFC 7050 §2.2).
pub const WELL_KNOWN_V4: [Ipv4Addr; 2] =
    [Ipv4Addr::new(192, 0, 0, 170), Ipv4Addr::new(192, 0, 0, 171)];
/// The well-known prefix (RFC 6052 §2.1).
pub const WELL_KNOWN_PREFIX: (Ipv6Addr, u8) = (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96);

/// What asking `ipv4only.arpa` showed about DNS64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Dns64 {
    /// The resolver synthesises AAAA records in `prefix`/`len`.
    Prefix { prefix: Ipv6Addr, len: u8 },
    /// It answered without a synthesised AAAA: no DNS64.
    Absent,
}

impl Dns64 {
    /// Is `ip` a synthesised address (inside the prefix)?
    pub fn covers(&self, ip: IpAddr) -> bool {
        match self {
            Dns64::Prefix { prefix, len } => {
                crate::env::net::prefix_covers(IpAddr::V6(*prefix), *len, ip)
            }
            Dns64::Absent => false,
        }
    }
}

/// The prefix lengths RFC 6052 allows, longest first.
const LENGTHS: [u8; 6] = [96, 64, 56, 48, 40, 32];

/// The IPv4 address embedded in `a` under a prefix of `len` bits (RFC 6052 §2.2: bits 64–71
/// are the reserved "u" octet and carry nothing).
pub fn embedded_v4(a: Ipv6Addr, len: u8) -> Option<Ipv4Addr> {
    let b = a.octets();
    let idx: [usize; 4] = match len {
        32 => [4, 5, 6, 7],
        40 => [5, 6, 7, 9],
        48 => [6, 7, 9, 10],
        56 => [7, 9, 10, 11],
        64 => [9, 10, 11, 12],
        96 => [12, 13, 14, 15],
        _ => return None,
    };
    Some(Ipv4Addr::new(b[idx[0]], b[idx[1]], b[idx[2]], b[idx[3]]))
}

/// The DNS64 prefix shown by the AAAA answers of `ipv4only.arpa` (`Absent` when none carries a
/// well-known address).
pub fn learn(aaaa: &[Ipv6Addr]) -> Dns64 {
    for a in aaaa {
        for len in LENGTHS {
            // Under a prefix shorter than /96 the "u" octet must be zero.
            if len < 96 && a.octets()[8] != 0 {
                continue;
            }
            if embedded_v4(*a, len).is_some_and(|v4| WELL_KNOWN_V4.contains(&v4)) {
                let bits = u128::from(*a) & (u128::MAX << (128 - u32::from(len)));
                return Dns64::Prefix {
                    prefix: Ipv6Addr::from(bits),
                    len,
                };
            }
        }
    }
    Dns64::Absent
}

/// Is `ip` in the well-known prefix 64:ff9b::/96 (synthesised, whatever the resolver said)?
pub fn in_well_known(ip: IpAddr) -> bool {
    crate::env::net::prefix_covers(IpAddr::V6(WELL_KNOWN_PREFIX.0), WELL_KNOWN_PREFIX.1, ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn the_prefix_is_read_from_where_the_well_known_address_sits() {
        assert_eq!(
            learn(&[v6("64:ff9b::c000:aa"), v6("64:ff9b::c000:ab")]),
            Dns64::Prefix {
                prefix: v6("64:ff9b::"),
                len: 96
            }
        );
        // A network-specific /64: 192.0.0.170 in bytes 9..13, after the zero "u" octet.
        assert_eq!(
            learn(&[v6("2001:db8:122:344:c0:0:aa00:0")]),
            Dns64::Prefix {
                prefix: v6("2001:db8:122:344::"),
                len: 64
            }
        );
        // A /32 (bytes 4..8).
        assert_eq!(
            learn(&[v6("2001:db8:c000:aa::")]),
            Dns64::Prefix {
                prefix: v6("2001:db8::"),
                len: 32
            }
        );
        assert_eq!(learn(&[v6("2001:db8::1")]), Dns64::Absent);
        assert_eq!(learn(&[]), Dns64::Absent);
        let p = learn(&[v6("64:ff9b::c000:aa")]);
        assert!(p.covers("64:ff9b::8c52:7004".parse().unwrap()));
        assert!(!p.covers("2606:50c0::1".parse().unwrap()));
        assert!(!Dns64::Absent.covers("64:ff9b::1".parse().unwrap()));
        assert!(in_well_known("64:ff9b::c000:201".parse().unwrap()));
    }
}
