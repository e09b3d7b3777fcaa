//! `multipart/form-data` bodies as the SDKs send them, optionally signed.

use nimbus_core::signature::{Algorithm, hex_digest, string_to_sign};

/// A multipart body under construction.
#[derive(Debug, Default)]
pub struct Multipart {
    fields: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
}

const BOUNDARY: &str = "nimbus-test-boundary-7d3f";

impl Multipart {
    pub fn new(fields: &[(&str, &str)]) -> Self {
        Self { fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), files: Vec::new() }
    }

    /// Fields plus `timestamp`, `api_key` and a SHA-1 `signature`, as the SDKs sign them.
    pub fn signed(fields: &[(&str, &str)], timestamp: i64, key: &str, secret: &str) -> Self {
        let ts = timestamp.to_string();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if !fields.iter().any(|(k, _)| *k == "timestamp") {
            all.push(("timestamp", &ts));
        }
        // Arrays (`name[]` repeated) are signed once, as `name=a,b`.
        let mut grouped: Vec<(&str, String)> = Vec::new();
        for (k, v) in all.iter().filter(|(k, _)| !matches!(*k, "file" | "api_key" | "resource_type" | "cloud_name")) {
            let name = k.trim_end_matches("[]");
            match grouped.iter_mut().find(|(g, _)| *g == name) {
                Some((_, joined)) => {
                    joined.push(',');
                    joined.push_str(v);
                }
                None => grouped.push((name, (*v).to_owned())),
            }
        }
        let to_sign = string_to_sign(grouped.iter().map(|(k, v)| (*k, v.as_str())), true);
        let sig = hex_digest(Algorithm::Sha1, &to_sign, secret);
        let mut m = Self::new(&all);
        m.fields.push(("api_key".into(), key.into()));
        m.fields.push(("signature".into(), sig));
        m
    }

    /// A field added after signing (the SDKs leave `notification_url` out of the signature
    /// of `tags`, `context` and `metadata`).
    pub fn unsigned_field(mut self, name: &str, value: &str) -> Self {
        self.fields.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The file part (none for `None`), after the fields.
    pub fn file(mut self, file: Option<(&str, &[u8])>) -> Self {
        self.files = file.map(|(n, b)| (n.to_owned(), b.to_vec())).into_iter().collect();
        self
    }

    /// One more file part, as a form with a multiple file input sends them.
    pub fn also_file(mut self, name: &str, bytes: &[u8]) -> Self {
        self.files.push((name.to_owned(), bytes.to_vec()));
        self
    }

    /// Content type and body.
    pub fn finish(self) -> (String, Vec<u8>) {
        let mut body = Vec::new();
        for (k, v) in &self.fields {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        for (name, bytes) in &self.files {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={BOUNDARY}"), body)
    }
}
