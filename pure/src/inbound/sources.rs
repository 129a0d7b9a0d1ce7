//! Which addresses may send deliveries (`ALLOWED_SOURCE_CIDRS`): IPv4 and IPv6 ranges, checked
//! at cold start, matched against the address the Function URL saw.

use std::net::IpAddr;

/// One range: a network address and how many leading bits must match.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Range {
    network: IpAddr,
    prefix: u32,
}

/// The ranges a delivery may come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceAllowlist {
    ranges: Vec<Range>,
}

impl SourceAllowlist {
    /// A comma-separated list of `address/prefix` (or a bare address, a range of one); the error
    /// names the entry that is not one.
    pub fn parse(list: &str) -> Result<Self, String> {
        let ranges = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| range(entry).ok_or_else(|| entry.to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SourceAllowlist { ranges })
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether `source` (as the request context gives it) is inside a range. An address that
    /// does not parse is outside every range.
    pub fn allows(&self, source: &str) -> bool {
        let Ok(source) = source.trim().parse::<IpAddr>() else {
            return false;
        };
        self.ranges.iter().any(|range| range.contains(source))
    }
}

fn range(entry: &str) -> Option<Range> {
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (entry, None),
    };
    let network: IpAddr = address.trim().parse().ok()?;
    let bits = if network.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(prefix) => prefix.trim().parse::<u32>().ok().filter(|p| *p <= bits)?,
        None => bits,
    };
    Some(Range { network, prefix })
}

impl Range {
    fn contains(&self, address: IpAddr) -> bool {
        let (network, address, bits) = match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => (
                u128::from(u32::from(network)),
                u128::from(u32::from(address)),
                32,
            ),
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                (u128::from(network), u128::from(address), 128)
            }
            _ => return false,
        };
        if self.prefix == 0 {
            return true;
        }
        let shift = bits - self.prefix;
        network >> shift == address >> shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_inside_a_range_are_allowed() {
        let list = SourceAllowlist::parse("44.242.69.192/32, 10.0.0.0/8,2600:1f18::/32").unwrap();
        assert_eq!(list.len(), 3);
        for inside in ["44.242.69.192", "10.255.1.2", "2600:1f18:abcd::1"] {
            assert!(list.allows(inside), "{inside}");
        }
        for outside in [
            "44.242.69.193",
            "11.0.0.1",
            "2600:1f19::1",
            "",
            "not an ip",
            "::ffff:10.0.0.1",
        ] {
            assert!(!list.allows(outside), "{outside}");
        }
        assert!(SourceAllowlist::parse("0.0.0.0/0")
            .unwrap()
            .allows("203.0.113.9"));
        assert!(SourceAllowlist::parse("203.0.113.9")
            .unwrap()
            .allows("203.0.113.9"));
    }

    #[test]
    fn a_bad_entry_is_named() {
        for (list, bad) in [
            ("10.0.0.0/8,10.0.0.0/33", "10.0.0.0/33"),
            ("example.com", "example.com"),
            ("10.0.0.1/x", "10.0.0.1/x"),
            ("::/129", "::/129"),
        ] {
            assert_eq!(SourceAllowlist::parse(list).unwrap_err(), bad);
        }
    }
}
