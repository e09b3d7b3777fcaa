//! The privacy centre: what Nimbus holds about the signed-in person (each category with its
//! row count, purpose and retention, from the registry), where it is kept, who else can see
//! it, and to whom it goes.

use nimbus_core::accounts::Role;
use nimbus_core::privacy::{Category, REGISTRY, Retention};

use crate::App;
use crate::accounts::SignedIn;
use crate::error::AppResult;

/// One category of data held about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub category: Category,
    pub rows: i64,
    /// What each kind of data in it is.
    pub purposes: Vec<&'static str>,
    pub retention: Retention,
}

/// Someone who can see the person's data: an owner or admin of an environment they share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub email: String,
    pub role: Role,
    pub cloud: String,
}

#[derive(Debug, Clone)]
pub struct PrivacyCenter {
    pub held: Vec<Held>,
    /// What is kept where (catalog, files, mail), from the settings.
    pub locations: Vec<(String, String)>,
    pub viewers: Vec<Viewer>,
    /// Outside parties that receive personal data.
    pub processors: Vec<nimbus_core::processors::Processor>,
    pub deletion_grace_secs: i64,
    /// Since when the person objects to sharing, if they do.
    pub share_opt_out_at: Option<i64>,
    /// Since when the person gets product news by mail, if they asked for it.
    pub product_news_at: Option<i64>,
}

impl App {
    /// `GET /console/account/privacy`.
    pub async fn privacy_center(&self, who: &SignedIn) -> AppResult<PrivacyCenter> {
        let mut held: Vec<Held> = Vec::new();
        for (table, rows) in self.catalog.subject_rows(who.user.id).await? {
            let columns: Vec<_> = REGISTRY.iter().filter(|c| c.table == table).collect();
            let Some(first) = columns.first() else { continue };
            // A request from an authority is told by notice when the law allows, not here.
            if first.category == nimbus_core::privacy::Category::Legal {
                continue;
            }
            match held.iter_mut().find(|h| h.category == first.category) {
                Some(h) => {
                    h.rows += rows;
                    h.purposes.extend(columns.iter().map(|c| c.purpose));
                }
                None => held.push(Held {
                    category: first.category,
                    rows,
                    purposes: columns.iter().map(|c| c.purpose).collect(),
                    retention: self.config.retention.resolve(first.retention),
                }),
            }
        }
        let mut viewers = Vec::new();
        let mine: Vec<i64> = who.memberships.iter().map(|m| m.env_id).collect();
        for (user, memberships) in self.list_users().await? {
            if user.id == who.user.id {
                continue;
            }
            for m in
                memberships.iter().filter(|m| mine.contains(&m.env_id) && matches!(m.role, Role::Owner | Role::Admin))
            {
                viewers.push(Viewer { email: user.email.clone(), role: m.role, cloud: m.cloud_name.clone() });
            }
        }
        let processors = self.config.processors.clone();
        let me = self.catalog.user_by_id(who.user.id).await?;
        Ok(PrivacyCenter {
            held,
            locations: self.config.data_locations.clone(),
            viewers,
            processors,
            deletion_grace_secs: self.config.deletion_grace_secs,
            share_opt_out_at: me.as_ref().and_then(|u| u.share_opt_out_at),
            product_news_at: me.as_ref().and_then(|u| u.product_news_at),
        })
    }
}
