//! `nimbus admin privacy requests ...`: the operator's side of the request desk (privacy F8):
//! the requests with their due dates (overdue ones marked), one request with its history,
//! what the catalog holds about its subject, the archive for an account holder, and the
//! extension and closing of a request, each logged.

use std::error::Error;

use clap::Subcommand;
use nimbus_app::App;
use nimbus_core::timefmt::iso8601;

/// Who acts, in a request's history.
const OPERATOR: &str = "operator";

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Every request: the open ones by due date (overdue ones marked), then the closed ones.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One request and its history.
    Show { id: i64 },
    /// What the catalog holds about a request's subject: the account with its address, its
    /// other requests, the assets a removal request names.
    Find { id: i64 },
    /// Mail the account holder with the request's verified address the archive of their data.
    Export { id: i64 },
    /// Extend a request to 90 days after receipt (once), for a reason.
    Extend {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Close a request as answered, or with --refused as refused, with a note for the record.
    Close {
        id: i64,
        #[arg(long)]
        note: String,
        #[arg(long)]
        refused: bool,
    },
}

/// How a request stands, with an overdue one in capitals in the text listing.
fn state(r: &nimbus_app::ports::SubjectRequest, now: i64) -> String {
    match nimbus_app::privacy::desk::request_state(r, now) {
        "overdue" => "OVERDUE".to_owned(),
        other => other.to_owned(),
    }
}

pub async fn run(app: &App, cmd: RequestsCommand) -> Result<(), Box<dyn Error>> {
    let now = app.now();
    match cmd {
        RequestsCommand::List { json } => {
            let all = app.subject_requests().await?;
            for r in &all {
                if json {
                    let line = serde_json::json!({
                        "id": r.id, "kind": r.kind, "email": r.email, "cloud": r.cloud, "public_id": r.public_id,
                        "status": r.status, "state": nimbus_app::privacy::desk::request_state(r, now), "verified": r.verified_at.is_some(),
                        "received_at": iso8601(r.received_at), "due_at": iso8601(r.due_at),
                        "extension_reason": r.extension_reason,
                    });
                    println!("{line}");
                } else {
                    println!(
                        "{:>5}  {:<10} {:<8} due {}  {}",
                        r.id,
                        state(r, now),
                        r.kind,
                        &iso8601(r.due_at)[..10],
                        r.email
                    );
                }
            }
            if all.is_empty() && !json {
                println!("no requests");
            }
        }
        RequestsCommand::Show { id } => {
            let (r, log) = app.subject_request(id).await?;
            println!("request {} ({}): {}", r.id, state(&r, now), r.kind);
            println!("from {} ({})", r.email, if r.verified_at.is_some() { "verified" } else { "not verified" });
            if let (Some(c), Some(p)) = (&r.cloud, &r.public_id) {
                println!("about {p} in {c}");
            }
            println!("received {}, due {}", iso8601(r.received_at), iso8601(r.due_at));
            if !r.details.is_empty() {
                println!("details: {}", r.details);
            }
            for l in log {
                println!("  {}  {:<9}  {}", iso8601(l.at), l.actor, l.note);
            }
        }
        RequestsCommand::Find { id } => {
            let f = app.find_subject(id).await?;
            match &f.account {
                Some((user, rows)) => {
                    println!("an account: user {user}");
                    for (table, n) in rows {
                        println!("  {table}: {n} row(s)");
                    }
                }
                None => println!("no account with this address"),
            }
            if !f.requests.is_empty() {
                let ids: Vec<String> = f.requests.iter().map(ToString::to_string).collect();
                println!("other requests from this address: {}", ids.join(", "));
            }
            for (cloud, rt, dt) in &f.assets {
                println!("the asset named: {cloud} {rt}/{dt}");
            }
            for c in &f.cautions {
                println!("note: {c}");
            }
        }
        RequestsCommand::Export { id } => match app.export_for_request(id, OPERATOR).await? {
            Some(export) => println!("archive {export} is being made; its link goes to the verified address"),
            None => println!("no account has this address; `find` shows everything held about it"),
        },
        RequestsCommand::Extend { id, reason } => {
            let r = app.extend_subject_request(id, &reason, OPERATOR).await?;
            println!("request {id} now due {}", iso8601(r.due_at));
        }
        RequestsCommand::Close { id, note, refused } => {
            let r = app.close_subject_request(id, refused, &note, OPERATOR).await?;
            println!("request {id} {}", r.status);
        }
    }
    Ok(())
}
