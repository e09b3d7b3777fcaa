use std::collections::HashMap;

use super::*;
use crate::metadata::FieldType;
use crate::{Asset, DeliveryType, PublicId, ResourceType};

const NOW: i64 = 1_750_000_000;
const DAY: i64 = 86_400;

fn schema() -> Schema {
    let mut metadata = HashMap::new();
    metadata.insert("color".to_owned(), FieldType::Enum);
    metadata.insert("labels".to_owned(), FieldType::Set);
    metadata.insert("caption".to_owned(), FieldType::String);
    metadata.insert("rating".to_owned(), FieldType::Integer);
    metadata.insert("shot".to_owned(), FieldType::Date);
    Schema { metadata }
}

fn asset(public_id: &str) -> Asset {
    Asset {
        asset_id: format!("id-{public_id}"),
        resource_type: ResourceType::Image,
        delivery_type: DeliveryType::Upload,
        access_mode: crate::AccessMode::Public,
        headers: Vec::new(),
        public_id: PublicId::parse(public_id).unwrap(),
        version: NOW - DAY,
        version_id: "v".into(),
        format: Some("jpg".into()),
        width: Some(1920),
        height: Some(1080),
        bytes: 120_000,
        etag: "e".into(),
        blob_key: "b".into(),
        original_filename: None,
        display_name: filename_of(public_id).to_owned(),
        asset_folder: folder_of(public_id).to_owned(),
        tags: vec![],
        context: vec![],
        metadata: serde_json::Map::new(),
        image_metadata: Vec::new(),
        created_at: NOW - 10 * DAY,
        updated_at: NOW - DAY,
    }
}

fn shoe() -> Asset {
    let mut a = asset("products/shoes/Red_Shoe");
    a.tags = vec!["summer".into(), "Shirt-Sale".into()];
    a.context = vec![("alt".into(), "A red shoe on grass".into()), ("empty".into(), String::new())];
    a.metadata.insert("color".into(), "red_id".into());
    a.metadata.insert("labels".into(), serde_json::json!(["new", "promo"]));
    a.metadata.insert("caption".into(), "Lovely leather".into());
    a.metadata.insert("rating".into(), 4.into());
    a.metadata.insert("shot".into(), "2024-01-31".into());
    a
}

fn hit(expr: &str, a: &Asset) -> bool {
    let q = compile(expr, &schema(), NOW).unwrap_or_else(|e| panic!("{expr}: {e}"));
    matches(&q, a)
}

#[test]
fn documented_examples_match_as_described() {
    let a = shoe();
    let yes = [
        "shoe",
        "tags=summer",
        "tags:shirt*",
        "tags:sale",
        "resource_type:image AND format:jpg",
        "resource_type:IMAGE",
        "public_id:products/shoes/Red*",
        "public_id=products/shoes/Red_Shoe",
        "folder:products/*",
        "folder=products/shoes",
        "asset_folder=\"products/shoes\"",
        "bytes>100000",
        "bytes>100kb",
        "width>=1920 AND height>=1080",
        "aspect_ratio=\"16:9\"",
        "aspect_ratio:1.78",
        "pixels:[1000000 TO 5000000]",
        "uploaded_at>2d",
        "created_at<1w",
        "created_at:[2w TO 1w]",
        "context.alt:\"red shoe\"",
        "context.alt:grass",
        "context.empty:*",
        "metadata.color=red_id",
        "metadata.labels=promo",
        "metadata.caption:leather",
        "metadata.rating>=4",
        "metadata.shot=2024-01-31",
        "metadata.shot:[2024-01-01 TO 2024-01-31]",
        "type:upload",
        "tags:summer OR tags:pants",
        "NOT tags:archived",
        "-tags:archived",
        "-(tags:archived OR format:png)",
        "-\"blue boot\"",
        "(format:jpg OR format:png) AND -access_mode:authenticated",
        "filename:shoe",
        "filename=Red_Shoe",
        "tags:(summer OR winter)",
        "bytes:>1000",
        "status:active",
        "*",
        "",
    ];
    for e in yes {
        assert!(hit(e, &a), "{e} should match");
    }
    let no = [
        "boot",
        "tags=Summer",
        "tags=sum",
        "tags:sum",
        "format:png",
        "folder=products",
        "folder:shoes/*",
        "bytes<=100kb",
        "uploaded_at<2d",
        "created_at>1w",
        "context.alt=red",
        "context.missing:*",
        "metadata.color=blue",
        "metadata.rating<4",
        "metadata.shot>2024-01-31",
        "-tags:summer",
        "aspect_ratio=\"4:3\"",
        "tags:(winter OR autumn)",
        "tags=(summer AND winter)",
    ];
    for e in no {
        assert!(!hit(e, &a), "{e} should not match");
    }
}

#[test]
fn raw_files_have_no_dimensions() {
    let mut a = asset("docs/readme");
    a.resource_type = ResourceType::Raw;
    a.format = None;
    a.width = None;
    a.height = None;
    assert!(!hit("width>0", &a));
    assert!(hit("-width>0", &a));
    assert!(!hit("width:*", &a));
    assert!(!hit("format:*", &a));
    assert!(hit("-format:*", &a));
}

#[test]
fn root_folder_is_empty() {
    let a = asset("loose");
    assert!(hit("folder=\"\"", &a));
    assert!(!hit("folder:*", &a));
}

fn err(expr: &str) -> SearchError {
    compile(expr, &schema(), NOW).expect_err(expr)
}

