//! Asset metadata on every write path: request values (the pipe form `k=v|...` or a JSON
//! object) are parsed against the schema and run through the engine's write path (explicit
//! values win, rule values applied, everything validated) before the asset is written.
//!
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference#metadata>.

use nimbus_core::metadata::Issue;
use nimbus_core::metadata::doc::{metadata_from_json, metadata_json};
use nimbus_core::metadata::engine::effective;
use nimbus_core::metadata::schema::RawValue;
use nimbus_core::metadata::write::{Delta, apply, parse_delta};
use nimbus_core::params::parse_pipe_pairs;
use nimbus_core::{MetadataValues, PublicId, ResourceType};
use serde_json::Value as Json;

use super::LoadedSchema;
use crate::bulk_change::BulkChange;
use crate::error::AppResult;
use crate::events::{Caller, WriteCtx};
use crate::limits::check_ids;
use crate::ports::{MetadataUpdate, MetadataWrite};
use crate::{App, AppError};

/// Most assets one `update_metadata` call may name (the Upload API's bulk limit).
pub use crate::limits::MAX_BULK_IDS;
/// How often a write is recomputed when the asset changed underneath it.
const WRITE_ATTEMPTS: usize = 3;
/// Failing public ids named in a bulk error's message.
const NAMED_FAILURES: usize = 10;

/// A request value before it is typed: text from the pipe form, or JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum RawInput {
    Text(String),
    Json(Json),
}

/// Request metadata as (field, value) pairs, in request order.
pub type MetadataInput = Vec<(String, RawInput)>;

/// Parses a `metadata` parameter: a JSON object, or the pipe form.
pub fn parse_input(text: &str) -> AppResult<MetadataInput> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let obj: serde_json::Map<String, Json> = serde_json::from_str(trimmed)
            .map_err(|_| AppError::InvalidParam { name: "metadata", value: text.chars().take(64).collect() })?;
        return Ok(obj.into_iter().map(|(k, v)| (k, RawInput::Json(v))).collect());
    }
    Ok(parse_pipe_pairs(text).into_iter().map(|(k, v)| (k, RawInput::Text(v))).collect())
}

/// Preset metadata under request metadata: request keys win.
pub fn merge_under(request: MetadataInput, preset: MetadataInput) -> MetadataInput {
    let mut out: MetadataInput = preset.into_iter().filter(|(k, _)| !request.iter().any(|(rk, _)| rk == k)).collect();
    out.extend(request);
    out
}

/// The outcome of a metadata write: the values to store and the warnings to report.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataOutcome {
    pub values: MetadataValues,
    pub warnings: Vec<Issue>,
    /// The schema version the values were computed under.
    pub schema_version: i64,
}

