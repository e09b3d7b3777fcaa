//! Datasource ids as small integers: an enum or set field's ids by datasource position, and
//! sets of them ([`Allowed`]) as bitsets over those positions, so that "is this value
//! allowed" is a lookup and a bit test rather than a scan of id lists.

use std::fmt;
use std::sync::Arc;

use serde::ser::{Serialize, Serializer};

/// The datasource ids of an enum or set field, in datasource order, with lookup by id.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DatasourceIds {
    ids: Vec<String>,
    /// Positions sorted by id, for binary search.
    sorted: Vec<usize>,
}

impl DatasourceIds {
    pub(crate) fn new(ids: Vec<String>) -> Self {
        let mut sorted: Vec<usize> = (0..ids.len()).collect();
        // Stable: with a repeated id, the first entry is the one found, as in `Field::entry`.
        sorted.sort_by(|a, b| ids[*a].cmp(&ids[*b]));
        Self { ids, sorted }
    }

    /// The datasource position of `id`.
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        let at = self.sorted.partition_point(|p| self.ids[*p].as_str() < id);
        self.sorted.get(at).copied().filter(|p| self.ids[*p] == id)
    }

    /// An empty set of positions, sized for this datasource.
    pub(crate) fn empty(&self) -> Vec<u64> {
        vec![0; self.ids.len().div_ceil(64)]
    }

    /// Adds the positions of `ids` to `bits`; ids not in the datasource are skipped.
    pub(crate) fn add<'a>(&self, bits: &mut [u64], ids: impl IntoIterator<Item = &'a str>) {
        for p in ids.into_iter().filter_map(|i| self.position(i)) {
            bits[p / 64] |= 1 << (p % 64);
        }
    }

    /// The ids at the positions in `bits`, in datasource order.
    pub(crate) fn ids_in<'a>(&'a self, bits: &'a [u64]) -> impl Iterator<Item = &'a str> + 'a {
        self.ids.iter().enumerate().filter(|(p, _)| has(bits, *p)).map(|(_, i)| i.as_str())
    }
}

fn has(bits: &[u64], p: usize) -> bool {
    bits.get(p / 64).is_some_and(|w| w & (1 << (p % 64)) != 0)
}

/// The allowed values of an enum or set field: a subset of its datasource. Iterates (and
/// serializes, as a JSON array of ids) in datasource order; [`Allowed::to_vec`] gives the
/// ids as strings.
#[derive(Clone)]
pub struct Allowed {
    ids: Arc<DatasourceIds>,
    bits: Arc<[u64]>,
}

impl Allowed {
    pub(crate) fn new(ids: Arc<DatasourceIds>, bits: Arc<[u64]>) -> Self {
        Self { ids, bits }
    }

    pub(crate) fn bits(&self) -> &[u64] {
        &self.bits
    }

    /// The set of positions `bits` over the same datasource.
    pub(crate) fn with_bits(&self, bits: Arc<[u64]>) -> Self {
        Self { ids: self.ids.clone(), bits }
    }

    /// Whether `id` is allowed.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.position(id).is_some_and(|p| has(&self.bits, p))
    }

    /// The allowed ids, in datasource order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.ids.ids_in(&self.bits)
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }

    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }
}

impl PartialEq for Allowed {
    fn eq(&self, other: &Self) -> bool {
        (Arc::ptr_eq(&self.ids, &other.ids) && self.bits == other.bits) || self.iter().eq(other.iter())
    }
}

impl Eq for Allowed {}

impl fmt::Debug for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Allowed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_sets() {
        let ids: Vec<String> = (0..70).map(|i| format!("v{i}")).collect();
        let ds = Arc::new(DatasourceIds::new(ids));
        assert_eq!(ds.position("v69"), Some(69));
        assert_eq!(ds.position("v7"), Some(7));
        assert_eq!(ds.position("nope"), None);
        let mut bits = ds.empty();
        ds.add(&mut bits, ["v68", "v3", "nope", "v3"]);
        let a = Allowed::new(ds, bits.into());
        assert_eq!(a.to_vec(), vec!["v3", "v68"]);
        assert!(a.contains("v68") && !a.contains("v4") && !a.contains("nope"));
        assert_eq!((a.len(), a.is_empty()), (2, false));
        assert_eq!(serde_json::to_string(&a).unwrap_or_default(), r#"["v3","v68"]"#);
    }
}
