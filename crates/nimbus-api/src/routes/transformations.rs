//! Admin API named transformations. Docs: <https://cloudinary.com/documentation/admin_api#transformations>.

use nimbus_app::App;
use nimbus_app::AppError;
use nimbus_app::assets::checked_limit;
use nimbus_app::ports::NamedTransformation;
use nimbus_app::transformations::{TransformationKinds, split_extension};
use serde_json::{Value, json};

use super::AdminCall;
use crate::error::ApiResult;

/// A transformation as `transformations()` lists it: a named one (`t_name`), or one eager
/// derivations used, named by its text.
fn summary(t: &NamedTransformation, named: bool) -> Value {
    let name = if named { format!("t_{}", t.name) } else { t.transformation.clone() };
    json!({ "name": name, "allowed_for_strict": t.allowed_for_strict, "used": !named, "named": named })
}

/// URL parameter keys and the option names the SDKs give them (`cloudinary/utils.py`,
/// `generate_transformation_string`): `info` speaks in the long names.
const LONG_NAMES: [(&str, &str); 40] = [
    ("a", "angle"),
    ("ac", "audio_codec"),
    ("af", "audio_frequency"),
    ("ar", "aspect_ratio"),
    ("b", "background"),
    ("bo", "border"),
    ("br", "bit_rate"),
    ("c", "crop"),
    ("co", "color"),
    ("cs", "color_space"),
    ("d", "default_image"),
    ("dl", "delay"),
    ("dn", "density"),
    ("dpr", "dpr"),
    ("du", "duration"),
    ("e", "effect"),
    ("eo", "end_offset"),
    ("f", "fetch_format"),
    ("fl", "flags"),
    ("fn", "custom_function"),
    ("fps", "fps"),
    ("g", "gravity"),
    ("h", "height"),
    ("ki", "keyframe_interval"),
    ("l", "overlay"),
    ("o", "opacity"),
    ("p", "prefix"),
    ("pg", "page"),
    ("q", "quality"),
    ("r", "radius"),
    ("so", "start_offset"),
    ("sp", "streaming_profile"),
    ("t", "transformation"),
    ("u", "underlay"),
    ("vc", "video_codec"),
    ("vs", "video_sampling"),
    ("w", "width"),
    ("x", "x"),
    ("y", "y"),
    ("z", "zoom"),
];

/// A parameter value as the SDKs' long form has it: numbers as numbers, the rest as text.
fn info_value(v: &str) -> Value {
    if let Ok(n) = v.parse::<i64>() {
        return json!(n);
    }
    match v.parse::<f64>() {
        Ok(f) if f.is_finite() && !v.starts_with('.') => json!(f),
        _ => json!(v),
    }
}

/// The components of a transformation as Cloudinary's `info`: one object per component, in
/// the SDKs' long form (`[{"crop": "scale", "width": 102}]`). An output extension the
/// definition ends with joins the last component (`"extension": "jpg"`, or `"none"` when empty).
fn info(text: &str) -> Value {
    let (body, extension) = split_extension(text);
    let mut comps: Vec<Value> = body
        .split('/')
        .map(|c| {
            let obj: serde_json::Map<String, Value> = c
                .split(',')
                .filter_map(|p| p.split_once('_'))
                .map(|(k, v)| {
                    let long = LONG_NAMES.iter().find(|(short, _)| *short == k).map_or(k, |(_, l)| *l);
                    (long.to_owned(), info_value(v))
                })
                .collect();
            Value::Object(obj)
        })
        .collect();
    if let (Some(ext), Some(Value::Object(last))) = (extension, comps.last_mut()) {
        last.insert("extension".into(), json!(if ext.is_empty() { "none" } else { ext }));
    }
    json!(comps)
}

/// `GET transformations`: the named ones; with `transformation=`, one of them.
pub async fn get(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let env = call.env.id;
    if let Some(id) = call.params.get("transformation") {
        let (t, named) = app.transformation_by_id(env, id).await?;
        let mut v = summary(&t, named);
        v["info"] = info(&t.transformation);
        v["transformation"] = json!(t.transformation);
        v["derived"] = json!([]);
        return Ok(v);
    }
    let limit = checked_limit(crate::wire::commands::max_results(&call.params)?)?;
    let kinds = match call.params.bool("named") {
        Some(true) => TransformationKinds::Named,
        Some(false) => TransformationKinds::Derived,
        None => TransformationKinds::All,
    };
    let (list, next) = app.list_transformations(env, call.params.get("next_cursor"), limit, kinds).await?;
    let mut v = json!({ "transformations": list.iter().map(|(t, named)| summary(t, *named)).collect::<Vec<_>>() });
    if let Some(n) = next {
        v["next_cursor"] = json!(n);
    }
    Ok(v)
}

pub async fn create(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let name = call.params.get("name").ok_or(AppError::MissingParam("name"))?;
    let text = call.params.get("transformation").ok_or(AppError::MissingParam("transformation"))?;
    let allowed = call.params.bool("allowed_for_strict");
    app.create_named_transformation(&call.caller(), name, text, allowed).await?;
    Ok(json!({ "message": "created" }))
}

pub async fn update(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let id = call.params.get("transformation").ok_or(AppError::MissingParam("transformation"))?;
    let allowed = call.params.bool("allowed_for_strict");
    app.update_named_transformation(&call.caller(), id, allowed, call.params.get("unsafe_update")).await?;
    Ok(json!({ "message": "updated" }))
}

pub async fn delete(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let id = call.params.get("transformation").ok_or(AppError::MissingParam("transformation"))?;
    app.delete_named_transformation(&call.caller(), id).await?;
    Ok(json!({ "message": "deleted" }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn info_in_the_sdks_long_form() {
        assert_eq!(
            super::info("c_scale,w_102/e_sepia,o_50.5"),
            serde_json::json!([{"crop": "scale", "width": 102}, {"effect": "sepia", "opacity": 50.5}])
        );
    }

    #[test]
    fn info_names_the_extension_in_the_last_component() {
        assert_eq!(
            super::info("c_scale,w_102/"),
            serde_json::json!([{"crop": "scale", "width": 102, "extension": "none"}])
        );
        assert_eq!(
            super::info("c_scale,w_102/e_sepia/webp"),
            serde_json::json!([{"crop": "scale", "width": 102}, {"effect": "sepia", "extension": "webp"}])
        );
    }
}
