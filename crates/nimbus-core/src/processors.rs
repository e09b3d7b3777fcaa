//! The processors registry: every outside party that receives personal data from this
//! installation, with what for and what data. Nimbus adds its own flows from the settings
//! (the mail relay, an S3 provider); the operator declares any other in the processors file.
//! The privacy centre and page list them, and the "Shine the Light" report is made from those
//! whose purpose is direct marketing (none by default).

use serde::Deserialize;

/// Why a processor receives the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Sends the mail Nimbus writes to people (invitations, resets, notices).
    TransactionalMail,
    /// Keeps the files.
    Storage,
    /// Receives notifications about changes.
    Webhooks,
    Analytics,
    /// The third party's own direct marketing (what the California "Shine the Light" law asks
    /// to be reported).
    DirectMarketing,
    Other,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransactionalMail => "transactional_mail",
            Self::Storage => "storage",
            Self::Webhooks => "webhooks",
            Self::Analytics => "analytics",
            Self::DirectMarketing => "direct_marketing",
            Self::Other => "other",
        }
    }
}

/// One outside party.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Processor {
    pub name: String,
    pub purpose: Purpose,
    /// What personal data it receives, in words.
    pub data: Vec<String>,
    /// Where it keeps it (a country or region), if known.
    #[serde(default)]
    pub location: Option<String>,
}

/// The processors file: `[[processor]]` tables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessorsFile {
    #[serde(default)]
    pub processor: Vec<Processor>,
}

/// The processors whose purpose is the third party's direct marketing.
pub fn direct_marketing(all: &[Processor]) -> Vec<&Processor> {
    all.iter().filter(|p| p.purpose == Purpose::DirectMarketing).collect()
}
