//! Signed search URLs: `/{cloud}/search/{signature}/{ttl}/{query}[/{next_cursor}]`, as the
//! SDKs' `Search.to_url` builds them. `query` is the search request as JSON with sorted keys,
//! in base64 (URL-safe from the Python SDK, standard from the Node SDK, so it may itself
//! hold `/`); `signature` is the hex SHA-256 of `{ttl}{query}{api_secret}`. A page can be
//! fetched by anyone holding the URL and cached for `ttl` seconds.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use nimbus_core::signature::{self, Algorithm};
use serde_json::Value;

use crate::error::AppResult;
use crate::ports::Environment;
use crate::{App, AppError};

/// Either alphabet's padding, or none.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A search URL whose signature checked.
#[derive(Debug, Clone)]
pub struct SearchUrl {
    pub env: Environment,
    /// The secret that signed it (results carry URLs signed with it).
    pub secret: String,
    /// The search request, `next_cursor` included.
    pub body: Value,
    /// Seconds the answer may be cached.
    pub ttl: u64,
}

fn decode_query(b64: &str) -> Option<Value> {
    let standard: String = b64
        .chars()
        .map(|c| {
            if c == '-' {
                '+'
            } else if c == '_' {
                '/'
            } else {
                c
            }
        })
        .collect();
    let bytes = LENIENT.decode(standard.as_bytes()).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok().filter(Value::is_object)
}

impl App {
    /// Checks a search URL's signature against the environment's live keys. `rest` is the
    /// path after `/{cloud}/search/`.
    pub async fn resolve_search_url(&self, cloud: &str, rest: &str) -> AppResult<SearchUrl> {
        let segs: Vec<&str> = rest.split('/').collect();
        let [sig, ttl, query @ ..] = segs.as_slice() else { return Err(AppError::UrlSignatureRequired) };
        if query.is_empty() {
            return Err(AppError::UrlSignatureRequired);
        }
        let entry = self.delivery_env(cloud).await?.ok_or_else(|| AppError::UnknownCloud(cloud.to_owned()))?;
        // The query may contain `/`; the cursor, when there is one, is the last segment.
        let mut splits = vec![(query.join("/"), None)];
        if let [q @ .., cursor] = query
            && !q.is_empty()
        {
            splits.push((q.join("/"), Some(*cursor)));
        }
        for (q, cursor) in splits {
            let text = format!("{ttl}{q}");
            let Some(secret) = entry
                .secrets
                .iter()
                .find(|s| signature::ct_eq(&signature::hex_digest(Algorithm::Sha256, &text, s), sig))
            else {
                continue;
            };
            let ttl =
                ttl.parse::<u64>().map_err(|_| AppError::InvalidParam { name: "ttl", value: (*ttl).to_owned() })?;
            let mut body = decode_query(&q).ok_or_else(|| {
                AppError::MalformedBody("the search URL's query is not base64 of a JSON object".into())
            })?;
            if let (Some(c), Some(m)) = (cursor.filter(|c| !c.is_empty()), body.as_object_mut()) {
                m.insert("next_cursor".into(), Value::String(c.to_owned()));
            }
            return Ok(SearchUrl { env: entry.env.clone(), secret: secret.clone(), body, ttl });
        }
        Err(AppError::UrlSignatureRequired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_from_either_alphabet_with_or_without_padding() {
        // {"expression":"tags=a?"} has a `/`-or-`_` position and needs padding.
        let json = br#"{"expression":"tags>?"}"#;
        let std = base64::engine::general_purpose::STANDARD.encode(json);
        let url = base64::engine::general_purpose::URL_SAFE.encode(json);
        assert_ne!(std, url, "the sample must differ between alphabets");
        for s in [std.clone(), url.clone(), url.trim_end_matches('=').to_owned()] {
            assert_eq!(
                decode_query(&s).and_then(|v| v["expression"].as_str().map(str::to_owned)).as_deref(),
                Some("tags>?")
            );
        }
        assert!(decode_query("bm90IGpzb24").is_none(), "not JSON");
        assert!(decode_query("WzFd").is_none(), "JSON but not an object");
    }
}
