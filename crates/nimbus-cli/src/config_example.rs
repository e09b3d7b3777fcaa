//! The configuration file, documented by itself: `nimbus config example` prints every option
//! with its default and a line saying what it does; `nimbus config check FILE` validates a file
//! and names the unknown or invalid key with its line. `nimbus.example.toml` at the root of the
//! repository is the example's output (a test keeps the two equal). Every option is also a
//! `--flag` of `nimbus serve` (or of every command) and a `NIMBUS_*` variable.

/// One option: its key, its default as TOML (`None`: computed, so written commented out with
/// an example value), and what it does.
struct OptionDoc {
    key: &'static str,
    default: Option<&'static str>,
    example: &'static str,
    doc: &'static str,
}

const OPTIONS: [OptionDoc; 28] = [
    OptionDoc {
        key: "listen",
        default: Some("\"127.0.0.1:8080\""),
        example: "",
        doc: "Address and port to listen on (port 0 picks a free one). Flag --listen, NIMBUS_LISTEN.",
    },
    OptionDoc {
        key: "data_dir",
        default: Some("\"./nimbus-data\""),
        example: "",
        doc: "Data directory: the SQLite catalog, blobs and staged uploads (kept 0700). Flag --data-dir, NIMBUS_DATA_DIR.",
    },
    OptionDoc {
        key: "database_url",
        default: None,
        example: "\"postgres://nimbus@127.0.0.1:5432/nimbus\"",
        doc: "Catalog database, sqlite://FILE or postgres://...; default: SQLite in the data directory. Flag --database-url, NIMBUS_DATABASE_URL.",
    },
    OptionDoc {
        key: "blob_url",
        default: None,
        example: "\"s3://media-bucket/nimbus\"",
        doc: "Blob store, file:///DIR or s3://BUCKET[/PREFIX] configured by the standard AWS_* variables (AWS_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP); default: blobs in the data directory. Flag --blob-url, NIMBUS_BLOB_URL.",
    },
    OptionDoc {
        key: "public_url",
        default: None,
        example: "\"https://media-api.example.com\"",
        doc: "Base URL clients reach the API at, used in url/secure_url; default: http://LISTEN. Flag --public-url, NIMBUS_PUBLIC_URL.",
    },
    OptionDoc {
        key: "delivery_url",
        default: None,
        example: "\"https://media.example.com\"",
        doc: "Host name of delivery's own: files are then served only there, the APIs only elsewhere. Flag --delivery-url, NIMBUS_DELIVERY_URL.",
    },
    OptionDoc {
        key: "max_file_bytes",
        default: Some("104857600"),
        example: "",
        doc: "Largest accepted upload, in bytes. Flag --max-file-bytes, NIMBUS_MAX_FILE_BYTES.",
    },
    OptionDoc {
        key: "remote_timeout_secs",
        default: Some("20"),
        example: "",
        doc: "Timeout of uploads from a remote URL, in seconds. Flag --remote-timeout-secs, NIMBUS_REMOTE_TIMEOUT_SECS.",
    },
    OptionDoc {
        key: "remote_allowlist",
        default: Some("[]"),
        example: "",
        doc: "Hosts or IPs remote-URL uploads may reach although they are private. Flag --remote-allowlist, NIMBUS_REMOTE_ALLOWLIST.",
    },
    OptionDoc {
        key: "trusted_proxies",
        default: Some("[]"),
        example: "",
        doc: "Proxies in front of Nimbus whose X-Forwarded-For names the client (addresses or networks); without them the peer is the client. Flag --trusted-proxies, NIMBUS_TRUSTED_PROXIES.",
    },
    OptionDoc {
        key: "admin_rate_limit",
        default: Some("5000"),
        example: "",
        doc: "Admin API calls per hour and environment. Flag --admin-rate-limit, NIMBUS_ADMIN_RATE_LIMIT.",
    },
    OptionDoc {
        key: "http_workers",
        default: None,
        example: "2",
        doc: "HTTP worker threads, each with its own socket; default: one per core. Flag --http-workers, NIMBUS_HTTP_WORKERS.",
    },
    OptionDoc {
        key: "header_timeout_secs",
        default: Some("30"),
        example: "",
        doc: "Seconds a client may take to send a request's headers; also closes idle connections. Flag --header-timeout-secs, NIMBUS_HEADER_TIMEOUT_SECS.",
    },
    OptionDoc {
        key: "body_idle_timeout_secs",
        default: Some("60"),
        example: "",
        doc: "Longest pause inside a request body, in seconds. Flag --body-idle-timeout-secs, NIMBUS_BODY_IDLE_TIMEOUT_SECS.",
    },
    OptionDoc {
        key: "smtp_url",
        default: None,
        example: "\"smtp://nimbus:PASSWORD@mail.example.com:587?tls=required\"",
        doc: "SMTP server for mail to console users (invitations, password resets), smtp://[USER:PASSWORD@]HOST[:PORT] or smtps://...; default: none, the messages go to the log. Flag --smtp-url, NIMBUS_SMTP_URL.",
    },
    OptionDoc {
        key: "mail_from",
        default: Some("\"Nimbus <nimbus@localhost>\""),
        example: "",
        doc: "Sender of mail to console users. Flag --mail-from, NIMBUS_MAIL_FROM.",
    },
    OptionDoc {
        key: "privacy.deletion_grace",
        default: Some("\"14d\""),
        example: "",
        doc: "How long an account whose deletion its owner asked waits, blocked, before it is erased (the owner can cancel until then); a number and a unit, s, m, h or d. Flag --privacy-deletion-grace, NIMBUS_PRIVACY_DELETION_GRACE.",
    },
    OptionDoc {
        key: "privacy.processors_file",
        default: None,
        example: "\"/etc/nimbus/processors.toml\"",
        doc: "Outside parties that receive personal data besides the mail relay and S3 provider Nimbus knows of: [[processor]] tables with name, purpose (transactional_mail, storage, webhooks, analytics, direct_marketing, other), data (a list) and location. Shown in the privacy centre and page; direct_marketing ones make the Shine the Light report. Flag --privacy-processors-file, NIMBUS_PRIVACY_PROCESSORS_FILE.",
    },
    OptionDoc {
        key: "privacy.inactive_delete_after",
        default: None,
        example: "\"365d\"",
        doc: "Delete accounts nobody signed in to for this long (with the deletion grace period and a cancel link); accounts that never signed in are spared; default: never. Flag --privacy-inactive-delete-after, NIMBUS_PRIVACY_INACTIVE_DELETE_AFTER.",
    },
    OptionDoc {
        key: "privacy.inactive_reminders",
        default: Some("[14, 7]"),
        example: "",
        doc: "Days before such a deletion on which a reminder is mailed. Flag --privacy-inactive-reminders, NIMBUS_PRIVACY_INACTIVE_REMINDERS.",
    },
    OptionDoc {
        key: "privacy.inactive_exclude_roles",
        default: Some("[\"owner\", \"admin\"]"),
        example: "",
        doc: "Roles whose holders are never cleaned up. Flag --privacy-inactive-exclude-roles, NIMBUS_PRIVACY_INACTIVE_EXCLUDE_ROLES.",
    },
    OptionDoc {
        key: "privacy.remember_days",
        default: Some("30"),
        example: "",
        doc: "Days a console session lasts when the person ticks Remember me at sign-in (its cookie then has a Max-Age; without it the cookie ends with the browser); 1 to 90. Flag --privacy-remember-days, NIMBUS_PRIVACY_REMEMBER_DAYS.",
    },
    OptionDoc {
        key: "privacy.delivery_analytics",
        default: Some("true"),
        example: "",
        doc: "Count views and unique visitors of delivered files per asset and day, without cookies: a visitor is a hash of a daily random salt, the address and the browser, kept two days; no address is stored, and requests with DNT: 1 or Sec-GPC: 1 are not counted. nimbus admin analytics CLOUD shows the counts. Flag --privacy-delivery-analytics, NIMBUS_PRIVACY_DELIVERY_ANALYTICS.",
    },
    OptionDoc {
        key: "privacy.retention_sessions",
        default: Some("\"30d\""),
        example: "",
        doc: "How long a console session is kept after its last use (it stops working long before, except with Remember me); at least 1h and at least the Remember me period. The privacy page and centre show it. Flag --privacy-retention-sessions, NIMBUS_PRIVACY_RETENTION_SESSIONS.",
    },
    OptionDoc {
        key: "privacy.retention_events",
        default: Some("\"30d\""),
        example: "",
        doc: "How long the record of a change (which asset, what changed, who acted) is kept once announced to webhooks; at least 1h. Flag --privacy-retention-events, NIMBUS_PRIVACY_RETENTION_EVENTS.",
    },
    OptionDoc {
        key: "privacy.retention_jobs",
        default: Some("\"14d\""),
        example: "",
        doc: "How long a finished job (done, dead or cancelled) and its attempts are kept; at least 1h. Flag --privacy-retention-jobs, NIMBUS_PRIVACY_RETENTION_JOBS.",
    },
    OptionDoc {
        key: "privacy.retention_exports",
        default: Some("\"7d\""),
        example: "",
        doc: "How long an archive of a person's data is kept for download; a person may ask for the next once it has gone; at least 1h. Flag --privacy-retention-exports, NIMBUS_PRIVACY_RETENTION_EXPORTS.",
    },
    OptionDoc {
        key: "privacy.geoip_database",
        default: None,
        example: "\"/var/lib/GeoIP/GeoLite2-Country.mmdb\"",
        doc: "A MaxMind-format database (GeoLite2 Country, or any with country.iso_code): delivery views are then also counted per country and day; the address is looked up and forgotten, nothing finer than the country is kept; default: none. Flag --privacy-geoip-database, NIMBUS_PRIVACY_GEOIP_DATABASE.",
    },
];

