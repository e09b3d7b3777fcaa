//! Cookieless delivery analytics (privacy F12): views and unique visitors of each delivered
//! asset per day, counted without a cookie and without storing an address. A visitor is a
//! hash of the day's random salt, the environment, the client's address and its browser
//! (HMAC-SHA256, 8 bytes kept), so the same visitor counts once a day and cannot be followed
//! from one day to the next. Salts live in the catalog (so every node makes the same hashes)
//! and go two days on with the day's hashes, when the day's count of unique visitors is made
//! final; from then on nobody can tell whose visits they were. Requests that carry `DNT: 1`
//! or `Sec-GPC: 1` are not counted at all (F15). With the operator's geo database, views
//! are also counted per country (F13; see [`crate::geo`]): the address is looked up and
//! forgotten. Counted in memory on each node and written with the usage counts every minute.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::App;
use crate::error::AppResult;
use crate::ports::{AssetViews, AssetVisitor, CountryViews};
use nimbus_core::timefmt::day_of;

/// Smallest number of unique visitors a report shows as a number; fewer show as `<5`, so a
/// row never singles out a handful of people (F18).
pub const K_ANONYMITY: i64 = 5;

/// One request to count: the asset delivered, and who asked (used for the hash, never kept).
pub struct Visit<'a> {
    pub asset_id: &'a str,
    pub client: IpAddr,
    pub user_agent: &'a str,
}

/// Views and visitor hashes per environment and day, then per asset, since the last flush
/// (an asset's id is copied once per flush, not once per view).
type Counts = HashMap<(i64, i64), HashMap<Box<str>, (i64, HashSet<i64>)>>;

/// The MAC keyed with one day's salt (cloned per view: the key is not set up again).
type DayKey = Option<(i64, Hmac<Sha256>)>;

/// Views per environment, day and country since the last flush.
type CountryCounts = HashMap<(i64, i64, String), i64>;

/// This node's counts since the last flush, and the salt of the day it is counting.
#[derive(Clone, Default)]
pub struct AnalyticsMeter {
    counts: Arc<Mutex<Counts>>,
    countries: Arc<Mutex<CountryCounts>>,
    key: Arc<Mutex<DayKey>>,
}

impl AnalyticsMeter {
    fn take(&self) -> (Counts, CountryCounts) {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let countries = std::mem::take(&mut *self.countries.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        (counts, countries)
    }

    fn key_of(&self, day: i64) -> Option<Hmac<Sha256>> {
        let k = self.key.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        k.as_ref().filter(|(d, _)| *d == day).map(|(_, mac)| mac.clone())
    }
}

/// The visitor hash: 8 bytes of HMAC-SHA256 keyed with the day's salt.
pub fn visitor(salt: &[u8], env_id: i64, client: IpAddr, user_agent: &str) -> i64 {
    visitor_with(keyed(salt), env_id, client, user_agent)
}

fn keyed(salt: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(salt).expect("any key length")
}

fn visitor_with(mut mac: Hmac<Sha256>, env_id: i64, client: IpAddr, user_agent: &str) -> i64 {
    mac.update(&env_id.to_be_bytes());
    match client {
        IpAddr::V4(v4) => mac.update(&v4.to_ipv6_mapped().octets()),
        IpAddr::V6(v6) => mac.update(&v6.octets()),
    }
    mac.update(user_agent.as_bytes());
    let bytes = mac.finalize().into_bytes();
    i64::from_be_bytes(bytes[..8].try_into().expect("32 bytes"))
}

/// A delivery request's privacy signals: `DNT: 1` or `Sec-GPC: 1` means "do not count me".
pub fn declines(dnt: Option<&[u8]>, gpc: Option<&[u8]>) -> bool {
    [dnt, gpc].into_iter().flatten().any(|v| v.trim_ascii() == b"1")
}

/// One asset's row of a day's report; visitors below [`K_ANONYMITY`] are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetDay {
    pub asset_id: String,
    pub public_id: Option<String>,
    pub views: i64,
    pub visitors: Option<i64>,
}

/// A day's views by country: countries with fewer than [`K_ANONYMITY`] views are counted
/// together as `other`, so a row never singles out a handful of people (F18).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountryDay {
    pub countries: Vec<(String, i64)>,
}

/// Merges the small buckets of `rows` (most views first) into `other`.
pub fn suppress_small(rows: Vec<(String, i64)>) -> Vec<(String, i64)> {
    let (mut shown, small): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, n)| *n >= K_ANONYMITY);
    let other: i64 = small.iter().map(|(_, n)| n).sum();
    if other > 0 {
        shown.push(("other".to_owned(), other));
    }
    shown
}

impl App {
    /// The salt of `day`, from this node's memory or the catalog (made there on first use).
    async fn analytics_key(&self, day: i64) -> AppResult<Hmac<Sha256>> {
        if let Some(k) = self.analytics.key_of(day) {
            return Ok(k);
        }
        let candidate: [u8; 16] = rand::random();
        let stored = self.catalog.analytics_salt(day, &hex::encode(candidate)).await?;
        let salt = hex::decode(&stored).map_err(|_| crate::AppError::Catalog("an analytics salt is not hex".into()))?;
        let mac = keyed(&salt);
        *self.analytics.key.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((day, mac.clone()));
        Ok(mac)
    }

