//! The structured-metadata form of an asset, with the conditional rules live. The server
//! renders each field as the rules leave it for the stored values (shown or hidden, enabled,
//! mandatory, allowed values), so the form is right without script; `console.js` asks
//! `/console/{cloud}/metadata/evaluate` on every change and updates the form in place.
//! Saving goes through the same write path as the API; a refused value is shown next to its
//! field, with the rule that refused it.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::accounts::SignedIn;
use nimbus_app::metadata::LoadedSchema;
use nimbus_app::metadata::rules::{Evaluation, FieldState};
use nimbus_app::metadata::values::{MetadataInput, RawInput};
use nimbus_app::{App, AppError};
use nimbus_core::Asset;
use nimbus_core::accounts::Permission;
use nimbus_core::metadata::{FieldType, Issue};
use serde_json::Value as Json;

use crate::csrf;
use crate::error::PageError;
use crate::session::Signed;

/// A metadata form that was refused: the values as submitted, and why.
#[derive(Debug, Clone, Copy)]
pub struct Refused<'a> {
    pub values: &'a [(String, String)],
    pub issues: &'a [Issue],
}

/// Form controls are named `md.{external_id}`.
const PREFIX: &str = "md.";

/// The submitted values of each field (a set field may have several; empty ones dropped).
/// `None` for a field the form did not send at all (its controls were disabled).
fn submitted<'a>(pairs: &'a [(String, String)], id: &str) -> Option<Vec<&'a str>> {
    let key = format!("{PREFIX}{id}");
    let mut found = false;
    let mut out = Vec::new();
    for (k, v) in pairs {
        if *k == key {
            found = true;
            if !v.trim().is_empty() {
                out.push(v.trim());
            }
        }
    }
    found.then_some(out)
}

/// A field's submitted values as the API would receive them; `None` when empty.
fn json_of(t: FieldType, values: &[&str]) -> Option<Json> {
    match (t, values) {
        (_, []) => None,
        (FieldType::Set, vs) => Some(Json::Array(vs.iter().map(|v| Json::String((*v).to_owned())).collect())),
        (FieldType::Integer, [v, ..]) => {
            Some(v.parse::<i64>().map_or_else(|_| Json::String((*v).to_owned()), Json::from))
        }
        (_, [v, ..]) => Some(Json::String((*v).to_owned())),
    }
}

/// The values to evaluate: every non-empty field of the form.
fn evaluation_input(loaded: &LoadedSchema, pairs: &[(String, String)]) -> MetadataInput {
    loaded
        .docs
        .iter()
        .filter_map(|(_, d)| {
            let id = &d.field.external_id;
            let v = json_of(d.field.field_type, &submitted(pairs, id)?)?;
            Some((id.clone(), RawInput::Json(v)))
        })
        .collect()
}

/// The values to write: only what changed from the stored ones; an emptied field is cleared,
/// a field the form did not send is left alone.
pub fn changes(
    loaded: &LoadedSchema,
    pairs: &[(String, String)],
    stored: &nimbus_core::MetadataValues,
) -> MetadataInput {
    let mut out = Vec::new();
    for (_, d) in &loaded.docs {
        let id = &d.field.external_id;
        let Some(values) = submitted(pairs, id) else { continue };
        let new = json_of(d.field.field_type, &values);
        let old = stored.get(id.as_str()).filter(|v| !v.is_null() && *v != &Json::Array(Vec::new()));
        match (new, old) {
            (None, None) => {}
            (None, Some(_)) => out.push((id.clone(), RawInput::Text(String::new()))),
            (Some(n), Some(o)) if same(&n, o) => {}
            (Some(n), _) => out.push((id.clone(), RawInput::Json(n))),
        }
    }
    out
}

/// Equal as the form shows them (numbers and their text alike).
fn same(a: &Json, b: &Json) -> bool {
    shown(a) == shown(b)
}