/// The example configuration file.
pub fn example() -> String {
    let mut out = String::from(
        "# Nimbus configuration (nimbus serve --config nimbus.toml). Every option is shown with its\n\
         # default; commented-out options have a computed default and show an example value.\n\
         # Flags and NIMBUS_* variables override this file. Check a file: nimbus config check FILE\n",
    );
    // Options of a table (`privacy.x`) come after the top-level ones, under its header.
    let mut table = None;
    for o in &OPTIONS {
        let (section, key) = o.key.split_once('.').map_or((None, o.key), |(t, k)| (Some(t), k));
        if section.is_some() && section != table {
            out.push_str(&format!("\n[{}]\n", section.unwrap_or_default()));
            table = section;
        }
        out.push('\n');
        out.push_str(&format!("# {}\n", o.doc));
        match o.default {
            Some(v) => out.push_str(&format!("{key} = {v}\n")),
            None => out.push_str(&format!("# {key} = {}\n", o.example)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example with every commented-out option set to its example value.
    fn every_option() -> String {
        example()
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if OPTIONS
                        .iter()
                        .any(|o| rest.starts_with(&format!("{} = ", o.key.rsplit('.').next().unwrap_or(o.key)))) =>
                {
                    rest.to_owned()
                }
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_repository_file_is_the_example() {
        let file = include_str!("../../../nimbus.example.toml");
        assert_eq!(file, example(), "regenerate with: nimbus config example > nimbus.example.toml");
    }

    #[test]
    fn the_example_passes_the_check_and_names_every_option() {
        crate::settings::check_text(&example()).unwrap();
        let all = crate::settings::check_text(&every_option()).unwrap();
        assert!(all.iter().all(|(_, set)| *set), "options the example does not set: {all:?}");
    }

    #[test]
    fn the_example_shows_the_defaults_in_force() {
        let app = nimbus_app::AppConfig::new("http://x", std::path::PathBuf::from("/tmp"));
        let timeouts = crate::http_front::Timeouts::default();
        let file: toml::Table = toml::from_str(&example()).unwrap();
        let int = |k: &str| file[k].as_integer().unwrap();
        assert_eq!(int("max_file_bytes") as u64, app.max_file_bytes);
        assert_eq!(int("remote_timeout_secs") as u64, app.remote_timeout_secs);
        assert_eq!(int("admin_rate_limit") as u32, app.admin_rate_limit);
        assert_eq!(int("header_timeout_secs") as u64, timeouts.headers.as_secs());
        assert_eq!(int("body_idle_timeout_secs") as u64, timeouts.body_idle.as_secs());
        let defaults = crate::settings::Settings::from_file(None).unwrap();
        assert_eq!(file["listen"].as_str().unwrap(), defaults.listen.to_string());
        assert_eq!(file["data_dir"].as_str().unwrap(), defaults.data_dir.display().to_string());
        assert_eq!(file["mail_from"].as_str().unwrap(), defaults.mail_from);
        let grace = file["privacy"]["deletion_grace"].as_str().unwrap();
        assert_eq!(nimbus_core::timefmt::parse_duration_secs(grace), Some(app.deletion_grace_secs));
        let inactive = nimbus_app::privacy::inactive::InactivePolicy::new(1);
        let reminders: Vec<i64> =
            file["privacy"]["inactive_reminders"].as_array().unwrap().iter().map(|v| v.as_integer().unwrap()).collect();
        assert_eq!(reminders, inactive.reminder_days);
        let roles: Vec<&str> =
            file["privacy"]["inactive_exclude_roles"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(roles, inactive.exclude_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>());
        assert_eq!(file["privacy"]["remember_days"].as_integer(), Some(app.remember_days));
        assert_eq!(file["privacy"]["delivery_analytics"].as_bool(), Some(app.delivery_analytics));
        for setting in nimbus_core::privacy::Setting::ALL {
            let text = file["privacy"][&format!("retention_{}", setting.as_str())].as_str().unwrap();
            assert_eq!(nimbus_core::timefmt::parse_duration_secs(text), Some(app.retention.secs(setting)));
        }
    }
}
