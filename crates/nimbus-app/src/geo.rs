//! Coarse geo-location of delivery views (privacy F13): the country of a client's address,
//! from the operator's optional MaxMind-format database (GeoLite2 Country or any database
//! with `country.iso_code`). The address is used for the lookup in memory and forgotten;
//! only the country is counted.

use std::net::IpAddr;
use std::path::Path;

/// What a view's country is counted as when the database does not know the address.
pub const UNKNOWN: &str = "unknown";

/// A geo database, read whole into memory.
pub struct Geo {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for Geo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Geo").field("database_type", &self.reader.metadata().database_type).finish()
    }
}

impl Geo {
    /// Reads a database file (blocking: call it before serving, or off the async threads).
    pub fn open(path: &Path) -> Result<Self, String> {
        let reader = maxminddb::Reader::open_readfile(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self { reader })
    }

    /// A database held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        Ok(Self { reader: maxminddb::Reader::from_source(bytes).map_err(|e| e.to_string())? })
    }

    /// The ISO 3166-1 alpha-2 code of the address's country, or [`UNKNOWN`]. IPv4-mapped
    /// IPv6 addresses are looked up as IPv4.
    pub fn country(&self, ip: IpAddr) -> String {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let code: Option<String> = self.reader.lookup(ip).ok().and_then(|r| {
            r.decode_path(&[maxminddb::PathElement::Key("country"), maxminddb::PathElement::Key("iso_code")])
                .ok()
                .flatten()
        });
        match code {
            Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => c.to_ascii_uppercase(),
            _ => UNKNOWN.to_owned(),
        }
    }
}
