//! Request parameters in every encoding the SDKs use: query strings, JSON bodies (Python
//! Admin API), form bodies (Node Admin API) and multipart (both Upload APIs, with the file
//! streamed to staging as it arrives). Also HTTP Basic credentials.

use axum::body::Body;
use axum::extract::{FromRequest as _, Multipart, Request};
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use bytes::Bytes;
use nimbus_app::App;
use nimbus_app::params::Params;
use nimbus_app::upload::FileSource;

use crate::error::{ApiError, ApiResult};

/// Largest non-file request body (JSON, form).
pub const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;

/// `Authorization: Basic base64(key:secret)`.
pub fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (k, s) = text.split_once(':')?;
    Some((k.to_owned(), s.to_owned()))
}

/// Whether the call carries an OAuth bearer token (`Authorization: Bearer ...`), which the
/// SDKs send when configured with `oauth_token`. Nimbus issues no tokens, so none is valid.
pub fn has_bearer_token(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

/// Adds `a=1&b[]=2&c=3&c=4` pairs: `x[]` accumulates, a repeated plain name too.
pub fn add_urlencoded(params: &mut Params, raw: &[u8]) {
    for (k, v) in form_urlencoded_pairs(raw) {
        if k.ends_with("[]") || params.get(&k).is_none() {
            params.push(&k, v);
        } else {
            params.push_repeated(&k, v);
        }
    }
}

fn form_urlencoded_pairs(raw: &[u8]) -> Vec<(String, String)> {
    raw.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = match p.iter().position(|b| *b == b'=') {
                Some(i) => (&p[..i], &p[i + 1..]),
                None => (p, &b""[..]),
            };
            (decode_form(k), decode_form(v))
        })
        .collect()
}

fn decode_form(b: &[u8]) -> String {
    let plus: Vec<u8> = b.iter().map(|c| if *c == b'+' { b' ' } else { *c }).collect();
    percent_encoding::percent_decode(&plus).decode_utf8_lossy().into_owned()
}

/// Adds the members of a JSON object body. Arrays become lists, `null` is absent, nested
/// objects stay JSON text.
fn add_json(params: &mut Params, raw: &[u8]) -> ApiResult<()> {
    let v: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| ApiError::BadBody(format!("invalid JSON: {e}")))?;
    let serde_json::Value::Object(map) = v else {
        return Err(ApiError::BadBody("JSON body must be an object".into()));
    };
    for (k, v) in map {
        match v {
            serde_json::Value::Null => {}
            serde_json::Value::Array(items) => {
                let name = format!("{}[]", k.trim_end_matches("[]"));
                if items.is_empty() {
                    params.push(k.trim_end_matches("[]"), "");
                }
                for item in items {
                    params.push(&name, scalar(item));
                }
            }
            other => params.push(&k, scalar(other)),
        }
    }
    Ok(())
}

fn scalar(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn content_type(headers: &HeaderMap) -> String {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase()
}

/// Query string plus a JSON or form body.
pub async fn admin_params(query: Option<&str>, headers: &HeaderMap, body: Body) -> ApiResult<Params> {
    Ok(admin_request(query, headers, body).await?.0)
}

/// [`admin_params`], plus the body as JSON: the object sent, or (for form bodies and
/// query strings) an object of the parameters as text.
pub async fn admin_request(
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<(Params, serde_json::Value)> {
    let mut params = Params::new();
    if let Some(q) = query {
        add_urlencoded(&mut params, q.as_bytes());
    }
    let bytes: Bytes =
        axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|e| ApiError::BadBody(e.to_string()))?;
    let ct = content_type(headers);
    let is_json = ct.starts_with("application/json")
        || (!ct.starts_with("application/x-www-form-urlencoded") && bytes.first() == Some(&b'{'));
    if bytes.iter().all(u8::is_ascii_whitespace) {
        // Nothing sent in the body.
    } else if is_json {
        add_json(&mut params, &bytes)?;
        let mut v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::BadBody(format!("invalid JSON: {e}")))?;
        if let (Some(obj), Some(q)) = (v.as_object_mut(), query) {
            for (k, val) in form_urlencoded_pairs(q.as_bytes()) {
                obj.entry(k).or_insert(serde_json::Value::String(val));
            }
        }
        return Ok((params, v));
    } else {
        add_urlencoded(&mut params, &bytes);
    }
    let mut obj = serde_json::Map::new();
    for (k, v) in params.iter() {
        obj.insert(k.trim_end_matches("[]").to_owned(), serde_json::Value::String(v.to_owned()));
    }
    Ok((params, serde_json::Value::Object(obj)))
}

