//! Who is on the other end of a connection: the peer's address, or, when the peer is one of
//! the operator's trusted proxies (`--trusted-proxies`), the address that proxy says it
//! forwarded for. Used to bound sign-in attempts per client; never stored, never logged.

use std::net::IpAddr;

pub use ipnet::IpNet;

/// The client's address: `peer` itself unless it is a trusted proxy; then the right-most
/// address of `X-Forwarded-For` that is not a trusted proxy (each proxy appends the address
/// it received the request from, so entries left of the first untrusted one are the client's
/// own claims and prove nothing). A malformed entry ends the walk at the last good address.
pub fn resolve(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer.map(canonical)?;
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let mut client = peer;
    for entry in forwarded_for.unwrap_or("").rsplit(',') {
        let Ok(ip) = entry.trim().parse::<IpAddr>().map(canonical) else { break };
        client = ip;
        if !is_trusted(ip, trusted) {
            break;
        }
    }
    Some(client)
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&ip))
}

/// An IPv4 address mapped into IPv6 (a dual-stack socket's view) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Parses `--trusted-proxies`: addresses or networks (`10.0.0.0/8`), separated by commas.
pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("not an IP address or network: {s}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = parse_trusted("10.0.0.0/8").unwrap();
        assert_eq!(resolve(Some(ip("203.0.113.9")), Some("198.51.100.1"), &trusted), Some(ip("203.0.113.9")));
        assert_eq!(resolve(Some(ip("203.0.113.9")), None, &[]), Some(ip("203.0.113.9")));
        assert_eq!(resolve(None, Some("198.51.100.1"), &trusted), None);
    }

    #[test]
    fn a_trusted_proxy_names_the_client_right_to_left() {
        let trusted = parse_trusted("10.0.0.0/8, 192.0.2.7").unwrap();
        // The client claims 1.2.3.4; the outer proxy (192.0.2.7) saw 198.51.100.1.
        let xff = "1.2.3.4, 198.51.100.1, 192.0.2.7";
        assert_eq!(resolve(Some(ip("10.1.2.3")), Some(xff), &trusted), Some(ip("198.51.100.1")));
        // Only trusted hops: the left-most one is as far as the chain goes.
        assert_eq!(resolve(Some(ip("10.1.2.3")), Some("192.0.2.7"), &trusted), Some(ip("192.0.2.7")));
        // No header: the proxy itself.
        assert_eq!(resolve(Some(ip("10.1.2.3")), None, &trusted), Some(ip("10.1.2.3")));
        // Garbage stops the walk at the last good hop.
        assert_eq!(resolve(Some(ip("10.1.2.3")), Some("x, 10.9.9.9"), &trusted), Some(ip("10.9.9.9")));
    }

    #[test]
    fn mapped_addresses_are_their_ipv4_selves() {
        let trusted = parse_trusted("127.0.0.1").unwrap();
        assert_eq!(resolve(Some(ip("::ffff:127.0.0.1")), Some("203.0.113.5"), &trusted), Some(ip("203.0.113.5")));
    }

    #[test]
    fn bad_lists_are_refused_by_entry() {
        assert_eq!(parse_trusted("10.0.0.0/8, nope").unwrap_err(), "not an IP address or network: nope");
        assert!(parse_trusted("").unwrap().is_empty());
    }
}
