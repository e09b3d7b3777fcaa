//! Rules engine cost on a realistic schema: 50 fields in 5 layers (chains 4 deep), 200
//! rules, each layer's fields controlled by the layer before. Run: `cargo bench -p nimbus-core`.
#![allow(clippy::unwrap_used, reason = "benchmark set-up")]

use nimbus_core::metadata::rules::{Fields, parse_condition, parse_result};
use nimbus_core::metadata::schema::{DatasourceEntry, RawValue};
use nimbus_core::metadata::write::{Delta, apply, parse_delta};
use nimbus_core::metadata::{Field, FieldType, Metadata, Rule, Schema, engine};
use serde_json::json;

const LAYERS: usize = 5;
const PER_LAYER: usize = 10;
const VALUES: usize = 8;

fn id(layer: usize, i: usize) -> String {
    format!("l{layer}_f{i}")
}

fn schema() -> Schema {
    let mut fields = Fields::new();
    for l in 0..LAYERS {
        for i in 0..PER_LAYER {
            let t = if i % 3 == 2 { FieldType::Set } else { FieldType::Enum };
            fields.insert(
                id(l, i),
                Field {
                    external_id: id(l, i),
                    label: id(l, i),
                    field_type: t,
                    mandatory: false,
                    default_value: None,
                    default_disabled: l > 0 && i % 2 == 0,
                    validation: None,
                    datasource: (0..VALUES)
                        .map(|v| DatasourceEntry { external_id: format!("v{v}"), value: format!("V{v}"), active: true })
                        .collect(),
                },
            );
        }
    }
    let mut rules = Vec::new();
    let mut seq = 0;
    // 200 rules: every field of layers 1..4 gets 5 rules reading fields of the layer before.
    for l in 1..LAYERS {
        for i in 0..PER_LAYER {
            for k in 0..5 {
                let src = id(l - 1, (i + k) % PER_LAYER);
                let src_is_set = (i + k) % PER_LAYER % 3 == 2;
                let cond = if src_is_set {
                    json!({"or": [{"metadata_field_id": src, "includes": [format!("v{k}")]}, {"metadata_field_id": src, "populated": false}]})
                } else {
                    json!({"and": [{"metadata_field_id": src, "equals": format!("v{k}")}, {"metadata_field_id": src, "populated": true}]})
                };
                let target = &fields[&id(l, i)];
                let result = match k {
                    0 => json!({"enable": true}),
                    1 => json!({"activate_values": {"external_ids": ["v0", "v1", "v2", "v3"], "mode": "override"}}),
                    2 => json!({"activate_values": {"external_ids": ["v4"], "mode": "append"}}),
                    3 => json!({"set_mandatory": true}),
                    _ => {
                        json!({"apply_value": {"value": if target.field_type == FieldType::Set { json!(["v1"]) } else { json!("v1") }, "mode": "default"}})
                    }
                };
                rules.push(Rule {
                    external_id: format!("r{seq}"),
                    name: format!("r{seq}"),
                    field: id(l, i),
                    condition: parse_condition(&cond, &fields).unwrap(),
                    result: parse_result(&result, target).unwrap().0,
                    active: true,
                    seq,
                });
                seq += 1;
            }
        }
    }
    assert_eq!(rules.len(), 200);
    Schema::new(fields, rules).unwrap()
}

fn metadata(s: &Schema) -> Metadata {
    s.fields
        .values()
        .enumerate()
        .map(|(n, f)| {
            let v = if f.field_type == FieldType::Set {
                json!([format!("v{}", n % 4)])
            } else {
                json!(format!("v{}", n % 4))
            };
            (f.external_id.clone(), f.parse_value(&RawValue::Json(&v)).unwrap())
        })
        .collect()
}

#[divan::bench]
fn effective_state(b: divan::Bencher) {
    let s = schema();
    let m = metadata(&s);
    b.bench(|| engine::effective(divan::black_box(&s), divan::black_box(&m)));
}

#[divan::bench]
fn write_path_existing_asset(b: divan::Bencher) {
    let s = schema();
    let stored = metadata(&s);
    let v0 = json!("v0");
    let v2 = json!("v2");
    let raw = vec![("l0_f0".to_owned(), RawValue::Json(&v0)), ("l0_f1".to_owned(), RawValue::Json(&v2))];
    b.bench(|| {
        let delta: Delta = parse_delta(&s, &raw).unwrap();
        apply(divan::black_box(&s), divan::black_box(&stored), &delta, false, false)
    });
}

#[divan::bench]
fn write_path_new_asset(b: divan::Bencher) {
    let s = schema();
    let v = json!("v0");
    let raw = vec![("l0_f0".to_owned(), RawValue::Json(&v))];
    b.bench(|| {
        let delta: Delta = parse_delta(&s, &raw).unwrap();
        apply(divan::black_box(&s), &Metadata::new(), &delta, true, false)
    });
}

fn main() {
    divan::main();
}
