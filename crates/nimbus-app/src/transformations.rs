//! Named transformations (`t_{name}`): Admin API CRUD, and their expansion in delivery URLs.
//! The Admin API's `transformations` also lists the transformations eager derivations used
//! (`named: false`), which can be fetched and given `allowed_for_strict` by their text.
//! Docs: <https://cloudinary.com/documentation/admin_api#transformations>.

use nimbus_core::transform::{Component, Param, Transformation};

use crate::error::AppResult;
use crate::events::{Caller, WriteCtx};
use crate::ports::NamedTransformation;
use crate::{App, AppError};

/// How deeply named transformations may refer to each other.
const MAX_DEPTH: usize = 10;

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Parses a transformation string; a last component that is only a format (`.../jpg`) is
/// dropped (it names the output format of a derived file, not a step).
pub fn parse_text(text: &str) -> AppResult<Transformation> {
    let mut comps: Vec<String> = text.split('/').filter(|c| !c.is_empty()).map(str::to_owned).collect();
    if comps.len() > 1 && comps.last().is_some_and(|c| !c.contains('_')) {
        comps.pop();
    }
    if comps.is_empty() {
        return Err(AppError::InvalidParam { name: "transformation", value: text.to_owned() });
    }
    Transformation::parse(&comps).map_err(|e| AppError::InvalidTransformation(e.message))
}

/// A definition and the output extension it ends with, if any: `c_scale,w_100/jpg` ends with
/// `jpg`, `c_scale,w_100/` with an empty one (Cloudinary's `extension: "none"`), and
/// `c_scale,w_100` with none.
pub fn split_extension(text: &str) -> (&str, Option<&str>) {
    match text.rsplit_once('/') {
        Some((body, ext)) if !body.is_empty() && !ext.contains('_') => (body, Some(ext)),
        _ => (text, None),
    }
}

/// A definition as stored: its canonical form, then its extension as it was given.
fn stored_definition(text: &str) -> AppResult<String> {
    let t = parse_text(text)?;
    Ok(match split_extension(text).1 {
        Some(ext) => format!("{}/{ext}", t.canonical()),
        None => t.canonical(),
    })
}

/// Which transformations a listing holds (`named=true|false`), all when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransformationKinds {
    All,
    Named,
    Derived,
}

/// The name of a `t_{name}` identifier, or the identifier itself.
fn bare(id: &str) -> &str {
    id.strip_prefix("t_").unwrap_or(id)
}

impl App {
    /// Creates a named transformation; like Cloudinary's, it is allowed in strict mode unless
    /// `allowed_for_strict` says otherwise.
    pub async fn create_named_transformation(
        &self,
        caller: &Caller,
        name: &str,
        text: &str,
        allowed_for_strict: Option<bool>,
    ) -> AppResult<()> {
        let name = bare(name);
        if !valid_name(name) {
            return Err(AppError::InvalidParam { name: "name", value: name.to_owned() });
        }
        let t = parse_text(text)?;
        let named = NamedTransformation {
            name: name.to_owned(),
            transformation: stored_definition(text)?,
            allowed_for_strict: allowed_for_strict.unwrap_or(true),
        };
        // A definition that refers to names must expand (no unknown names, no cycles).
        self.expand_named(caller.env, &t, &[name.to_owned()]).await?;
        if !self.catalog.put_named(&WriteCtx::new(caller, self.now()), &named, true).await? {
            return Err(AppError::AlreadyExists(format!("Transformation {name}")));
        }
        // Delivery resolutions remembered for a few seconds must see the new name.
        self.delivery_cache.clear();
        Ok(())
    }

    pub async fn named_transformation(&self, env: i64, id: &str) -> AppResult<NamedTransformation> {
        self.catalog.named(env, bare(id)).await?.ok_or_else(|| AppError::TransformationNotFound(id.to_owned()))
    }

    /// A named transformation by name, else one eager derivations used, by its text (in any
    /// spelling that has the same canonical form). The flag says which.
    pub async fn transformation_by_id(&self, env: i64, id: &str) -> AppResult<(NamedTransformation, bool)> {
        if let Some(n) = self.catalog.named(env, bare(id)).await? {
            return Ok((n, true));
        }
        let not_found = || AppError::TransformationNotFound(id.to_owned());
        let Ok(t) = parse_text(id) else { return Err(not_found()) };
        let found = self.catalog.derived(env, &t.canonical()).await?.ok_or_else(not_found)?;
        Ok((found, false))
    }

