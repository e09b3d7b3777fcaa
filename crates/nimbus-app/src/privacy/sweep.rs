//! The sweep: every place where a person's e-mail address, name or IP address still
//! appears: any text column of any catalog table (the statistics included), the blob store
//! (object names, and the person-owned objects under the privacy prefix), and log files.
//! `nimbus admin privacy sweep` prints it; the erasure tests assert it finds nothing.

use std::path::PathBuf;

use crate::App;
use crate::error::AppResult;

/// One place a needle was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was looked for.
    pub needle: String,
    /// Where: `catalog users.email`, `blob privacy/users/3/export.zip`, `log /var/log/nimbus.log`.
    pub place: String,
    /// Rows, objects or lines.
    pub count: i64,
}

impl App {
    /// Looks for each needle (ignoring case) in the catalog, the blob store and `logs`.
    pub async fn privacy_sweep(&self, needles: &[String], logs: &[PathBuf]) -> AppResult<Vec<Finding>> {
        let needles: Vec<String> = needles.iter().map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty()).collect();
        let mut out = Vec::new();
        for needle in &needles {
            for hit in self.catalog.sweep(needle).await? {
                out.push(Finding {
                    needle: needle.clone(),
                    place: format!("catalog {}.{}", hit.table, hit.column),
                    count: hit.rows,
                });
            }
        }
        // Object names anywhere; contents of the objects kept about people.
        for prefix in ["", super::BLOB_PREFIX] {
            for b in self.blobs.list(prefix).await? {
                let in_name: Vec<&String> = if prefix.is_empty() {
                    needles.iter().filter(|n| b.key.to_lowercase().contains(n.as_str())).collect()
                } else {
                    Vec::new()
                };
                for n in in_name {
                    out.push(Finding { needle: n.clone(), place: format!("blob name {}", b.key), count: 1 });
                }
                if !prefix.is_empty() && b.key.starts_with(&format!("{}users/", super::BLOB_PREFIX)) {
                    let text = String::from_utf8_lossy(&self.read_blob(&b.key).await?).to_lowercase();
                    for n in needles.iter().filter(|n| text.contains(n.as_str())) {
                        out.push(Finding { needle: n.clone(), place: format!("blob {}", b.key), count: 1 });
                    }
                }
            }
        }
        for path in logs {
            let text = tokio::fs::read(path).await?;
            let text = String::from_utf8_lossy(&text).to_lowercase();
            for n in &needles {
                let lines = text.lines().filter(|l| l.contains(n.as_str())).count() as i64;
                if lines > 0 {
                    out.push(Finding { needle: n.clone(), place: format!("log {}", path.display()), count: lines });
                }
            }
        }
        Ok(out)
    }
}