fn shown(v: &Json) -> Vec<String> {
    match v {
        Json::Array(items) => items.iter().flat_map(shown).collect(),
        Json::String(s) => vec![s.clone()],
        Json::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

/// The stored values as the form's initial pairs.
fn stored_pairs(a: &Asset) -> Vec<(String, String)> {
    a.metadata.iter().flat_map(|(k, v)| shown(v).into_iter().map(move |s| (format!("{PREFIX}{k}"), s))).collect()
}

/// One field's control, as the evaluation `st` leaves it.
fn field(
    d: &nimbus_core::metadata::Field,
    st: Option<&FieldState>,
    values: &[String],
    issues: &[&Issue],
    can_edit: bool,
) -> Markup {
    let id = &d.external_id;
    let name = format!("{PREFIX}{id}");
    let dom = format!("md-{}", id.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    // A field the rules disable is not part of the form (as in Cloudinary's Media Library).
    let enabled = st.is_none_or(|s| s.enabled);
    let hidden = st.is_some_and(|s| s.hidden) || !enabled;
    let disabled = !can_edit || !enabled;
    let mandatory = st.is_some_and(|s| s.mandatory);
    let allowed: Option<Vec<&str>> =
        st.and_then(|s| s.allowed_values.as_ref()).map(|a| a.iter().map(String::as_str).collect());
    let offered = |e: &&nimbus_core::metadata::DatasourceEntry| {
        e.active && allowed.as_ref().is_none_or(|a| a.contains(&e.external_id.as_str()))
            || values.contains(&e.external_id)
    };
    let first = values.first().map_or("", String::as_str);
    let error_id = format!("{dom}-error");
    let described = (!issues.is_empty()).then_some(error_id.as_str());
    html! {
        div class="md-field" data-field=(id) hidden[hidden] {
            @if d.field_type == FieldType::Set {
                fieldset aria-describedby=[described] {
                    legend { (d.label) span class="req" hidden[!mandatory] { " *" } }
                    input type="hidden" name=(name) value="" disabled[disabled];
                    @for e in d.datasource.iter().filter(offered) {
                        label class="check" data-value=(e.external_id) {
                            input type="checkbox" name=(name) value=(e.external_id) checked[values.contains(&e.external_id)] disabled[disabled];
                            " " (e.value)
                        }
                    }
                }
            } @else {
                label for=(dom) { (d.label) span class="req" hidden[!mandatory] { " *" } }
                @match d.field_type {
                    FieldType::Enum => select id=(dom) name=(name) disabled[disabled] aria-required=[mandatory.then_some("true")] aria-describedby=[described] {
                        option value="" { "—" }
                        @for e in d.datasource.iter().filter(offered) {
                            option value=(e.external_id) selected[first == e.external_id] { (e.value) }
                        }
                    },
                    FieldType::Integer => input id=(dom) type="number" step="1" name=(name) value=(first) disabled[disabled] aria-required=[mandatory.then_some("true")] aria-describedby=[described];,
                    FieldType::Date => input id=(dom) type="date" name=(name) value=(first) disabled[disabled] aria-required=[mandatory.then_some("true")] aria-describedby=[described];,
                    _ => input id=(dom) type="text" name=(name) value=(first) disabled[disabled] aria-required=[mandatory.then_some("true")] aria-describedby=[described];,
                }
            }
            @if !issues.is_empty() {
                p class="error field-error" id=(error_id) role="alert" {
                    @for i in issues {
                        (i.message)
                        @if let Some(r) = &i.rule { @if !i.message.contains(r.as_str()) { " (rule " (r) ")" } }
                        " "
                    }
                }
            }
        }
    }
}

/// The metadata section of an asset page: the form, with `pairs` as its values (the stored
/// ones, or what was just refused) and `issues` next to their fields.
pub async fn section(
    app: &App,
    who: &SignedIn,
    cloud: &str,
    a: &Asset,
    refused: Option<Refused<'_>>,
) -> Result<Markup, AppError> {
    let caller = app.authorize(who, cloud, Permission::ReadAssets)?;
    let loaded = app.metadata_schema(caller.env).await?;
    if loaded.docs.is_empty() {
        return Ok(html! {});
    }
    let can_edit = who.role_in(cloud).is_some_and(|r| r.allows(Permission::WriteAssets));
    let stored = stored_pairs(a);
    let (pairs, issues): (&[(String, String)], &[Issue]) = match refused {
        Some(r) => (r.values, r.issues),
        None => (&stored, &[]),
    };
    let evaluation = app.evaluate_metadata_input(caller.env, &evaluation_input(&loaded, pairs)).await.ok();
    Ok(html! {
        h2 { "Structured metadata" }
        form method="post" id="metadata-form" action={ "/console/" (cloud) "/assets/" (a.asset_id) "/metadata" }
            data-evaluate={ "/console/" (cloud) "/metadata/evaluate" } data-readonly[!can_edit] novalidate {
            input type="hidden" name="csrf" value=(who.session.csrf);
            @for (_, d) in &loaded.docs {
                @let id = &d.field.external_id;
                @let values: Vec<String> = pairs.iter().filter(|(k, _)| k.strip_prefix(PREFIX) == Some(id.as_str())).map(|(_, v)| v.clone()).filter(|v| !v.is_empty()).collect();
                @let mine: Vec<&Issue> = issues.iter().filter(|i| i.field == *id).collect();
                (field(&d.field, evaluation.as_ref().and_then(|e| e.field(id)), &values, &mine, can_edit))
            }
            @let general: Vec<&Issue> = issues.iter().filter(|i| !loaded.docs.iter().any(|(_, d)| d.field.external_id == i.field)).collect();
            @for i in general { p class="error" role="alert" { (i.message) } }
            @if can_edit { button type="submit" { "Save metadata" } }
        }
    })
}

/// What `console.js` reads of an evaluation: `{fields: {id: {enabled, hidden, mandatory,
/// allowed_values}}}`.
fn states_json(e: &Evaluation) -> Json {
    let fields: serde_json::Map<String, Json> = e
        .fields
        .iter()
        .map(|(id, st)| {
            let state = serde_json::json!({
                "enabled": st.enabled,
                "hidden": st.hidden,
                "mandatory": st.mandatory,
                "allowed_values": st.allowed_values,
            });
            (id.clone(), state)
        })
        .collect();
    serde_json::json!({ "fields": fields })
}

/// `POST /console/{cloud}/metadata/evaluate`: the form's values in, each field's state out
/// (JSON, for `console.js`).
pub async fn evaluate(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let token = pairs.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str());
    csrf::check(&who.session.csrf, token)?;
    let caller = app.authorize(&who, &cloud, Permission::ReadAssets)?;
    let loaded = app.metadata_schema(caller.env).await?;
    match app.evaluate_metadata_input(caller.env, &evaluation_input(&loaded, &pairs)).await {
        Ok(v) => Ok(axum::Json(states_json(&v)).into_response()),
        // Values that do not parse yet (a half-typed number): the states of the others.
        Err(AppError::MetadataInvalid { issues, .. }) => {
            let bad: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
            let kept: Vec<(String, String)> = pairs
                .iter()
                .filter(|(k, _)| !bad.iter().any(|b| k.strip_prefix(PREFIX) == Some(*b)))
                .cloned()
                .collect();
            let v = app.evaluate_metadata_input(caller.env, &evaluation_input(&loaded, &kept)).await?;
            Ok(axum::Json(states_json(&v)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