    /// Named transformations by name, then those eager derivations used, by text. The cursor
    /// of the second part starts with `~`, which no name does.
    pub async fn list_transformations(
        &self,
        env: i64,
        cursor: Option<&str>,
        limit: u32,
        kinds: TransformationKinds,
    ) -> AppResult<(Vec<(NamedTransformation, bool)>, Option<String>)> {
        let mut out = Vec::new();
        let derived_after = match cursor.and_then(|c| c.strip_prefix('~')) {
            Some(after) => Some(after.to_owned()),
            None if kinds == TransformationKinds::Derived => None,
            None => {
                let named = self.catalog.list_named(env, cursor, limit + 1).await?;
                let more = named.len() > limit as usize;
                out.extend(named.into_iter().take(limit as usize).map(|n| (n, true)));
                if more {
                    let next = out.last().map(|(n, _)| n.name.clone());
                    return Ok((out, next));
                }
                if kinds == TransformationKinds::Named {
                    return Ok((out, None));
                }
                None
            }
        };
        let room = limit.saturating_sub(out.len() as u32);
        let derived = self.catalog.list_derived(env, derived_after.as_deref(), room + 1).await?;
        let more = derived.len() > room as usize;
        out.extend(derived.into_iter().take(room as usize).map(|d| (d, false)));
        let next = match out.last() {
            Some((d, false)) if more => Some(format!("~{}", d.transformation)),
            // The named ones filled the page exactly: the next page starts the others.
            Some((_, true)) if more => Some("~".to_owned()),
            _ => None,
        };
        Ok((out, next))
    }

    /// Changes `allowed_for_strict` and, with `unsafe_update`, the definition.
    pub async fn update_named_transformation(
        &self,
        caller: &Caller,
        id: &str,
        allowed_for_strict: Option<bool>,
        unsafe_update: Option<&str>,
    ) -> AppResult<()> {
        let (mut named, is_named) = self.transformation_by_id(caller.env, id).await?;
        if !is_named {
            if unsafe_update.is_some() {
                return Err(AppError::InvalidParam { name: "unsafe_update", value: id.to_owned() });
            }
            if let Some(a) = allowed_for_strict {
                self.catalog.set_derived_allowed_for_strict(caller.env, &named.transformation, a).await?;
                self.delivery_cache.clear();
            }
            return Ok(());
        }
        if let Some(a) = allowed_for_strict {
            named.allowed_for_strict = a;
        }
        if let Some(text) = unsafe_update {
            let t = parse_text(text)?;
            self.expand_named(caller.env, &t, &[named.name.clone()]).await?;
            named.transformation = stored_definition(text)?;
        }
        self.catalog.put_named(&WriteCtx::new(caller, self.now()), &named, false).await?;
        // URLs that use the name resolve differently now.
        self.delivery_cache.clear();
        Ok(())
    }

    pub async fn delete_named_transformation(&self, caller: &Caller, id: &str) -> AppResult<()> {
        if self.catalog.delete_named(&WriteCtx::new(caller, self.now()), bare(id)).await? {
            self.delivery_cache.clear();
            Ok(())
        } else {
            Err(AppError::TransformationNotFound(id.to_owned()))
        }
    }

    /// Replaces every `t_` parameter by the components of the named transformations, in
    /// place; the component's other parameters follow as one more component.
    pub async fn expand_named(&self, env: i64, t: &Transformation, seen: &[String]) -> AppResult<Transformation> {
        if !t.components.iter().any(|c| c.get("t").is_some()) {
            return Ok(t.clone());
        }
        if seen.len() > MAX_DEPTH {
            return Err(AppError::InvalidTransformation("Named transformations are nested too deeply".into()));
        }
        let mut out = Vec::new();
        for c in &t.components {
            let Some(Param::Named(names)) = c.get("t") else {
                out.push(c.clone());
                continue;
            };
            for name in names {
                if seen.contains(name) {
                    return Err(AppError::InvalidTransformation(format!(
                        "Named transformation {name} refers to itself"
                    )));
                }
                let named = self.catalog.named(env, name).await?.ok_or_else(|| {
                    AppError::InvalidTransformation(format!("Named transformation {name} does not exist"))
                })?;
                let inner = parse_text(&named.transformation)?;
                let mut path = seen.to_vec();
                path.push(name.clone());
                let expanded = Box::pin(self.expand_named(env, &inner, &path)).await?;
                out.extend(expanded.components);
            }
            let rest: Vec<Param> = c.params.iter().filter(|p| p.key() != "t").cloned().collect();
            if !rest.is_empty() {
                out.push(Component { params: rest });
            }
        }
        Ok(Transformation { components: out })
    }
}