    /// Counts one view, unless delivery analytics are off. The address is used for the hash
    /// and forgotten.
    pub(crate) async fn count_view(&self, env_id: i64, view: &Visit<'_>) -> AppResult<()> {
        if !self.config.delivery_analytics {
            return Ok(());
        }
        let day = day_of(self.now());
        let who = visitor_with(self.analytics_key(day).await?, env_id, view.client, view.user_agent);
        if let Some(geo) = &self.config.geo {
            let country = geo.country(view.client);
            let mut c = self.analytics.countries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *c.entry((env_id, day, country)).or_default() += 1;
        }
        let mut c = self.analytics.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let assets = c.entry((env_id, day)).or_default();
        let e = match assets.get_mut(view.asset_id) {
            Some(e) => e,
            None => assets.entry(view.asset_id.into()).or_default(),
        };
        e.0 += 1;
        e.1.insert(who);
        Ok(())
    }

    /// Adds this node's counts to the catalog (kept for the next flush if that fails).
    pub async fn flush_analytics(&self) -> AppResult<()> {
        let (counts, countries) = self.analytics.take();
        if counts.is_empty() && countries.is_empty() {
            return Ok(());
        }
        let by_country: Vec<CountryViews> = countries
            .iter()
            .map(|((env_id, day, country), views)| CountryViews {
                env_id: *env_id,
                day: *day,
                country: country.clone(),
                views: *views,
            })
            .collect();
        let mut views = Vec::new();
        let mut visitors = Vec::new();
        for ((env_id, day), assets) in &counts {
            for (asset_id, (n, seen)) in assets {
                views.push(AssetViews { env_id: *env_id, day: *day, asset_id: asset_id.to_string(), views: *n });
                visitors.extend(seen.iter().map(|v| AssetVisitor {
                    env_id: *env_id,
                    day: *day,
                    asset_id: asset_id.to_string(),
                    visitor: *v,
                }));
            }
        }
        if let Err(e) = self.catalog.add_delivery_views(&views, &visitors, &by_country).await {
            let mut c = self.analytics.countries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (k, n) in countries {
                *c.entry(k).or_default() += n;
            }
            drop(c);
            let mut c = self.analytics.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (k, assets) in counts {
                let into = c.entry(k).or_default();
                for (asset_id, (n, seen)) in assets {
                    let e = into.entry(asset_id).or_default();
                    e.0 += n;
                    e.1.extend(seen);
                }
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Makes final the unique-visitor counts of the days before yesterday and deletes their
    /// hashes and salts (the day's and the previous day's salts stay); run with the history
    /// pruning. Returns how many rows went.
    pub async fn settle_analytics(&self) -> AppResult<u64> {
        let keep_from = day_of(self.now()) - i64::from(nimbus_core::privacy::VISITOR_RETENTION_DAYS) + 1;
        Ok(self.catalog.settle_delivery_analytics(keep_from).await?)
    }

    /// An environment's delivery views of a day by country (empty without a geo database),
    /// small countries merged (see [`suppress_small`]).
    pub async fn delivery_countries(&self, cloud: &str, day: i64) -> AppResult<CountryDay> {
        let env =
            self.catalog.env_by_cloud(cloud).await?.ok_or_else(|| crate::AppError::UnknownCloud(cloud.to_owned()))?;
        Ok(CountryDay { countries: suppress_small(self.catalog.delivery_countries(env.id, day).await?) })
    }

    /// An environment's delivery report of a day, most viewed first; unique visitors below
    /// [`K_ANONYMITY`] are left out.
    pub async fn delivery_report(&self, cloud: &str, day: i64) -> AppResult<Vec<AssetDay>> {
        let env =
            self.catalog.env_by_cloud(cloud).await?.ok_or_else(|| crate::AppError::UnknownCloud(cloud.to_owned()))?;
        let rows = self.catalog.delivery_analytics(env.id, day).await?;
        let mut names: HashMap<String, String> = HashMap::new();
        for ids in rows.chunks(500) {
            let q = crate::ports::ListQuery {
                asset_ids: ids.iter().map(|(a, _, _)| a.clone()).collect(),
                limit: 500,
                ..Default::default()
            };
            for a in self.catalog.list_assets(env.id, &q).await?.assets {
                names.insert(a.asset_id.clone(), a.public_id.as_str().to_owned());
            }
        }
        Ok(rows
            .into_iter()
            .map(|(asset_id, views, visitors)| AssetDay {
                public_id: names.get(&asset_id).cloned(),
                asset_id,
                views,
                visitors: (visitors >= K_ANONYMITY).then_some(visitors),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_is_the_same_within_a_salt_and_differs_across() {
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let a = visitor(b"salt one", 1, ip, "Firefox");
        assert_eq!(a, visitor(b"salt one", 1, ip, "Firefox"));
        assert_eq!(a, visitor(b"salt one", 1, "::ffff:203.0.113.9".parse().unwrap(), "Firefox"), "mapped");
        assert_ne!(a, visitor(b"salt two", 1, ip, "Firefox"), "another day");
        assert_ne!(a, visitor(b"salt one", 2, ip, "Firefox"), "another environment");
        assert_ne!(a, visitor(b"salt one", 1, ip, "Chrome"));
        assert_ne!(a, visitor(b"salt one", 1, "203.0.113.10".parse().unwrap(), "Firefox"));
    }

    #[test]
    fn small_countries_are_counted_together() {
        let rows = vec![("SE".to_owned(), 40), ("NO".to_owned(), 5), ("IS".to_owned(), 2), ("FO".to_owned(), 1)];
        assert_eq!(suppress_small(rows), [("SE".to_owned(), 40), ("NO".to_owned(), 5), ("other".to_owned(), 3)]);
        assert_eq!(suppress_small(vec![("SE".to_owned(), 9)]), [("SE".to_owned(), 9)]);
    }

    #[test]
    fn dnt_and_gpc_decline() {
        assert!(declines(Some(b"1"), None));
        assert!(declines(None, Some(b" 1 ")));
        assert!(!declines(Some(b"0"), None));
        assert!(!declines(None, None));
    }
}
