//! Request parameters as received, in wire form: multipart fields, form fields, JSON
//! members or query pairs. `name[]` arrays are gathered under `name`, joined by commas,
//! which is also how they are signed.

/// Ordered `name -> value` pairs, one per name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parameters from `(name, value)` pairs, as [`push`](Self::push) adds them.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let mut p = Self::new();
        for (k, v) in pairs {
            p.push(k, *v);
        }
        p
    }

    /// Adds a field as it arrived; `name[]` values accumulate into `name`.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if let Some(base) = name.strip_suffix("[]") {
            if let Some((_, v)) = self.0.iter_mut().find(|(k, _)| k == base) {
                if !v.is_empty() {
                    v.push(',');
                }
                v.push_str(&value);
                return;
            }
            self.0.push((base.to_owned(), value));
            return;
        }
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    /// Adds a repeated field (`fields=a&fields=b`) by joining with commas.
    pub fn push_repeated(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&value);
            }
            None => self.0.push((name.to_owned(), value)),
        }
    }

    /// The value, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// A comma-separated list value, split and trimmed.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(nimbus_core::params::parse_bool)
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Fills in `defaults` for names not given (preset semantics: the request wins).
    pub fn with_defaults(&mut self, defaults: &[(String, String)]) {
        for (k, v) in defaults {
            if self.get(k).is_none() {
                self.push(k, v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_and_defaults() {
        let mut p = Params::new();
        p.push("public_ids[]", "a");
        p.push("public_ids[]", "b");
        p.push("tag", "x");
        p.push("tag", "y");
        p.push_repeated("fields", "f1");
        p.push_repeated("fields", "f2");
        assert_eq!(p.get("public_ids"), Some("a,b"));
        assert_eq!(p.list("public_ids"), vec!["a", "b"]);
        assert_eq!(p.get("tag"), Some("y"));
        assert_eq!(p.get("fields"), Some("f1,f2"));
        p.with_defaults(&[("tag".into(), "z".into()), ("folder".into(), "f".into())]);
        assert_eq!((p.get("tag"), p.get("folder")), (Some("y"), Some("f")));
    }
}
