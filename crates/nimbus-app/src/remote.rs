//! Fetching `file=https://...` uploads. Every address a host resolves to (also after
//! redirects) must be public unless the host or address is on the configured allowlist, so
//! an upload cannot reach loopback, private, link-local or metadata-service addresses.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::staging::{StagedFile, StagingWriter};
use crate::{AppConfig, AppError};

#[derive(Debug, thiserror::Error)]
#[error("address not allowed")]
struct Blocked;

#[derive(Debug, Clone)]
struct Allowlist(Arc<Vec<String>>);

impl Allowlist {
    fn host_allowed(&self, host: &str) -> bool {
        self.0.iter().any(|a| a.eq_ignore_ascii_case(host))
    }
    fn ip_allowed(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.0.iter().any(|a| a.parse::<IpAddr>().is_ok_and(|x| x == ip))
    }
}

/// Whether `ip` is a globally routable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] == 0
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local())
        }
    }
}

struct GuardedResolver(Allowlist);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let host_ok = allow.host_allowed(&host);
            let ok: Vec<SocketAddr> = addrs.into_iter().filter(|a| host_ok || allow.ip_allowed(a.ip())).collect();
            if ok.is_empty() {
                return Err(Box::new(Blocked) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(ok.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client for remote uploads.
#[derive(Clone)]
pub struct RemoteFetcher {
    client: reqwest::Client,
    /// The same guarded resolver, no redirects: for notifications.
    poster: reqwest::Client,
    allow: Allowlist,
}

impl RemoteFetcher {
    pub fn new(config: &AppConfig) -> Result<Self, AppError> {
        let allow = Allowlist(Arc::new(config.remote_allowlist.clone()));
        let redirect_allow = allow.clone();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.remote_timeout_secs))
            .connect_timeout(Duration::from_secs(config.remote_timeout_secs))
            .dns_resolver(Arc::new(GuardedResolver(allow.clone())))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 5 {
                    return attempt.error("too many redirects");
                }
                if literal_ip_blocked(&redirect_allow, attempt.url()) {
                    return attempt.error(Blocked);
                }
                attempt.follow()
            }))
            .user_agent(concat!("Nimbus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AppError::RemoteFailed { url: String::new(), reason: e.to_string() })?;
        let poster = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.remote_timeout_secs))
            .connect_timeout(Duration::from_secs(config.remote_timeout_secs))
            .dns_resolver(Arc::new(GuardedResolver(allow.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Nimbus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AppError::RemoteFailed { url: String::new(), reason: e.to_string() })?;
        Ok(Self { client, poster, allow })
    }

    /// Fetches `url` into `writer` (which enforces the size limit).
    pub async fn fetch(&self, url: &str, mut writer: StagingWriter) -> Result<StagedFile, AppError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| AppError::RemoteFailed { url: url.to_owned(), reason: e.to_string() })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AppError::RemoteFailed {
                url: url.to_owned(),
                reason: "only http and https URLs are supported".into(),
            });
        }
        if literal_ip_blocked(&self.allow, &parsed) || parsed.host_str().is_none() {
            return Err(AppError::RemoteNotAllowed { url: url.to_owned() });
        }
        let classify = |e: reqwest::Error| classify(url, e);
        let resp = self.client.get(parsed.clone()).send().await.map_err(classify)?;
        if !resp.status().is_success() {
            return Err(AppError::RemoteFailed {
                url: url.to_owned(),
                reason: format!("HTTP {}", resp.status().as_u16()),
            });
        }
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            writer.push(&chunk.map_err(classify)?).await?;
        }
        writer.finish().await
    }
}

impl RemoteFetcher {
    /// Whether a URL's host, when it is a literal address, may be reached (names are
    /// checked when they are resolved).
    pub fn literal_target_allowed(&self, url: &reqwest::Url) -> bool {
        !literal_ip_blocked(&self.allow, url)
    }

    /// POSTs a signed notification body; answers the receiver's status. Redirects are not
    /// followed (a receiver that moved answers 3xx and is retried).
    pub async fn post_json(&self, url: &str, body: String, timestamp: i64, signature: &str) -> Result<u16, AppError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| AppError::RemoteFailed { url: url.to_owned(), reason: e.to_string() })?;
        if literal_ip_blocked(&self.allow, &parsed) || parsed.host_str().is_none() {
            return Err(AppError::RemoteNotAllowed { url: url.to_owned() });
        }
        let resp = self
            .poster
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Cld-Timestamp", timestamp.to_string())
            .header("X-Cld-Signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| classify(url, e))?;
        Ok(resp.status().as_u16())
    }
}

fn literal_ip_blocked(allow: &Allowlist, url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !allow.ip_allowed(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !allow.ip_allowed(IpAddr::V6(ip)),
        _ => false,
    }
}

fn classify(url: &str, e: reqwest::Error) -> AppError {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = src {
        if s.is::<Blocked>() {
            return AppError::RemoteNotAllowed { url: url.to_owned() };
        }
        src = s.source();
    }
    if e.is_timeout() {
        AppError::RemoteTimeout { url: url.to_owned() }
    } else {
        AppError::RemoteFailed { url: url.to_owned(), reason: "could not fetch the file".into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses() {
        for ip in ["8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
