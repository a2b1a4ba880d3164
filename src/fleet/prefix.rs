//! IP prefixes: the smallest one covering a set of addresses, and membership.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address prefix in CIDR notation, e.g. `10.2.0.0/16`; host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix {
    pub network: IpAddr,
    pub len: u8,
}

fn bits(a: IpAddr) -> (u128, u8) {
    match a {
        IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn mask(len: u8, width: u8) -> u128 {
    if len == 0 {
        0
    } else {
        let all = if width == 128 {
            u128::MAX
        } else {
            (1u128 << width) - 1
        };
        all & !((1u128 << (width - len)) - 1)
    }
}

impl Prefix {
    /// The smallest prefix holding every address; `None` for no address or mixed families.
    /// An IPv4-mapped IPv6 address counts as IPv4.
    pub fn covering(addresses: &[IpAddr]) -> Option<Prefix> {
        let addrs: Vec<IpAddr> = addresses.iter().map(|a| a.to_canonical()).collect();
        let first = *addrs.first()?;
        let (base, width) = bits(first);
        let mut differ = 0u128;
        for a in &addrs[1..] {
            let (b, w) = bits(*a);
            if w != width {
                return None;
            }
            differ |= base ^ b;
        }
        let len = if differ == 0 {
            width
        } else {
            (differ.leading_zeros() - (128 - width as u32)) as u8
        };
        let network = base & mask(len, width);
        let network = if width == 32 {
            IpAddr::V4(Ipv4Addr::from(network as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(network))
        };
        Some(Prefix { network, len })
    }

    /// Whether `a` is inside the prefix.
    pub fn contains(&self, a: IpAddr) -> bool {
        let (n, width) = bits(self.network);
        let (b, w) = bits(a.to_canonical());
        w == width && (b & mask(self.len, width)) == n
    }

    /// Long enough to say something about where hosts are: at least /8 for IPv4, /16 for IPv6.
    pub fn is_specific(&self) -> bool {
        match self.network {
            IpAddr::V4(_) => self.len >= 8,
            IpAddr::V6(_) => self.len >= 16,
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(v: &[&str]) -> Vec<IpAddr> {
        v.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn covering_prefixes() {
        let p = Prefix::covering(&ips(&["10.2.0.7", "10.2.3.9"])).unwrap();
        assert_eq!(p.to_string(), "10.2.0.0/22");
        assert!(p.contains("10.2.1.1".parse().unwrap()));
        assert!(!p.contains("10.1.0.5".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        assert_eq!(
            Prefix::covering(&ips(&["10.2.0.7"])).unwrap().to_string(),
            "10.2.0.7/32"
        );
        assert_eq!(
            Prefix::covering(&ips(&["10.0.0.1", "200.0.0.1"]))
                .unwrap()
                .to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(
            Prefix::covering(&ips(&["2001:db8:1::5", "2001:db8:1:ff::9"]))
                .unwrap()
                .to_string(),
            "2001:db8:1::/56"
        );
        assert_eq!(
            Prefix::covering(&ips(&["::ffff:10.2.0.7", "10.2.0.6"]))
                .unwrap()
                .to_string(),
            "10.2.0.6/31"
        );
        assert!(Prefix::covering(&ips(&["10.0.0.1", "::1"])).is_none());
        assert!(Prefix::covering(&[]).is_none());
        assert!(!Prefix::covering(&ips(&["10.0.0.1", "200.0.0.1"]))
            .unwrap()
            .is_specific());
    }
}
