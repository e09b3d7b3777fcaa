//! The structured-metadata schema, for admins: each field with its type and values, and each
//! conditional rule in plain words ("Team is shown when Category is Employee"). Fields are
//! created here; rules are created, edited and switched on or off, and every rule change can
//! be previewed against the stored assets before it is made (activation always is).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::App;
use nimbus_app::accounts::SignedIn;
use nimbus_app::accounts::schema::NewField;
use nimbus_app::metadata::rules::{RuleDraft, RulePreview, RuleProposal};
use nimbus_core::metadata::summary;
use serde::Deserialize;

use super::layout;
use crate::csrf;
use crate::error::PageError;
use crate::session::Signed;

/// `GET /console/{cloud}/schema`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
) -> Result<Response, PageError> {
    let loaded = app.schema_as(&who, &cloud).await?;
    let fields = &loaded.schema.fields;
    let body = html! {
        (layout::env_tabs(&who, &cloud, "schema"))
        h1 { "Metadata schema" }
        h2 { "Fields" }
        @if loaded.docs.is_empty() { p class="muted" { "No fields yet." } }
        @else {
            table {
                thead { tr { th scope="col" { "Label" } th scope="col" { "External ID" } th scope="col" { "Type" } th scope="col" { "Mandatory" } th scope="col" { "Values" } } }
                tbody {
                    @for (_, d) in &loaded.docs {
                        tr {
                            td { (d.field.label) }
                            td { code { (d.field.external_id) } }
                            td { (d.field.field_type.as_str()) }
                            td { @if d.field.mandatory { "yes" } @else { "no" } }
                            td { (d.field.datasource.iter().filter(|e| e.active).map(|e| e.value.as_str()).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
            }
        }
        h2 { "Conditional rules" }
        @if loaded.schema.rules.is_empty() { p class="muted" { "No rules yet." } }
        @else {
            ul class="rules" {
                @for r in &loaded.schema.rules {
                    li class={ @if r.active { "rule" } @else { "rule inactive" } } {
                        p class="summary" { (summary::rule(fields, r)) }
                        p class="muted" { (r.name) " · " code { (r.external_id) } " · " @if r.active { "active" } @else { "inactive" } " · " a href={ "/console/" (cloud) "/schema/rules/" (r.external_id) } { "Edit" span class="visually-hidden" { " " (r.name) } } }
                        form method="post" action={ "/console/" (cloud) "/schema/rules/" (r.external_id) "/state" } class="inline" {
                            input type="hidden" name="csrf" value=(who.session.csrf);
                            input type="hidden" name="active" value=(if r.active { "false" } else { "true" });
                            button type="submit" { @if r.active { "Deactivate" } @else { "Activate" } " " span class="visually-hidden" { (r.name) } }
                        }
                    }
                }
            }
        }
        p { a href={ "/console/" (cloud) "/schema/new-rule" } { "New rule" } }
        (field_form(&who, &cloud, None))
    };
    Ok(layout::page(&who, Some(&cloud), "Metadata schema", body).into_response())
}

const FIELD_TYPES: [&str; 5] = ["string", "integer", "date", "enum", "set"];

fn field_form(who: &SignedIn, cloud: &str, error: Option<&str>) -> Markup {
    html! {
        h2 { "New field" }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action={ "/console/" (cloud) "/schema/fields" } {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="field-label" { "Label" }
            input id="field-label" type="text" name="label" required;
            label for="field-id" { "External ID (optional)" }
            input id="field-id" type="text" name="external_id";
            label for="field-type" { "Type" }
            select id="field-type" name="field_type" {
                @for t in FIELD_TYPES { option value=(t) { (t) } }
            }
            label for="field-values" { "Values, one per line (enum and set)" }
            textarea id="field-values" name="values" rows="4" {}
            label class="check" { input type="checkbox" name="mandatory" value="true"; " Mandatory" }
            button type="submit" { "Create field" }
        }
    }
}

#[derive(Deserialize)]
pub struct FieldForm {
    csrf: String,
    label: String,
    #[serde(default)]
    external_id: String,
    field_type: String,
    #[serde(default)]
    values: String,
    #[serde(default)]
    mandatory: Option<String>,
}

/// `POST /console/{cloud}/schema/fields`.
pub async fn create_field(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    Form(f): Form<FieldForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    let field = NewField {
        external_id: Some(f.external_id.trim().to_owned()),
        label: f.label.trim().to_owned(),
        field_type: f.field_type,
        mandatory: f.mandatory.is_some(),
        values: f.values.lines().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect(),
    };
    match app.create_field_as(&who, &cloud, &field).await {
        Ok(()) => Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/schema"))]).into_response()),
        Err(e) if crate::error::refuses_input(&e) => {
            let body = html! {
                (layout::env_tabs(&who, &cloud, "schema"))
                p { a href={ "/console/" (cloud) "/schema" } { "← Metadata schema" } }
                (field_form(&who, &cloud, Some(&e.to_string())))
            };
            Ok((StatusCode::BAD_REQUEST, layout::page(&who, Some(&cloud), "New field", body)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// A rule as its form holds it: the rules language's condition and result as JSON text.
#[derive(Deserialize, Default)]
pub struct RuleForm {
    csrf: String,
    /// The rule edited; empty for a new one.
    #[serde(default)]
    id: String,
    #[serde(default)]
    external_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    condition: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    active: Option<String>,
    /// `preview` or `save`.
    #[serde(default)]
    intent: String,
}

impl RuleForm {
    fn of(r: &nimbus_app::ports::RuleRecord) -> Self {
        Self {
            id: r.external_id.clone(),
            external_id: r.external_id.clone(),
            name: r.name.clone(),
            field: r.field.clone(),
            condition: serde_json::to_string_pretty(&r.condition).unwrap_or_default(),
            result: serde_json::to_string_pretty(&r.result).unwrap_or_default(),
            active: r.active.then(|| "true".to_owned()),
            ..Self::default()
        }
    }

    fn draft(&self) -> Result<RuleDraft, String> {
        let json = |what: &str, text: &str| -> Result<Option<serde_json::Value>, String> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            serde_json::from_str(text).map(Some).map_err(|e| format!("The {what} is not valid JSON: {e}"))
        };
        let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(RuleDraft {
            external_id: given(if self.id.is_empty() { &self.external_id } else { &self.id }),
            field: given(&self.field),
            name: given(&self.name),
            condition: json("condition", &self.condition)?,
            result: json("result", &self.result)?,
            active: Some(self.active.is_some()),
        })
    }
}

fn rule_page(
    who: &SignedIn,
    cloud: &str,
    loaded: &nimbus_app::metadata::LoadedSchema,
    f: &RuleForm,
    error: Option<&str>,
    preview: Option<&RulePreview>,
) -> Markup {
    let editing = !f.id.is_empty();
    html! {
        (layout::env_tabs(who, cloud, "schema"))
        p { a href={ "/console/" (cloud) "/schema" } { "← Metadata schema" } }
        h1 { @if editing { "Rule " code { (f.id) } } @else { "New rule" } }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        @if let Some(p) = preview { (preview_report(p)) }
        form method="post" action={ "/console/" (cloud) "/schema/rules" } {
            input type="hidden" name="csrf" value=(who.session.csrf);
            input type="hidden" name="id" value=(f.id);
            @if !editing {
                label for="rule-id" { "External ID (optional)" }
                input id="rule-id" type="text" name="external_id" value=(f.external_id);
            }
            label for="rule-name" { "Name" }
            input id="rule-name" type="text" name="name" value=(f.name);
            label for="rule-field" { "Field the rule acts on" }
            select id="rule-field" name="field" {
                @for (_, d) in &loaded.docs {
                    option value=(d.field.external_id) selected[d.field.external_id == f.field] { (d.field.label) " (" (d.field.external_id) ")" }
                }
            }
            label for="rule-condition" { "Condition (JSON, e.g. {\"metadata_field_id\": \"category\", \"equals\": \"employee\"})" }
            textarea id="rule-condition" name="condition" rows="6" class="code" { (f.condition) }
            label for="rule-result" { "Result (JSON, e.g. {\"enable\": true})" }
            textarea id="rule-result" name="result" rows="6" class="code" { (f.result) }
            label class="check" { input type="checkbox" name="active" value="true" checked[f.active.is_some()]; " Active" }
            div class="buttons" {
                button type="submit" name="intent" value="preview" { "Preview" }
                button type="submit" name="intent" value="save" { "Save" }
            }
        }
    }
}

fn preview_report(p: &RulePreview) -> Markup {
    html! {
        section class="preview-report" aria-label="Preview" {
            h2 { "Preview: what this " (p.action.as_str()) " would do" }
            p { "Assets compared: " (p.report.assets()) ". Stored values are never rewritten by a rule change; these are the assets it would affect." }
            table {
                thead { tr { th scope="col" { "Consequence" } th scope="col" { "Assets" } th scope="col" { "For example" } } }
                tbody {
                    @for (kind, count, examples) in p.report.consequences() {
                        tr { td { (consequence(kind)) } td { (count) } td { (examples.join(", ")) } }
                    }
                }
            }
        }
    }
}

fn consequence(kind: &str) -> &'static str {
    match kind {
        "now_disabled_values" => "Values the rule would hide (kept, but disabled)",
        "grandfathered_values" => "Values no longer allowed (kept until the next edit)",
        "missing_mandatory" => "Mandatory values missing",
        "defaults_on_next_edit" => "Defaults applied on the next edit",
        _ => "Other",
    }
}

/// `GET /console/{cloud}/schema/new-rule`.
pub async fn new_rule(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
) -> Result<Response, PageError> {
    let loaded = app.schema_as(&who, &cloud).await?;
    let f = RuleForm { active: Some("true".into()), ..RuleForm::default() };
    Ok(layout::page(&who, Some(&cloud), "New rule", rule_page(&who, &cloud, &loaded, &f, None, None)).into_response())
}

/// `GET /console/{cloud}/schema/rules/{id}`.
pub async fn edit_rule(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let loaded = app.schema_as(&who, &cloud).await?;
    let rule = loaded.rule(&id).ok_or_else(|| nimbus_app::AppError::MetadataRuleNotFound(id.clone()))?;
    let f = RuleForm::of(rule);
    Ok(layout::page(&who, Some(&cloud), "Rule", rule_page(&who, &cloud, &loaded, &f, None, None)).into_response())
}

/// `POST /console/{cloud}/schema/rules`: preview or save.
pub async fn post_rule(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    Form(f): Form<RuleForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    let loaded = app.schema_as(&who, &cloud).await?;
    let again = |error: Option<String>, preview: Option<RulePreview>, status: StatusCode| {
        let body = rule_page(&who, &cloud, &loaded, &f, error.as_deref(), preview.as_ref());
        (status, layout::page(&who, Some(&cloud), "Rule", body)).into_response()
    };
    let draft = match f.draft() {
        Ok(d) => d,
        Err(e) => return Ok(again(Some(e), None, StatusCode::BAD_REQUEST)),
    };
    let id = Some(f.id.as_str()).filter(|i| !i.is_empty());
    let outcome = if f.intent == "save" {
        app.save_rule_as(&who, &cloud, id, &draft).await.map(|_| None)
    } else {
        app.preview_rule_as(&who, &cloud, &RuleProposal::Put(draft)).await.map(Some)
    };
    match outcome {
        Ok(None) => {
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/schema"))]).into_response())
        }
        Ok(Some(preview)) => Ok(again(None, Some(preview), StatusCode::OK)),
        Err(e) if crate::error::refuses_input(&e) => Ok(again(Some(e.to_string()), None, StatusCode::BAD_REQUEST)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct StateForm {
    csrf: String,
    active: bool,
    /// Activation after its preview was shown.
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /console/{cloud}/schema/rules/{id}/state`: deactivates at once; activates after a
/// preview of what the rule would do to the stored assets.
pub async fn set_state(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, id)): Path<(String, String)>,
    Form(f): Form<StateForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    if f.active && f.confirm.is_none() {
        let draft = RuleDraft { external_id: Some(id.clone()), active: Some(true), ..RuleDraft::default() };
        let preview = app.preview_rule_as(&who, &cloud, &RuleProposal::Put(draft)).await?;
        let loaded = app.schema_as(&who, &cloud).await?;
        let rule = loaded.rule(&id).ok_or_else(|| nimbus_app::AppError::MetadataRuleNotFound(id.clone()))?;
        let in_words =
            loaded.schema.rules.iter().find(|r| r.external_id == id).map(|r| summary::rule(&loaded.schema.fields, r));
        let body = html! {
            (layout::env_tabs(&who, &cloud, "schema"))
            p { a href={ "/console/" (cloud) "/schema" } { "← Metadata schema" } }
            h1 { "Activate " (rule.name) "?" }
            @if let Some(w) = in_words { p class="summary" { (w) } }
            (preview_report(&preview))
            form method="post" action={ "/console/" (cloud) "/schema/rules/" (id) "/state" } {
                input type="hidden" name="csrf" value=(who.session.csrf);
                input type="hidden" name="active" value="true";
                input type="hidden" name="confirm" value="1";
                button type="submit" { "Activate" }
                " " a href={ "/console/" (cloud) "/schema" } { "Cancel" }
            }
        };
        return Ok(layout::page(&who, Some(&cloud), "Activate rule", body).into_response());
    }
    app.set_rule_active_as(&who, &cloud, &id, f.active).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/schema"))]).into_response())
}
