//! Trusted proxies: the IP addresses and CIDR ranges of `trusted_proxies`, and whether a
//! peer is one of them. Only a trusted peer's `Forwarded` and `X-Forwarded-*` headers are
//! believed (see [`crate::http::base`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP address range: `net` with its first `prefix` bits significant (the other bits are
/// zero). A single address is a range of one (`/32` or `/128`). An IPv4-mapped IPv6 range
/// (`::ffff:10.0.0.0/104`) is kept as the IPv4 range it maps (`10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    net: IpAddr,
    prefix: u8,
}

/// Why a `trusted_proxies` entry is not an address or a range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpRangeError {
    /// The address part does not parse.
    #[error("{0:?} is not an IP address or CIDR range (such as 10.0.0.0/8 or ::1/128)")]
    Syntax(String),
    /// The prefix length is not a number within the family's width.
    #[error("{entry:?}: the prefix length must be a number from 0 to {max}")]
    Prefix {
        /// The entry.
        entry: String,
        /// 32 or 128.
        max: u8,
    },
    /// Bits after the prefix are set, which is most often a typo.
    #[error("{entry:?} has bits set after its prefix length; did you mean {suggested}?")]
    HostBits {
        /// The entry.
        entry: String,
        /// The range with those bits cleared.
        suggested: IpRange,
    },
}

impl IpRange {
    /// Whether `ip` is in the range. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, which
    /// a dual-stack listener reports for IPv4 clients) is treated as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask_v4(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask_v6(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// The first `prefix` bits set (`prefix` ≤ 32).
fn mask_v4(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

/// The first `prefix` bits set (`prefix` ≤ 128).
fn mask_v6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl FromStr for IpRange {
    type Err = IpRangeError;

    /// Parses `ADDR` or `ADDR/PREFIX`, IPv4 or IPv6.
    fn from_str(entry: &str) -> Result<IpRange, IpRangeError> {
        let (addr, prefix) = match entry.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (entry, None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| IpRangeError::Syntax(entry.to_string()))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|n| p.bytes().all(|b| b.is_ascii_digit()) && *n <= max)
                .ok_or_else(|| IpRangeError::Prefix {
                    entry: entry.to_string(),
                    max,
                })?,
        };
        let cleared = match net {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask_v4(prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask_v6(prefix))),
        };
        let range = IpRange {
            net: cleared,
            prefix,
        };
        if cleared != net {
            return Err(IpRangeError::HostBits {
                entry: entry.to_string(),
                suggested: range,
            });
        }
        // An IPv4-mapped range is the IPv4 range it maps, so that it matches IPv4 peers.
        if let IpAddr::V6(a) = net {
            if let (Some(v4), true) = (a.to_ipv4_mapped(), prefix >= 96) {
                return Ok(IpRange {
                    net: IpAddr::V4(v4),
                    prefix: prefix - 96,
                });
            }
        }
        Ok(range)
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> IpRange {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_ranges() {
        let r = range("10.0.0.0/8");
        assert!(r.contains(ip("10.0.0.1")));
        assert!(r.contains(ip("10.255.255.255")));
        assert!(!r.contains(ip("11.0.0.0")));
        assert!(!r.contains(ip("9.255.255.255")));
        let one = range("192.168.1.7/32");
        assert!(one.contains(ip("192.168.1.7")));
        assert!(!one.contains(ip("192.168.1.8")));
        assert_eq!(range("192.168.1.7"), one);
        let all = range("0.0.0.0/0");
        assert!(all.contains(ip("1.2.3.4")) && all.contains(ip("255.255.255.255")));
        assert!(!all.contains(ip("::1")), "an IPv4 range holds no IPv6 peer");
        assert!(range("172.16.0.0/12").contains(ip("172.31.0.1")));
        assert!(!range("172.16.0.0/12").contains(ip("172.32.0.1")));
    }

    #[test]
    fn ipv6_ranges() {
        let lo = range("::1/128");
        assert!(lo.contains(ip("::1")));
        assert!(!lo.contains(ip("::2")));
        assert_eq!(range("::1"), lo);
        let r = range("2001:db8::/32");
        assert!(r.contains(ip("2001:db8:ffff::1")));
        assert!(!r.contains(ip("2001:db9::1")));
        let all = range("::/0");
        assert!(all.contains(ip("fe80::1")));
        assert!(
            !all.contains(ip("127.0.0.1")),
            "an IPv6 range holds no IPv4 peer"
        );
        assert!(range("fc00::/7").contains(ip("fdff::1")));
        assert!(!range("fc00::/7").contains(ip("fe00::1")));
    }

    #[test]
    fn ipv4_mapped_peers_and_ranges_are_ipv4() {
        // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
        assert!(range("10.0.0.0/8").contains(ip("::ffff:10.0.0.1")));
        assert!(range("127.0.0.1").contains(ip("::ffff:127.0.0.1")));
        assert!(!range("10.0.0.0/8").contains(ip("::ffff:11.0.0.1")));
        assert_eq!(range("::ffff:10.0.0.0/104"), range("10.0.0.0/8"));
        assert!(range("::ffff:10.0.0.0/104").contains(ip("10.1.2.3")));
        assert!(range("::ffff:10.0.0.0/104").contains(ip("::ffff:10.1.2.3")));
        assert_eq!(range("::ffff:127.0.0.1"), range("127.0.0.1/32"));
    }

    #[test]
    fn bad_entries_are_refused_with_the_reason() {
        for bad in [
            "",
            "localhost",
            "10.0.0",
            "10.0.0.256",
            "/8",
            " 10.0.0.1",
            "::g",
        ] {
            assert!(
                matches!(bad.parse::<IpRange>(), Err(IpRangeError::Syntax(_))),
                "{bad:?}"
            );
        }
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/x",
            "::/-1",
        ] {
            assert!(
                matches!(bad.parse::<IpRange>(), Err(IpRangeError::Prefix { .. })),
                "{bad:?}"
            );
        }
        let e = "10.1.2.3/8".parse::<IpRange>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"10.1.2.3/8\" has bits set after its prefix length; did you mean 10.0.0.0/8?"
        );
        assert!("2001:db8::1/32".parse::<IpRange>().is_err());
        assert_eq!(
            "fd00::/7".parse::<IpRange>(),
            Err(IpRangeError::HostBits {
                entry: "fd00::/7".into(),
                suggested: range("fc00::/7")
            })
        );
        assert_eq!(
            "10.0.0.300".parse::<IpRange>().unwrap_err().to_string(),
            "\"10.0.0.300\" is not an IP address or CIDR range (such as 10.0.0.0/8 or ::1/128)"
        );
    }
}
