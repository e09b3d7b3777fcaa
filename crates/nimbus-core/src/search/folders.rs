//! Folder search (`folders/search`): the same expression language over the fields of a
//! folder, `name`, `path` and `created_at`, evaluated by the asset evaluator on a stand-in
//! asset (name as display name, path as asset folder).

use super::query::{self, Schema};
use super::syntax::{Expr, FieldName, parse};
use super::{Query, SearchError};
use crate::{Asset, DeliveryType, PublicId, ResourceType};

fn rename(e: Expr) -> Result<Expr, SearchError> {
    let field = |f: FieldName| -> Result<FieldName, SearchError> {
        let name = match f.name.as_str() {
            "name" => "display_name",
            "path" => "asset_folder",
            "created_at" => "created_at",
            other => {
                return Err(SearchError::at(
                    f.at,
                    format!("unknown folder field '{other}'"),
                    "folders are searched by name, path and created_at",
                ));
            }
        };
        Ok(FieldName { name: name.to_owned(), at: f.at })
    };
    Ok(match e {
        Expr::And(v) => Expr::And(v.into_iter().map(rename).collect::<Result<_, _>>()?),
        Expr::Or(v) => Expr::Or(v.into_iter().map(rename).collect::<Result<_, _>>()?),
        Expr::Not(e) => Expr::Not(Box::new(rename(*e)?)),
        // A bare term searches folder names.
        Expr::Term { field: None, op, value } => {
            Expr::Term { field: Some(FieldName { name: "display_name".into(), at: value.at }), op, value }
        }
        Expr::Term { field: Some(f), op, value } => Expr::Term { field: Some(field(f)?), op, value },
        Expr::Range { field: f, lo, hi } => Expr::Range { field: field(f)?, lo, hi },
    })
}

/// Parses and checks a folder expression.
pub fn compile_folders(expression: &str, now: i64) -> Result<Query, SearchError> {
    let expr = parse(expression)?.map(rename).transpose()?;
    query::check(expr.as_ref(), &Schema::default(), now)
}

/// The stand-in asset a folder query is evaluated on.
pub fn folder_doc(path: &str, created_at: i64) -> Option<Asset> {
    let name = path.rsplit('/').next().unwrap_or(path);
    Some(Asset {
        asset_id: String::new(),
        resource_type: ResourceType::Raw,
        delivery_type: DeliveryType::Upload,
        access_mode: crate::AccessMode::Public,
        headers: Vec::new(),
        public_id: PublicId::parse(path).ok()?,
        version: created_at,
        version_id: String::new(),
        format: None,
        width: None,
        height: None,
        bytes: 0,
        etag: String::new(),
        blob_key: String::new(),
        original_filename: None,
        display_name: name.to_owned(),
        asset_folder: path.to_owned(),
        tags: Vec::new(),
        context: Vec::new(),
        metadata: serde_json::Map::new(),
        image_metadata: Vec::new(),
        created_at,
        updated_at: created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::matches;

    #[test]
    fn folder_fields() {
        let f = folder_doc("products/shoes", 1_700_000_000).unwrap();
        let hit = |e: &str| matches(&compile_folders(e, 1_700_000_100).unwrap(), &f);
        assert!(hit("path:products/*"));
        assert!(hit("name=shoes"));
        assert!(hit("shoes"));
        assert!(hit("created_at>1h"));
        assert!(!hit("created_at<1h"));
        assert!(!hit("path=products"));
        assert!(!hit("name:hats"));
        let e = compile_folders("tags:x", 0).unwrap_err();
        assert!(e.message.contains("unknown folder field 'tags'"), "{e}");
    }
}
