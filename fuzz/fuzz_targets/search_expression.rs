//! Search expressions: parsing and checking never panic and stay within their limits;
//! whatever compiles evaluates on an asset without panicking; folder expressions too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus_core::metadata::FieldType;
use nimbus_core::search::{self, Schema};
use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};

fn asset() -> Asset {
    let mut metadata = serde_json::Map::new();
    metadata.insert("rating".into(), 3.into());
    metadata.insert("color".into(), "red".into());
    Asset {
        asset_id: "0".repeat(32),
        resource_type: ResourceType::Image,
        delivery_type: DeliveryType::Upload,
        public_id: PublicId::parse("shop/shoes/Red_Shoe").unwrap(),
        version: 1_700_000_000,
        version_id: "v".into(),
        format: Some("jpg".into()),
        width: Some(1920),
        height: Some(1080),
        bytes: 120_000,
        etag: "e".into(),
        blob_key: "b".into(),
        original_filename: None,
        display_name: "Red Shoe".into(),
        asset_folder: "shop/shoes".into(),
        tags: vec!["summer".into(), "sale".into()],
        context: vec![("alt".into(), "a red shoe".into())],
        metadata,
        image_metadata: Vec::new(),
        created_at: 1_690_000_000,
        updated_at: 1_700_000_000,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut schema = Schema::default();
    schema.metadata.insert("rating".into(), FieldType::Integer);
    schema.metadata.insert("color".into(), FieldType::Enum);
    schema.metadata.insert("shot".into(), FieldType::Date);
    match search::compile(text, &schema, 1_700_000_000) {
        Ok(q) => {
            let _ = search::matches(&q, &asset());
        }
        Err(e) => assert!(e.at <= text.len().max(search::MAX_LEN), "error position {} beyond the input", e.at),
    }
    if let Ok(q) = search::compile_folders(text, 1_700_000_000) {
        if let Some(f) = search::folder_doc("shop/shoes", 1_690_000_000) {
            let _ = search::matches(&q, &f);
        }
    }
});
