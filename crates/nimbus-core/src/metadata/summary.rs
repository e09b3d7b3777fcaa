//! Rules in plain words, for people: "Team is shown when Category is Employee". Fields are
//! named by their labels and datasource entries by their values; what the schema does not
//! know is named by its id.

use super::rules::{Activate, ApplyMode, Condition, Criterion, Fields, Rule};
use super::schema::Value;

fn label<'a>(fields: &'a Fields, id: &'a str) -> &'a str {
    fields.get(id).map_or(id, |f| if f.label.is_empty() { id } else { f.label.as_str() })
}

/// An entry's value (its display text) in field `field`.
fn entry<'a>(fields: &'a Fields, field: &str, id: &'a str) -> &'a str {
    fields.get(field).and_then(|f| f.datasource.iter().find(|e| e.external_id == id)).map_or(id, |e| e.value.as_str())
}

fn entries(fields: &Fields, field: &str, ids: &[String]) -> String {
    ids.iter().map(|i| entry(fields, field, i)).collect::<Vec<_>>().join(", ")
}

fn value(fields: &Fields, field: &str, v: &Value) -> String {
    match v {
        Value::Id(id) => entry(fields, field, id).to_owned(),
        Value::Ids(ids) => entries(fields, field, ids),
        other => other.display(),
    }
}

/// A condition in words.
pub fn condition(fields: &Fields, c: &Condition) -> String {
    match c {
        Condition::Leaf { field, criterion } => {
            let name = label(fields, field);
            match criterion {
                Criterion::Populated(true) => format!("{name} has a value"),
                Criterion::Populated(false) => format!("{name} is empty"),
                Criterion::Equals(v) => format!("{name} is {}", value(fields, field, v)),
                Criterion::Includes(ids) => format!("{name} includes {}", entries(fields, field, ids)),
            }
        }
        Condition::And(cs) => cs.iter().map(|c| condition(fields, c)).collect::<Vec<_>>().join(" and "),
        Condition::Or(cs) => format!("({})", cs.iter().map(|c| condition(fields, c)).collect::<Vec<_>>().join(" or ")),
    }
}

/// A rule in words: what it does to its field, and when.
pub fn rule(fields: &Fields, r: &Rule) -> String {
    let f = r.field.as_str();
    let res = &r.result;
    let mut effects = Vec::new();
    match res.enable {
        Some(true) => effects.push("is shown".to_owned()),
        Some(false) => effects.push("is hidden".to_owned()),
        None => {}
    }
    if res.hide && res.enable != Some(false) {
        effects.push("is hidden".to_owned());
    }
    match &res.activate_values {
        Some(Activate::All) => effects.push("offers all its values".to_owned()),
        Some(Activate::Override(ids)) => effects.push(format!("offers only {}", entries(fields, f, ids))),
        Some(Activate::Append(ids)) => effects.push(format!("also offers {}", entries(fields, f, ids))),
        None => {}
    }
    if let Some((v, mode)) = &res.apply_value {
        let v = value(fields, f, v);
        effects.push(match mode {
            ApplyMode::Default => format!("defaults to {v}"),
            ApplyMode::Override => format!("is set to {v}"),
            ApplyMode::Append => format!("gains {v}"),
        });
    }
    match res.set_mandatory {
        Some(true) => effects.push("is mandatory".to_owned()),
        Some(false) => effects.push("is optional".to_owned()),
        None => {}
    }
    if effects.is_empty() {
        effects.push("is unchanged".to_owned());
    }
    format!("{} {} when {}", label(fields, f), effects.join(" and "), condition(fields, &r.condition))
}

#[cfg(test)]
mod tests {
    use super::super::rules::RuleResult;
    use super::super::schema::{DatasourceEntry, Field, FieldType};
    use super::*;

    fn field(id: &str, label: &str, values: &[(&str, &str)]) -> (String, Field) {
        let datasource = values
            .iter()
            .map(|(i, v)| DatasourceEntry { external_id: (*i).into(), value: (*v).into(), active: true })
            .collect();
        (
            id.to_owned(),
            Field {
                external_id: id.into(),
                label: label.into(),
                field_type: if values.is_empty() { FieldType::String } else { FieldType::Enum },
                mandatory: false,
                default_value: None,
                default_disabled: false,
                validation: None,
                datasource,
            },
        )
    }

    #[test]
    fn rules_read_as_sentences() {
        let fields: Fields = [
            field("category", "Category", &[("employee", "Employee"), ("culture", "Culture")]),
            field("team", "Team", &[("rnd", "R&D"), ("sales", "Sales")]),
            field("note", "Note", &[]),
        ]
        .into_iter()
        .collect();
        let when = |f: &str, v: Value| Condition::Leaf { field: f.into(), criterion: Criterion::Equals(v) };
        let r = |field: &str, condition, result| Rule {
            external_id: "r".into(),
            name: "r".into(),
            field: field.into(),
            condition,
            result,
            active: true,
            seq: 1,
        };
        let shown = RuleResult { enable: Some(true), ..Default::default() };
        assert_eq!(
            rule(&fields, &r("team", when("category", Value::Id("employee".into())), shown)),
            "Team is shown when Category is Employee"
        );
        let narrowed = RuleResult {
            activate_values: Some(Activate::Override(vec!["rnd".into()])),
            set_mandatory: Some(true),
            ..Default::default()
        };
        let both = Condition::And(vec![
            when("category", Value::Id("employee".into())),
            Condition::Leaf { field: "note".into(), criterion: Criterion::Populated(false) },
        ]);
        assert_eq!(
            rule(&fields, &r("team", both, narrowed)),
            "Team offers only R&D and is mandatory when Category is Employee and Note is empty"
        );
        let unknown = r(
            "gone",
            Condition::Leaf { field: "x".into(), criterion: Criterion::Populated(true) },
            RuleResult::default(),
        );
        assert_eq!(rule(&fields, &unknown), "gone is unchanged when x has a value");
    }
}
