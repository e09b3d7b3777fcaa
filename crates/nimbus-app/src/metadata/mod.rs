//! Structured metadata: the field and datasource administration ([`fields`]), conditional
//! rules with their evaluate and preview extensions ([`rules`]), and the write path every
//! asset write goes through ([`values`]). The rules engine itself is pure and lives in
//! `nimbus_core::metadata`; this module loads schemas, caches them by version and commits
//! schema changes optimistically.

pub mod apply;
pub mod fields;
pub mod rules;
pub mod values;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use nimbus_core::metadata::doc::{FieldDoc, parse_field};
use nimbus_core::metadata::rules::{Fields, parse_condition, parse_result};
use nimbus_core::metadata::{Rule, Schema};

use crate::error::AppResult;
use crate::ports::{FieldRecord, MetadataChange, MetadataSnapshot, RuleRecord};
use crate::{App, AppError};

/// How often a schema change is retried when another change committed first.
const CHANGE_ATTEMPTS: usize = 5;

/// An environment's metadata schema at one version, compiled for the engine.
#[derive(Debug)]
pub struct LoadedSchema {
    pub version: i64,
    pub schema: Schema,
    /// Field definitions in display order, with their stored records.
    pub docs: Vec<(FieldRecord, FieldDoc)>,
    /// Rules in `seq` order.
    pub rules: Vec<RuleRecord>,
    /// External ids of deleted fields, reserved.
    pub deleted_fields: Vec<String>,
}

impl LoadedSchema {
    pub fn doc(&self, id: &str) -> Option<&(FieldRecord, FieldDoc)> {
        self.docs.iter().find(|(r, _)| r.external_id == id)
    }

    pub fn rule(&self, id: &str) -> Option<&RuleRecord> {
        self.rules.iter().find(|r| r.external_id == id)
    }

    /// Compiles a snapshot. Stored definitions were checked when written; one that no
    /// longer parses is logged and left out rather than failing every write.
    pub fn compile(snap: MetadataSnapshot) -> AppResult<Self> {
        let mut docs = Vec::with_capacity(snap.fields.len());
        for rec in snap.fields {
            match parse_field(&rec.doc, &mut || String::new()) {
                Ok(doc) => docs.push((rec, doc)),
                Err(e) => tracing::error!(field = rec.external_id, error = e, "stored metadata field does not parse"),
            }
        }
        let fields: Fields = docs.iter().map(|(_, d)| (d.field.external_id.clone(), d.field.clone())).collect();
        let mut rules = Vec::with_capacity(snap.rules.len());
        for rec in &snap.rules {
            match compile_rule(rec, &fields) {
                Ok(r) => rules.push(r),
                Err(e) => tracing::error!(rule = rec.external_id, error = e, "stored metadata rule does not parse"),
            }
        }
        let schema = match Schema::new(fields.clone(), rules.clone()) {
            Ok(s) => s,
            Err(_) => {
                // Write-time checks keep cycles out; should one be stored anyway, evaluate
                // without rules rather than refuse every write.
                tracing::error!("stored metadata rules form a cycle; evaluating without them");
                let inactive = rules.into_iter().map(|r| Rule { active: false, ..r }).collect();
                Schema::new(fields, inactive)
                    .map_err(|_| AppError::Catalog("metadata rules form a cycle".to_owned()))?
            }
        };
        Ok(Self { version: snap.version, schema, docs, rules: snap.rules, deleted_fields: snap.deleted_fields })
    }
}

/// A stored rule in the engine's form.
pub fn compile_rule(rec: &RuleRecord, fields: &Fields) -> Result<Rule, String> {
    let target = fields.get(&rec.field).ok_or_else(|| format!("Metadata field '{}' does not exist", rec.field))?;
    let condition = parse_condition(&rec.condition, fields).map_err(|e| e.message)?;
    let (result, _) = parse_result(&rec.result, target).map_err(|e| e.message)?;
    Ok(Rule {
        external_id: rec.external_id.clone(),
        name: rec.name.clone(),
        field: rec.field.clone(),
        condition,
        result,
        active: rec.active,
        seq: rec.seq,
    })
}

/// Compiled schemas by environment, replaced when the stored version moves on.
#[derive(Debug, Default, Clone)]
pub struct SchemaCache(Arc<Mutex<HashMap<i64, Arc<LoadedSchema>>>>);

impl SchemaCache {
    fn get(&self, env: i64, version: i64) -> Option<Arc<LoadedSchema>> {
        let map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&env).filter(|s| s.version == version).cloned()
    }

    fn put(&self, env: i64, s: Arc<LoadedSchema>) {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(env, s);
    }
}

impl App {
    /// The environment's current metadata schema: one version read, and a reload only when
    /// the version moved (so every node sees a committed change on its next write).
    pub async fn metadata_schema(&self, env: i64) -> AppResult<Arc<LoadedSchema>> {
        let version = self.catalog.metadata_version(env).await?;
        if let Some(s) = self.schema_cache.get(env, version) {
            return Ok(s);
        }
        let snap = self.catalog.metadata_snapshot(env).await?;
        let loaded = Arc::new(self.cpu.run(move || LoadedSchema::compile(snap)).await??);
        self.schema_cache.put(env, loaded.clone());
        Ok(loaded)
    }

    /// Computes changes from the current schema and commits them if nobody changed the
    /// schema in between; otherwise recomputes from the newer schema.
    pub(crate) async fn change_schema<R>(
        &self,
        caller: &crate::events::Caller,
        mut plan: impl FnMut(&LoadedSchema) -> AppResult<(Vec<MetadataChange>, R)>,
    ) -> AppResult<R> {
        for _ in 0..CHANGE_ATTEMPTS {
            let loaded = self.metadata_schema(caller.env).await?;
            let (changes, out) = plan(&loaded)?;
            let w = crate::events::WriteCtx::new(caller, self.now());
            if changes.is_empty() || self.catalog.change_metadata(&w, loaded.version, &changes).await? {
                return Ok(out);
            }
        }
        Err(AppError::MetadataBusy)
    }
}
