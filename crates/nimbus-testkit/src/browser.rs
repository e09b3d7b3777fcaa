//! A browser for console tests: keeps cookies by name (as a browser would for one site),
//! follows nothing by itself, and reads form tokens out of pages.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::Request;

use crate::{TestApp, TestResponse};

#[derive(Debug, Default)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
    /// Headers sent with every request (a proxy's, say).
    pub headers: Vec<(String, String)>,
    /// The connection's peer address, as the HTTP front gives every request (none by default).
    pub peer: Option<std::net::SocketAddr>,
}

impl Browser {
    pub fn new() -> Self {
        Self::default()
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    /// Sends `name: value` with every later request.
    pub fn header(&mut self, name: &str, value: &str) {
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    /// A request with the cookies and the extra headers.
    fn request(&self, method: axum::http::Method, uri: &str) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(uri).header("cookie", self.cookie_header());
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        if let Some(peer) = self.peer {
            b = b.extension(axum::extract::ConnectInfo(peer));
        }
        b
    }

    /// Keeps the cookies a response sets; `Max-Age=0` removes one.
    fn keep(&mut self, r: &TestResponse) {
        for v in r.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let pair = v.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else { continue };
            if v.contains("Max-Age=0") || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&mut self, t: &TestApp, uri: &str) -> TestResponse {
        let req = self.request(axum::http::Method::GET, uri).body(Body::empty()).unwrap();
        let r = t.call(req).await;
        self.keep(&r);
        r
    }

    /// Posts a form, urlencoded.
    pub async fn post(&mut self, t: &TestApp, uri: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        let req = self
            .request(axum::http::Method::POST, uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let r = t.call(req).await;
        self.keep(&r);
        r
    }

    /// Posts a multipart form (files), asking for JSON when `json`.
    pub async fn post_multipart(&mut self, t: &TestApp, uri: &str, mp: crate::Multipart, json: bool) -> TestResponse {
        let (ct, body) = mp.finish();
        let mut b = self.request(axum::http::Method::POST, uri).header("content-type", ct);
        if json {
            b = b.header("accept", "application/json");
        }
        let r = t.call(b.body(Body::from(body)).unwrap()).await;
        self.keep(&r);
        r
    }

    /// Signs in through the form; returns the sign-in response.
    pub async fn sign_in(&mut self, t: &TestApp, email: &str, password: &str) -> TestResponse {
        let form = self.get(t, "/console/login").await;
        let csrf = hidden(&form, "csrf");
        self.post(
            t,
            "/console/login",
            &[("email", email), ("password", password), ("csrf", &csrf), ("next", "/console")],
        )
        .await
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of the hidden input `name` in a page.
pub fn hidden(page: &TestResponse, name: &str) -> String {
    let html = String::from_utf8_lossy(&page.body);
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in {html}")) + marker.len();
    html[start..].split('"').next().unwrap_or_default().to_owned()
}
