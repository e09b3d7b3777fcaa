//! A tiny MaxMind-format (MMDB) country database, written here for tests: IPv4 networks, each
//! with `{"country": {"iso_code": CODE}}`. The format: a binary search tree of 24-bit
//! records, 16 zero bytes, the data section, then `\xAB\xCD\xEFMaxMind.com` and the metadata
//! map (see MaxMind's "MaxMind DB File Format Specification").

use std::net::Ipv4Addr;

fn control(kind: u8, size: usize) -> Vec<u8> {
    assert!(size < 29, "short sizes only");
    if kind <= 7 { vec![(kind << 5) | size as u8] } else { vec![size as u8, kind - 7] }
}

fn string(s: &str) -> Vec<u8> {
    let mut out = control(2, s.len());
    out.extend(s.as_bytes());
    out
}

/// An unsigned integer of type `kind` (5: 16 bits, 6: 32 bits, 9: 64 bits), minimal bytes.
fn uint(kind: u8, v: u64) -> Vec<u8> {
    let bytes: Vec<u8> = v.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
    let mut out = control(kind, bytes.len());
    out.extend(bytes);
    out
}

fn map(pairs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = control(7, pairs.len());
    for (k, v) in pairs {
        out.extend(string(k));
        out.extend(v);
    }
    out
}

/// A database mapping each `(network, prefix length)` to its ISO country code.
pub fn country_db(networks: &[(Ipv4Addr, u8, &str)]) -> Vec<u8> {
    // Nodes: one per bit of each network's prefix, shared where prefixes agree.
    const EMPTY: u32 = u32::MAX;
    let mut nodes: Vec<[u32; 2]> = vec![[EMPTY, EMPTY]];
    let mut data = Vec::new();
    let mut leaves: Vec<(usize, usize, usize)> = Vec::new();
    for (net, len, code) in networks {
        let offset = data.len();
        data.extend(map(&[("country", map(&[("iso_code", string(code))]))]));
        let bits = u32::from(*net);
        let mut node = 0usize;
        for i in 0..usize::from(*len) {
            let bit = ((bits >> (31 - i)) & 1) as usize;
            if i + 1 == usize::from(*len) {
                leaves.push((node, bit, offset));
            } else {
                if nodes[node][bit] == EMPTY {
                    nodes.push([EMPTY, EMPTY]);
                    nodes[node][bit] = (nodes.len() - 1) as u32;
                }
                node = nodes[node][bit] as usize;
            }
        }
    }
    let count = nodes.len() as u32;
    for (node, bit, offset) in leaves {
        nodes[node][bit] = count + 16 + offset as u32;
    }
    let mut out = Vec::new();
    for n in &nodes {
        for r in n {
            let v = if *r == EMPTY { count } else { *r };
            out.extend(&v.to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(data);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    out.extend(map(&[
        ("node_count", uint(6, u64::from(count))),
        ("record_size", uint(5, 24)),
        ("ip_version", uint(5, 4)),
        ("database_type", string("Nimbus-Test-Country")),
        ("languages", control(11, 0)),
        ("binary_format_major_version", uint(5, 2)),
        ("binary_format_minor_version", uint(5, 0)),
        ("build_epoch", uint(9, 1_700_000_000)),
        ("description", map(&[])),
    ]));
    out
}