/// Parses request values against the schema (unknown fields and type errors), before any
/// asset is read. With `clear_invalid`, bad entries are dropped instead.
pub fn parse_request(loaded: &LoadedSchema, input: &MetadataInput, clear_invalid: bool) -> Result<Delta, Vec<Issue>> {
    let raw: Vec<(String, RawValue<'_>)> = input
        .iter()
        .map(|(k, v)| {
            let r = match v {
                RawInput::Text(t) => RawValue::Text(t),
                RawInput::Json(j) => RawValue::Json(j),
            };
            (k.clone(), r)
        })
        .collect();
    let delta: Delta = if clear_invalid {
        raw.iter().filter_map(|pair| parse_delta(&loaded.schema, std::slice::from_ref(pair)).ok()).flatten().collect()
    } else {
        parse_delta(&loaded.schema, &raw)?
    };
    Ok(delta)
}

/// Runs the write path for one asset. With `clear_invalid`, values that do not parse or name
/// unknown fields are dropped instead of failing the request.
pub fn compute(
    loaded: &LoadedSchema,
    stored: &MetadataValues,
    input: &MetadataInput,
    is_new: bool,
    clear_invalid: bool,
) -> Result<MetadataOutcome, Vec<Issue>> {
    if loaded.docs.is_empty() && input.is_empty() {
        return Ok(MetadataOutcome { values: stored.clone(), warnings: Vec::new(), schema_version: loaded.version });
    }
    let delta = parse_request(loaded, input, clear_invalid)?;
    let typed = metadata_from_json(&loaded.schema.fields, stored);
    let written = match apply(&loaded.schema, &typed, &delta, is_new, false) {
        Ok(w) => w,
        // `clear_invalid`: the request's values that the rules refuse are dropped, once.
        Err(issues) if clear_invalid => {
            let mut kept = delta.clone();
            kept.retain(|k, _| !issues.iter().any(|i| &i.field == k));
            if kept.len() == delta.len() {
                return Err(issues);
            }
            apply(&loaded.schema, &typed, &kept, is_new, false)?
        }
        Err(issues) => return Err(issues),
    };
    let mut metadata = written.metadata;
    if loaded.docs.iter().any(|(_, d)| d.clear_when_disabled) {
        // Clearing a disabled field changes no other field's state: conditions already see
        // disabled fields as empty.
        let states = effective(&loaded.schema, &metadata);
        for (_, d) in loaded.docs.iter().filter(|(_, d)| d.clear_when_disabled) {
            let id = d.field.external_id.as_str();
            if states.get(id).is_some_and(|s| !s.enabled) {
                metadata.remove(id);
            }
        }
    }
    Ok(MetadataOutcome { values: metadata_json(&metadata), warnings: written.warnings, schema_version: loaded.version })
}

/// What the Upload API's `metadata` call writes to each asset.
#[derive(Debug, Clone)]
pub struct MetadataWriteRequest {
    pub metadata: MetadataInput,
    /// Drop stored values the schema no longer accepts instead of refusing.
    pub clear_invalid: bool,
}

impl App {
    /// The write path for one asset, against the environment's current schema.
    pub async fn metadata_for_write(
        &self,
        env: i64,
        stored: &MetadataValues,
        input: &MetadataInput,
        is_new: bool,
        clear_invalid: bool,
    ) -> AppResult<MetadataOutcome> {
        let loaded = self.metadata_schema(env).await?;
        compute(&loaded, stored, input, is_new, clear_invalid).map_err(AppError::metadata)
    }

    /// Upload API `metadata`: the same values for many assets, all or nothing. Returns the
    /// public ids updated (ids that do not exist are skipped).
    pub async fn update_metadata(
        &self,
        caller: &Caller,
        rt: ResourceType,
        request: &BulkChange<MetadataWriteRequest>,
    ) -> AppResult<Vec<String>> {
        let env = caller.env;
        let notify = self.checked_target("notification_url", request.notification_url.as_deref())?;
        let (input, clear_invalid) = (&request.change.metadata, request.change.clear_invalid);
        let ids = &request.public_ids;
        if ids.is_empty() {
            return Err(AppError::MissingParam("public_ids"));
        }
        check_ids("public_ids", ids.len(), MAX_BULK_IDS)?;
        let public_ids = ids.iter().map(|id| PublicId::parse(id)).collect::<Result<Vec<_>, _>>()?;
        let dt = request.delivery_type;
        for _ in 0..WRITE_ATTEMPTS {
            let loaded = self.metadata_schema(env).await?;
            parse_request(&loaded, input, clear_invalid).map_err(AppError::metadata)?;
            let assets = self.catalog.asset_metadata(env, rt, dt, &public_ids).await?;
            let input = input.clone();
            let version = loaded.version;
            let plan = self
                .cpu
                .run(move || {
                    let mut updates = Vec::with_capacity(assets.len());
                    let mut failures: Vec<Issue> = Vec::new();
                    for (public_id, stored) in assets {
                        match compute(&loaded, &stored, &input, false, clear_invalid) {
                            Ok(out) => updates.push(MetadataUpdate { public_id, expected: stored, new: out.values }),
                            Err(issues) => failures.extend(issues.into_iter().map(|mut i| {
                                i.public_id = Some(public_id.to_string());
                                i
                            })),
                        }
                    }
                    (updates, failures)
                })
                .await?;
            let (updates, failures) = plan;
            if !failures.is_empty() {
                return Err(bulk_error(failures));
            }
            let w = WriteCtx::new(caller, self.now()).notify(notify.clone());
            match self.catalog.set_asset_metadata(&w, rt, dt, &updates, version).await? {
                MetadataWrite::Done => {
                    // In request order, each once.
                    let done: std::collections::HashSet<&str> = updates.iter().map(|u| u.public_id.as_str()).collect();
                    let mut seen = std::collections::HashSet::new();
                    return Ok(ids
                        .iter()
                        .filter(|i| done.contains(i.as_str()) && seen.insert((*i).clone()))
                        .cloned()
                        .collect());
                }
                MetadataWrite::Stale(_) | MetadataWrite::SchemaChanged => continue,
            }
        }
        Err(AppError::MetadataBusy)
    }
}

/// One error for a failed bulk write: the message names up to ten failing assets.
fn bulk_error(failures: Vec<Issue>) -> AppError {
    let mut ids: Vec<&str> = Vec::new();
    for f in &failures {
        if let Some(p) = f.public_id.as_deref() {
            if !ids.contains(&p) {
                ids.push(p);
            }
        }
    }
    let named: Vec<&str> = ids.iter().take(NAMED_FAILURES).copied().collect();
    let more = ids.len().saturating_sub(NAMED_FAILURES);
    let first = failures.first().map(|f| f.message.clone()).unwrap_or_default();
    let message = format!(
        "Metadata update failed for {} asset(s): {}{}; nothing was changed. First error: {first}",
        ids.len(),
        named.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() }
    );
    AppError::MetadataInvalid { message, issues: failures }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_merges_presets_under_requests() {
        let pipe = parse_input(r#"sku=12|colors=["red","blue"]"#).unwrap();
        assert_eq!(pipe[1], ("colors".to_owned(), RawInput::Text(r#"["red","blue"]"#.to_owned())));
        let json = parse_input(r#"{"sku": 12}"#).unwrap();
        assert_eq!(json, vec![("sku".to_owned(), RawInput::Json(Json::from(12)))]);
        assert!(parse_input("{not json").is_err());
        let merged = merge_under(parse_input("a=1").unwrap(), parse_input("a=2|b=3").unwrap());
        assert_eq!(
            merged,
            vec![("b".to_owned(), RawInput::Text("3".into())), ("a".to_owned(), RawInput::Text("1".into()))]
        );
    }
}
