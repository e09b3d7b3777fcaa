//! The archive of a person's own data: a ZIP of UTF-8 JSON and CSV files (each CSV with a
//! header row), machine-readable so it can be taken elsewhere. Secrets are never in it:
//! sessions appear by the first characters of their token's hash, passwords and two-step
//! secrets not at all (the manifest says why, from the registry). Built in memory by a pure
//! function; the job stores it.

use std::io::Write as _;

use nimbus_core::privacy::{Export, REGISTRY};
use nimbus_core::timefmt::iso8601;
use serde_json::json;

use crate::ports::{Membership, SubjectData, User};

/// Everything an archive is made from.
pub struct ArchiveInput {
    pub user: User,
    pub memberships: Vec<Membership>,
    pub data: SubjectData,
    /// Rows per registered table, as counted for the person.
    pub rows: Vec<(String, i64)>,
    pub generated_at: i64,
}

/// The archive's files, in order.
pub const FILES: [&str; 7] =
    ["manifest.json", "account.json", "sessions.csv", "events.csv", "uploads.csv", "exports.csv", "consents.csv"];

fn time(t: Option<i64>) -> String {
    t.map(iso8601).unwrap_or_default()
}

/// One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

fn csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = header.join(",");
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn files(input: &ArchiveInput) -> Vec<(&'static str, String)> {
    let u = &input.user;
    let d = &input.data;
    let not_included: serde_json::Map<String, serde_json::Value> = REGISTRY
        .iter()
        .filter_map(|c| match c.export {
            Export::Exclude(why) => Some((format!("{}.{}", c.table, c.column), json!(why))),
            Export::Include => None,
        })
        .collect();
    let manifest = json!({
        "schema_version": 1,
        "generated_at": iso8601(input.generated_at),
        "subject": nimbus_core::privacy::log_name(u.id),
        "files": FILES,
        "row_counts": input.rows.iter().map(|(t, n)| (t.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "not_included": not_included,
    });
    let account = json!({
        "email": u.email,
        "created_at": iso8601(u.created_at),
        "last_sign_in_at": u.last_sign_in_at.map(iso8601),
        "disabled_at": u.disabled_at.map(iso8601),
        "deletion_due_at": u.deletion_due_at.map(iso8601),
        "failed_sign_ins": u.failed_sign_ins,
        "two_step_sign_in": u.totp_secret.is_some(),
        "objects_to_sharing_since": u.share_opt_out_at.map(iso8601),
        "product_news_since": u.product_news_at.map(iso8601),
        "roles": input.memberships.iter().map(|m| json!({"cloud": m.cloud_name, "role": m.role.as_str()})).collect::<Vec<_>>(),
    });
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    vec![
        ("manifest.json", pretty(&manifest)),
        ("account.json", pretty(&account)),
        (
            "sessions.csv",
            csv(
                &["session", "started_at", "last_used_at"],
                d.sessions.iter().map(|(h, s, l)| vec![format!("{h}..."), iso8601(*s), iso8601(*l)]),
            ),
        ),
        (
            "events.csv",
            csv(
                &["id", "kind", "environment", "at"],
                d.events.iter().map(|(id, k, c, at)| vec![id.to_string(), k.clone(), c.clone(), iso8601(*at)]),
            ),
        ),
        (
            "uploads.csv",
            csv(
                &["environment", "resource_type", "public_id", "version", "format", "bytes", "uploaded_at"],
                d.uploads.iter().map(|r| {
                    vec![
                        r.cloud.clone(),
                        r.resource_type.clone(),
                        r.public_id.clone(),
                        r.version.to_string(),
                        r.format.clone().unwrap_or_default(),
                        r.bytes.to_string(),
                        iso8601(r.created_at),
                    ]
                }),
            ),
        ),
        (
            "exports.csv",
            csv(
                &["requested_at", "ready_at", "bytes", "expires_at"],
                d.exports.iter().map(|e| {
                    vec![
                        iso8601(e.requested_at),
                        time(e.ready_at),
                        e.bytes.map(|b| b.to_string()).unwrap_or_default(),
                        iso8601(e.expires_at),
                    ]
                }),
            ),
        ),
        (
            "consents.csv",
            csv(
                &["source", "objects_to_sharing", "at"],
                d.consents.iter().map(|(k, o, at)| vec![k.clone(), o.to_string(), iso8601(*at)]),
            ),
        ),
    ]
}

/// The ZIP.
pub fn build(input: &ArchiveInput) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in files(input) {
        zip.start_file(name, options)?;
        zip.write_all(text.as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv(&["a", "b"], [vec!["1".into(), "x\ny".into()]]), "a,b\r\n1,\"x\ny\"\r\n");
    }
}