/// Upload API parameters: multipart (file parts streamed to staging), or form/JSON.
pub async fn upload_params(app: &App, req: Request) -> ApiResult<(Params, Option<FileSource>)> {
    let ct = content_type(req.headers());
    if !ct.starts_with("multipart/form-data") {
        let (parts, body) = req.into_parts();
        let mut params = admin_params(parts.uri.query(), &parts.headers, body).await?;
        let file = params.remove("file").filter(|f| !f.is_empty()).map(FileSource::Text);
        return Ok((params, file));
    }
    // The parser stops at the closing boundary; what follows it (a chunked body's last chunk,
    // an epilogue) is read here afterwards, so the answer never leaves unread bytes behind.
    let (parts, body) = req.into_parts();
    let shared = SharedBody(std::sync::Arc::new(std::sync::Mutex::new(Some(body.into_data_stream()))));
    let req = Request::from_parts(parts, Body::from_stream(shared.clone()));
    let mut mp =
        Multipart::from_request(req, &()).await.map_err(|e| nimbus_app::AppError::MalformedBody(e.body_text()))?;
    let mut params = Params::new();
    let mut file = None;
    let malformed = |e: axum::extract::multipart::MultipartError| -> ApiError {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            nimbus_app::AppError::FileTooLarge { got: app.config.max_file_bytes + 1, max: app.config.max_file_bytes }
                .into()
        } else {
            nimbus_app::AppError::MalformedBody(e.body_text()).into()
        }
    };
    while let Some(mut field) = mp.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_owned();
        let is_file_part = name == "file"
            && (field.file_name().is_some() || field.content_type().is_some_and(|c| !c.starts_with("text/plain")));
        if is_file_part {
            let filename = field.file_name().map(str::to_owned);
            let mut w = app.staging_writer(filename).await?;
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                w.push(&chunk).await?;
            }
            file = Some(FileSource::Staged(w.finish().await?));
        } else {
            let text = field.text().await.map_err(malformed)?;
            if name == "file" {
                if !text.is_empty() {
                    file = Some(FileSource::Text(text));
                }
            } else if !name.is_empty() {
                params.push(&name, text);
            }
        }
    }
    drop(mp);
    if let Some(rest) = shared.take() {
        drain(Body::from_stream(rest)).await;
    }
    Ok((params, file))
}

/// A request body the multipart parser reads through, whose rest can be taken back after.
#[derive(Clone)]
struct SharedBody(std::sync::Arc<std::sync::Mutex<Option<axum::body::BodyDataStream>>>);

impl SharedBody {
    fn take(&self) -> Option<axum::body::BodyDataStream> {
        self.0.lock().ok()?.take()
    }
}

impl futures_util::Stream for SharedBody {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use futures_util::StreamExt as _;
        match self.0.lock() {
            Ok(mut inner) => match inner.as_mut() {
                Some(s) => s.poll_next_unpin(cx),
                None => std::task::Poll::Ready(None),
            },
            Err(_) => std::task::Poll::Ready(None),
        }
    }
}

/// Bytes of a refused request's body read and dropped before answering.
const DRAIN_LIMIT: usize = 64 << 20;
/// How long a refused request's body may take to arrive.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and drops what is left of a request body a handler refuses before reading it.
/// Answering while the client is still sending would close the connection on unread data,
/// and clients that write the whole body before reading (the SDKs do) would see a reset
/// instead of the error. Bounded in bytes and time; past either, the connection closes.
pub async fn drain(body: Body) {
    use futures_util::StreamExt as _;
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(chunk)) = stream.next().await {
            seen += chunk.len();
            if seen > DRAIN_LIMIT {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let mut p = Params::new();
        add_urlencoded(&mut p, b"public_ids[]=a&public_ids[]=b%20c&fields=x&fields=y&q=a+b");
        assert_eq!(p.get("public_ids"), Some("a,b c"));
        assert_eq!(p.get("fields"), Some("x,y"));
        assert_eq!(p.get("q"), Some("a b"));
        let mut p = Params::new();
        add_json(
            &mut p,
            br#"{"public_ids": ["a", "b"], "keep_original": true, "n": 3, "x": null, "transformations": null}"#,
        )
        .unwrap();
        assert_eq!(
            (p.get("public_ids"), p.get("keep_original"), p.get("n"), p.get("x")),
            (Some("a,b"), Some("true"), Some("3"), None)
        );
        assert!(add_json(&mut p, b"[1]").is_err());
    }

    #[test]
    fn basic() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Basic MTIzNDU2Nzg5MDEyMzQ1OmFiY2Q=".parse().unwrap());
        assert_eq!(basic_auth(&h), Some(("123456789012345".into(), "abcd".into())));
    }
}