#[test]
fn errors_point_at_the_problem() {
    let e = err("tags:shoe AND (format:jpg");
    assert!(e.message.contains("missing ')'"), "{e}");
    assert_eq!(e.at, 25);
    let e = err("tagz:shoe");
    assert_eq!((e.at, e.message.as_str()), (0, "unknown field 'tagz'"));
    let e = err("Tags:shoe");
    assert!(e.hint.contains("did you mean 'tags'"), "{e}");
    let e = err("bytes>big");
    assert_eq!(e.at, 6);
    assert!(e.message.contains("is not a number"), "{e}");
    let e = err("metadata.nope=1");
    assert!(e.message.contains("unknown metadata field 'nope'"), "{e}");
    assert!(err("tags>3").message.contains("is text"));
    assert!(err("created_at>yesterday").message.contains("is not a date"));
    assert!(err("tags:sh*oe").message.contains("only supported at the end"));
    assert!(err("tags:\"open").message.contains("unterminated"));
    assert!(err("tags:shoe)").message.contains("unexpected ')'"));
    assert!(err("tags:").message.contains("has no value"));
    assert!(err("bytes:[1 2]").message.contains("TO"));
    assert!(err("tags:[a TO b]").message.contains("is text"));
    assert!(err("a & b").hint.contains("&&"));
    assert!(err("---").message.contains("no letters or digits"));
}

#[test]
fn depth_and_size_are_limited() {
    let deep = format!("{}tags:a{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert!(err(&deep).message.contains("nests deeper"));
    let ok = format!("{}tags:a{}", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
    assert!(compile(&ok, &schema(), NOW).is_ok());
    let nots = format!("{}tags:a", "NOT ".repeat(MAX_DEPTH + 1));
    assert!(err(&nots).message.contains("nests deeper"));
    let many = vec!["tags:a"; MAX_TERMS + 1].join(" OR ");
    assert!(err(&many).message.contains("more than"));
    assert!(err(&"a".repeat(MAX_LEN + 1)).message.contains("longer than"));
}

#[test]
fn operators_and_precedence() {
    let q = compile("tags:a tags:b OR tags:c", &schema(), NOW).unwrap();
    let t = |s: &str| Query::Text(TextField::Tags, TextMatch::Tokens { all: vec![s.into()], prefix: None });
    assert_eq!(q, Query::Or(vec![Query::And(vec![t("a"), t("b")]), t("c")]));
    let q = compile("tags:a && !tags:b || tags:c", &schema(), NOW).unwrap();
    assert_eq!(q, Query::Or(vec![Query::And(vec![t("a"), Query::Not(Box::new(t("b")))]), t("c")]));
    // A dash inside a word is part of it.
    let q = compile("created_at>2024-01-31", &schema(), NOW).unwrap();
    assert!(matches!(q, Query::Num(NumField::CreatedAt, _)));
    let q = compile("red-shoe", &schema(), NOW).unwrap();
    assert_eq!(
        q,
        Query::Text(TextField::Any, TextMatch::Tokens { all: vec!["red".into(), "shoe".into()], prefix: None })
    );
    // Escapes.
    let q = compile(r"context.k=a\:b\ c", &schema(), NOW).unwrap();
    assert_eq!(q, Query::Text(TextField::Context("k".into()), TextMatch::Exact("a:b c".into())));
}

#[test]
fn ranges_and_dates_resolve_against_now() {
    let q = compile("created_at:{2d TO *]", &schema(), NOW).unwrap();
    assert_eq!(q, Query::Num(NumField::CreatedAt, NumRange { lo: Some(((NOW - 2 * DAY) as f64, false)), hi: None }));
    let r = NumRange { lo: Some((2.5, false)), hi: Some((7.0, false)) };
    assert_eq!(r.integer_bounds(), Some((Some(3), Some(6))));
    let r = NumRange { lo: Some((3.0, false)), hi: Some((3.0, true)) };
    assert_eq!(r.integer_bounds(), None);
}

#[test]
fn index_entries_cover_what_queries_use() {
    let e = index_entries(&shoe());
    let has = |f: &str, t: &str| e.terms.contains(&(f.to_owned(), t.to_owned()));
    assert!(has(field::FOLDER, "products/shoes"));
    assert!(has(field::FILENAME, "Red_Shoe"));
    assert!(has(field::FILENAME_TOKENS, "shoe"));
    assert!(has(field::TAG_TOKENS, "sale"));
    assert!(has(field::TAGS, "Shirt-Sale"));
    assert!(has(&field::context_exact("alt"), "A red shoe on grass"));
    assert!(has(&field::context_exact("empty"), ""));
    assert!(has(&field::context_tokens("alt"), "grass"));
    assert!(has(&field::metadata_exact("labels"), "promo"));
    assert!(has(field::ANY, "leather"));
    assert!(e.numbers.contains(&(field::metadata_number("rating"), 4.0)));
    assert!(e.numbers.contains(&(field::metadata_number("shot"), 1_706_659_200.0)));
}

/// Any input parses to a result or an error, never a panic, within the limits.
#[test]
fn arbitrary_input_never_panics() {
    let alphabet: Vec<char> = "ab Z09:=<>()[]{}*\"\\-!&|.TOANDORNOT_é".chars().collect();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..20_000 {
        let len = (seed % 24) as usize;
        let s: String = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                alphabet[(seed % alphabet.len() as u64) as usize]
            })
            .collect();
        let _ = compile(&s, &schema(), NOW);
        let _ = compile(&format!("tags:{s}"), &schema(), NOW);
    }
}
