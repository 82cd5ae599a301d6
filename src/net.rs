//! Which address a request came from, behind the proxies an operator
//! trusts.
//!
//! The per-address limits (quiz answers, failed sign-ins) need the
//! visitor's address. Behind a load balancer the TCP peer is the balancer,
//! so every visitor would share one limit; the balancer names the visitor
//! in `X-Forwarded-For` instead. That header is only believed when it
//! comes from a trusted proxy, as anyone can send one.

use std::net::IpAddr;
use std::str::FromStr;

/// Addresses and networks (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`) whose
/// `X-Forwarded-For` is believed. Empty: the peer is always the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => prefix_matches(
                u32::from(base).into(),
                u32::from(ip).into(),
                self.prefix,
                32,
            ),
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                prefix_matches(u128::from(base), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn prefix_matches(base: u128, ip: u128, prefix: u8, bits: u32) -> bool {
    let host_bits = bits - u32::from(prefix);
    host_bits >= bits || (base >> host_bits) == (ip >> host_bits)
}

/// An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list; an empty string trusts no one.
    fn from_str(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|item| {
                let (addr, prefix) = match item.split_once('/') {
                    Some((addr, prefix)) => (addr, Some(prefix)),
                    None => (item, None),
                };
                let base = canonical(addr.parse::<IpAddr>().map_err(|_| {
                    format!("{item:?} is not an IP address or network such as 10.0.0.0/8")
                })?);
                let bits = if base.is_ipv4() { 32 } else { 128 };
                let prefix = match prefix {
                    None => bits,
                    Some(p) => p.parse::<u8>().ok().filter(|p| *p <= bits).ok_or_else(|| {
                        format!("{item:?}: the prefix length must be 0 to {bits}")
                    })?,
                };
                Ok(Network { base, prefix })
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client behind `peer`: each trusted proxy appends the address it
    /// heard from to `X-Forwarded-For` (`forwarded`, every such header in
    /// order), so reading right to left, the first address not trusted is
    /// the client. What an untrusted hop wrote is never read, and a part
    /// that is not an address stops the walk at the proxy that passed it.
    pub fn client(&self, peer: IpAddr, forwarded: &[&str]) -> IpAddr {
        let mut client = canonical(peer);
        let mut hops = forwarded.iter().rev().flat_map(|h| h.rsplit(','));
        while self.trusts(client) {
            match hops.next().and_then(forwarded_addr) {
                Some(ip) => client = canonical(ip),
                None => break,
            }
        }
        client
    }
}

/// One `X-Forwarded-For` part: an address, possibly with a port
/// (`203.0.113.9:4711`, `[2001:db8::1]:4711`).
fn forwarded_addr(part: &str) -> Option<IpAddr> {
    let part = part.trim();
    if let Ok(ip) = part.parse() {
        return Some(ip);
    }
    if let Some(rest) = part.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    part.parse::<std::net::SocketAddrV4>()
        .ok()
        .map(|s| IpAddr::V4(*s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn no_trusted_proxy_means_the_peer_whatever_the_header_says() {
        let none = TrustedProxies::default();
        assert!(none.is_empty());
        assert_eq!(
            none.client(ip("10.0.0.2"), &["203.0.113.9"]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let lb: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            lb.client(ip("10.1.2.3"), &["203.0.113.9"]),
            ip("203.0.113.9")
        );
        // No header: the proxy itself.
        assert_eq!(lb.client(ip("10.1.2.3"), &[]), ip("10.1.2.3"));
        // A direct visitor cannot pretend to be someone else.
        assert_eq!(
            lb.client(ip("198.51.100.7"), &["203.0.113.9"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn addresses_the_client_wrote_itself_are_not_believed() {
        let lb: TrustedProxies = "10.0.0.1, 10.0.0.2".parse().unwrap();
        // The client sent "1.1.1.1"; the first proxy appended the client's
        // real address, the second the first proxy's.
        let chain = ["1.1.1.1, 198.51.100.7, 10.0.0.1"];
        assert_eq!(lb.client(ip("10.0.0.2"), &chain), ip("198.51.100.7"));
        // Split over several header lines, read in order.
        let lines = ["1.1.1.1", "198.51.100.7", "10.0.0.1"];
        assert_eq!(lb.client(ip("10.0.0.2"), &lines), ip("198.51.100.7"));
    }

    #[test]
    fn garbage_stops_at_the_proxy_that_passed_it() {
        let lb: TrustedProxies = "127.0.0.1".parse().unwrap();
        assert_eq!(lb.client(ip("127.0.0.1"), &["unknown"]), ip("127.0.0.1"));
        assert_eq!(lb.client(ip("127.0.0.1"), &[""]), ip("127.0.0.1"));
        assert_eq!(
            lb.client(ip("127.0.0.1"), &["203.0.113.9:4711"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            lb.client(ip("127.0.0.1"), &["[2001:db8::1]:4711"]),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn ipv4_mapped_peers_and_ipv6_networks_match() {
        let lb: TrustedProxies = "10.0.0.0/8,fd00::/8".parse().unwrap();
        assert_eq!(
            lb.client(ip("::ffff:10.0.0.5"), &["203.0.113.9"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            lb.client(ip("fd12::1"), &["2001:db8::7"]),
            ip("2001:db8::7")
        );
        assert_eq!(lb.client(ip("fe80::1"), &["2001:db8::7"]), ip("fe80::1"));
        let everyone: TrustedProxies = "0.0.0.0/0".parse().unwrap();
        assert_eq!(
            everyone.client(ip("192.0.2.1"), &["203.0.113.9"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn bad_lists_are_refused_with_the_item() {
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::default()));
        let err = "10.0.0.0/8, proxy.internal"
            .parse::<TrustedProxies>()
            .unwrap_err();
        assert!(
            err.contains("\"proxy.internal\" is not an IP address"),
            "{err}"
        );
        let err = "10.0.0.0/33".parse::<TrustedProxies>().unwrap_err();
        assert!(err.contains("0 to 32"), "{err}");
        let err = "fd00::/200".parse::<TrustedProxies>().unwrap_err();
        assert!(err.contains("0 to 128"), "{err}");
    }
}
