//! The catalog conformance suite: the same checks on SQLite and on PostgreSQL.

use nimbus_app::events::Actor;
use nimbus_app::ports::{
    AssetKey, AssetPatch, AssetRepo, BasedOn, Catalog, EnvRepo, FieldRecord, FolderRepo, ListQuery, MetadataChange,
    MetadataGuard, MetadataPatch, MetadataRepo, MetadataUpdate, MetadataWrite, Patched, Preset, PresetRepo, Renamed,
    RuleRecord, Saved, TagCommand,
};
use nimbus_core::{Asset, DeliveryType, MetadataValues, PublicId, ResourceType};
use nimbus_db::SqlCatalog;
use nimbus_testkit::{ScratchDir, scratch_postgres, wctx};

fn asset(n: u32, id: &str) -> Asset {
    Asset {
        asset_id: format!("{n:032x}"),
        resource_type: ResourceType::Image,
        delivery_type: DeliveryType::Upload,
        access_mode: nimbus_core::AccessMode::Public,
        headers: Vec::new(),
        public_id: PublicId::parse(id).unwrap(),
        version: 1000 + i64::from(n),
        version_id: format!("{:032x}", n + 10_000),
        format: Some("jpg".into()),
        width: Some(10),
        height: Some(20),
        bytes: 100,
        etag: "e".repeat(32),
        blob_key: format!("originals/{n}"),
        original_filename: Some("orig".into()),
        display_name: id.rsplit('/').next().unwrap().into(),
        asset_folder: PublicId::parse(id).unwrap().folder().into(),
        tags: vec!["t1".into(), "t2".into()],
        context: vec![("k".into(), "v=1|2".into())],
        metadata: serde_json::json!({"sku": 12, "colors": ["red"]}).as_object().cloned().unwrap(),
        image_metadata: Vec::new(),
        created_at: 1000,
        updated_at: 1000,
    }
}

fn key(id: &PublicId) -> AssetKey<'_> {
    AssetKey { resource_type: ResourceType::Image, delivery_type: DeliveryType::Upload, public_id: id }
}

async fn suite(c: &SqlCatalog) {
    // Environments and keys.
    let env = c.create_env("demo", "k1", "s1", &Actor::System, 1).await.unwrap().unwrap();
    assert!(c.create_env("demo", "k9", "s9", &Actor::System, 1).await.unwrap().is_none(), "duplicate cloud name");
    let other = c.create_env("other", "k2", "s2", &Actor::System, 1).await.unwrap().unwrap();
    assert_eq!(c.api_key("k1").await.unwrap().unwrap().env_id, env.id);
    c.create_key(&wctx(env.id, 2), "k3", "s3").await.unwrap();
    assert_eq!(c.list_keys(env.id).await.unwrap().len(), 2);
    assert!(c.revoke_key("k3", &Actor::System, 5).await.unwrap());
    assert_eq!(c.api_key("k3").await.unwrap().unwrap().revoked_at, Some(5));
    assert!(!c.revoke_key("k3", &Actor::System, 6).await.unwrap(), "revoking twice");
    assert_eq!(c.list_envs().await.unwrap().len(), 2);

    // Insert, get, overwrite, keep existing.
    let a = asset(1, "f1/a");
    assert!(matches!(c.save_asset(&wctx(env.id, 0), &a, false, None).await.unwrap(), Saved::Inserted(_)));
    let got = c.asset(env.id, key(&a.public_id)).await.unwrap().unwrap();
    assert_eq!(got, a, "round trip, tags and context in order");
    assert!(c.asset(other.id, key(&a.public_id)).await.unwrap().is_none(), "other environment sees nothing");
    let mut a2 = asset(2, "f1/a");
    a2.tags = vec!["x".into()];
    match c.save_asset(&wctx(env.id, 0), &a2, false, None).await.unwrap() {
        Saved::Existing(e) => assert_eq!(e.asset_id, a.asset_id),
        other => panic!("expected Existing, got {other:?}"),
    }
    // Guarded saves: the schema version and the replaced metadata must be as computed.
    let guard = |v, based_on| MetadataGuard { schema_version: v, based_on };
    let stale_guards = [
        guard(5, BasedOn::Anything),
        guard(0, BasedOn::NewAsset),
        guard(0, BasedOn::Stored(values(serde_json::json!({"other": 1})))),
    ];
    for g in &stale_guards {
        assert!(matches!(c.save_asset(&wctx(env.id, 0), &a2, true, Some(g)).await.unwrap(), Saved::Stale), "{g:?}");
    }
    let fresh_new = asset(90, "guarded/new");
    assert!(matches!(
        c.save_asset(&wctx(env.id, 0), &fresh_new, true, Some(&guard(0, BasedOn::Stored(a.metadata.clone()))))
            .await
            .unwrap(),
        Saved::Stale
    ));
    assert!(c.asset(env.id, key(&fresh_new.public_id)).await.unwrap().is_none(), "a stale insert is rolled back");
    let right = guard(0, BasedOn::Stored(a.metadata.clone()));
    match c.save_asset(&wctx(env.id, 0), &a2, true, Some(&right)).await.unwrap() {
        Saved::Replaced { asset, old_blob } => {
            assert_eq!(old_blob, "originals/1");
            assert_eq!(asset.asset_id, a.asset_id, "asset id survives overwrite");
        }
        other => panic!("expected Replaced, got {other:?}"),
    }
    let got = c.asset(env.id, key(&a.public_id)).await.unwrap().unwrap();
    assert_eq!(
        (got.tags.clone(), got.blob_key.as_str(), got.asset_id.as_str()),
        (vec!["x".to_owned()], "originals/2", a.asset_id.as_str())
    );
    assert_eq!(c.asset_by_id(env.id, &a.asset_id).await.unwrap().unwrap().public_id, a.public_id);

    // Listing: order, pagination without skips or repeats, filters.
    for n in 3..=9 {
        c.save_asset(&wctx(env.id, 0), &asset(n, &format!("p/item{n}")), false, None).await.unwrap();
    }
    c.save_asset(&wctx(other.id, 0), &asset(50, "p/item3"), false, None).await.unwrap();
    let mut seen = Vec::new();
    let mut q = ListQuery { resource_type: Some(ResourceType::Image), limit: 3, ..Default::default() };
    loop {
        let page = c.list_assets(env.id, &q).await.unwrap();
        seen.extend(page.assets.iter().map(|a| a.public_id.to_string()));
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(seen.first().map(String::as_str), Some("p/item9"), "newest first");
    let prefixed = c
        .list_assets(
            env.id,
            &ListQuery { prefix: Some("p/".into()), limit: 100, ascending: true, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(prefixed.assets.len(), 7);
    assert_eq!(prefixed.assets[0].public_id.as_str(), "p/item3", "ascending");
    let none = c
        .list_assets(env.id, &ListQuery { prefix: Some("P/".into()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert!(none.assets.is_empty(), "prefix is case-sensitive");
    let by_ids = c
        .list_assets(
            env.id,
            &ListQuery { public_ids: vec!["p/item4".into(), "nope".into()], limit: 10, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(by_ids.assets.len(), 1);
    let by_ctx = c
        .list_assets(
            env.id,
            &ListQuery { context: Some(("k".into(), Some("v=1|2".into()))), limit: 100, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(by_ctx.assets.len(), 8, "the overwritten f1/a carries the same context");

    // Tags.
    let ids: Vec<PublicId> = ["p/item3", "p/item4", "missing"].iter().map(|s| PublicId::parse(s).unwrap()).collect();
    let found = c
        .tag_assets(&wctx(env.id, 7), ResourceType::Image, DeliveryType::Upload, &ids, TagCommand::Add("new"))
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    let tagged =
        c.list_assets(env.id, &ListQuery { tag: Some("new".into()), limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(tagged.assets.len(), 2);
    assert_eq!(tagged.assets[0].tags, vec!["t1", "t2", "new"], "added tags go last");
    c.tag_assets(
        &wctx(env.id, 8),
        ResourceType::Image,
        DeliveryType::Upload,
        &ids,
        TagCommand::Replace(&["only".to_owned(), "one".to_owned()]),
    )
    .await
    .unwrap();
    let got = c.asset(env.id, key(&ids[0])).await.unwrap().unwrap();
    assert_eq!(got.tags, vec!["only", "one"]);
    c.tag_assets(&wctx(env.id, 8), ResourceType::Image, DeliveryType::Upload, &ids, TagCommand::Remove("one"))
        .await
        .unwrap();
    c.tag_assets(&wctx(env.id, 8), ResourceType::Image, DeliveryType::Upload, &ids[1..2], TagCommand::RemoveAll)
        .await
        .unwrap();
    assert_eq!(c.asset(env.id, key(&ids[0])).await.unwrap().unwrap().tags, vec!["only"]);
    assert!(c.asset(env.id, key(&ids[1])).await.unwrap().unwrap().tags.is_empty());
    let tags = c.list_tags(env.id, ResourceType::Image, None, None, 100).await.unwrap();
    assert_eq!(tags, vec!["only", "t1", "t2", "x"]);
    assert_eq!(c.list_tags(env.id, ResourceType::Image, Some("t"), Some("t1"), 100).await.unwrap(), vec!["t2"]);

    // Update, rename, delete.
    let patch = AssetPatch {
        context: Some(vec![("a".into(), "b".into())]),
        display_name: Some("Nice".into()),
        access_mode: Some(nimbus_core::AccessMode::Authenticated),
        ..Default::default()
    };
    let Patched::Done(up) = c.update_asset(&wctx(env.id, 9), key(&ids[0]), &patch).await.unwrap() else { panic!() };
    assert_eq!((up.display_name.as_str(), up.context.len(), up.updated_at), ("Nice", 1, 9));
    let stored = c.asset(env.id, key(&ids[0])).await.unwrap().unwrap();
    assert_eq!(stored.access_mode, nimbus_core::AccessMode::Authenticated);
    // Metadata is written only over the values it was computed from.
    let (old_md, new_md) = (up.metadata.clone(), values(serde_json::json!({"sku": 13})));
    let patch = |expected: &MetadataValues, new: &MetadataValues, schema_version| AssetPatch {
        metadata: Some(MetadataPatch { expected: expected.clone(), new: new.clone(), schema_version }),
        ..Default::default()
    };
    let stale = patch(&new_md, &old_md, 0);
    assert!(matches!(c.update_asset(&wctx(env.id, 9), key(&ids[0]), &stale).await.unwrap(), Patched::Stale));
    let other_schema = patch(&old_md, &new_md, 7);
    assert!(matches!(c.update_asset(&wctx(env.id, 9), key(&ids[0]), &other_schema).await.unwrap(), Patched::Stale));
    let fresh = patch(&old_md, &new_md, 0);
    let Patched::Done(up) = c.update_asset(&wctx(env.id, 9), key(&ids[0]), &fresh).await.unwrap() else { panic!() };
    assert_eq!(up.metadata, new_md);
    assert!(matches!(
        c.update_asset(&wctx(env.id, 9), key(&PublicId::parse("nope").unwrap()), &fresh).await.unwrap(),
        Patched::NotFound
    ));
    let to = PublicId::parse("renamed/x").unwrap();
    assert!(matches!(
        c.rename_asset(&wctx(env.id, 10), key(&ids[2]), key(&to), false).await.unwrap(),
        Renamed::NotFound
    ));
    assert!(matches!(
        c.rename_asset(&wctx(env.id, 10), key(&ids[0]), key(&ids[1]), false).await.unwrap(),
        Renamed::TargetExists
    ));
    match c.rename_asset(&wctx(env.id, 10), key(&ids[0]), key(&to), false).await.unwrap() {
        Renamed::Done { asset, replaced_blob } => assert!(asset.public_id == to && replaced_blob.is_none()),
        other => panic!("{other:?}"),
    }
    match c.rename_asset(&wctx(env.id, 11), key(&to), key(&ids[1]), true).await.unwrap() {
        Renamed::Done { replaced_blob, .. } => {
            assert_eq!(replaced_blob.as_deref(), Some("originals/4"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.asset(env.id, key(&ids[1])).await.unwrap().unwrap().tags, vec!["only"], "tags move with the asset");
    let gone = c.delete_assets(&wctx(env.id, 0), ResourceType::Image, DeliveryType::Upload, &ids).await.unwrap();
    assert_eq!(gone.len(), 1);
    assert!(c.asset(env.id, key(&ids[1])).await.unwrap().is_none());
    assert_eq!(c.usage(env.id).await.unwrap().resources, 6);
    let in_use =
        c.blob_keys_in_use(&["originals/2".into(), "originals/3".into(), "originals/99".into()]).await.unwrap();
    assert!(in_use.contains("originals/2") && !in_use.contains("originals/99"));

    let existing: Vec<PublicId> = c
        .list_assets(env.id, &ListQuery { limit: 3, ascending: true, ..Default::default() })
        .await
        .unwrap()
        .assets
        .into_iter()
        .map(|a| a.public_id)
        .collect();
    assert_eq!(existing.len(), 3);
    metadata_suite(c, env.id, &existing).await;

    // Folders.
    assert!(c.ensure_folder(&wctx(env.id, 1), "a/b/c").await.unwrap());
    assert!(!c.ensure_folder(&wctx(env.id, 1), "a/b").await.unwrap());
    assert_eq!(c.list_folders(env.id, None).await.unwrap(), vec!["a"]);
    assert_eq!(c.list_folders(env.id, Some("a/b")).await.unwrap(), vec!["a/b/c"]);
    assert!(c.folder_has_content(env.id, "a").await.unwrap());
    assert!(!c.folder_has_content(env.id, "a/b/c").await.unwrap());
    assert!(c.folder_has_content(env.id, "p").await.unwrap() || !c.folder_exists(env.id, "p").await.unwrap());
    assert!(c.delete_folder(&wctx(env.id, 1), "a/b/c").await.unwrap());
    assert!(!c.folder_exists(env.id, "a/b/c").await.unwrap());

    // Presets.
    let p = Preset { name: "pre".into(), unsigned: true, settings: vec![("folder".into(), "f".into())] };
    assert!(c.put_preset(&wctx(env.id, 1), &p, true).await.unwrap());
    assert!(!c.put_preset(&wctx(env.id, 1), &p, true).await.unwrap(), "create twice");
    assert_eq!(c.preset(env.id, "pre").await.unwrap(), Some(p.clone()));
    assert!(c.preset(other.id, "pre").await.unwrap().is_none());
    assert!(
        !c.put_preset(&wctx(env.id, 1), &Preset { name: "nope".into(), ..p.clone() }, false).await.unwrap(),
        "update of a missing preset"
    );
    assert_eq!(c.list_presets(env.id).await.unwrap().len(), 1);
    assert!(c.delete_preset(&wctx(env.id, 1), "pre").await.unwrap());

    // Deleting an environment removes its rows only.
    assert!(c.delete_env("other", &Actor::System, 0).await.unwrap());
    assert!(c.api_key("k2").await.unwrap().is_none());
    assert_eq!(c.usage(env.id).await.unwrap().resources, 6);
    c.ping().await.unwrap();
}

fn values(v: serde_json::Value) -> MetadataValues {
    v.as_object().cloned().unwrap()
}

fn rule(id: &str, field: &str) -> RuleRecord {
    RuleRecord {
        external_id: id.into(),
        seq: 0,
        field: field.into(),
        name: id.into(),
        condition: serde_json::json!({"metadata_field_id": "a", "populated": true}),
        result: serde_json::json!({"enable": true}),
        active: true,
        created_at: 5,
    }
}

/// Metadata schema changes are versioned; asset metadata writes are all or nothing.
async fn metadata_suite(c: &SqlCatalog, env: i64, ids: &[PublicId]) {
    let empty = c.metadata_snapshot(env).await.unwrap();
    assert_eq!((empty.version, empty.fields.len(), empty.rules.len()), (0, 0, 0));
    let field = |id: &str, pos: i64| FieldRecord {
        external_id: id.into(),
        position: pos,
        doc: serde_json::json!({"type": "string", "external_id": id}),
        created_at: 3,
    };
    let changes = vec![
        MetadataChange::PutField(field("b", 0)),
        MetadataChange::PutField(field("a", 1)),
        MetadataChange::PutRule(rule("r2", "b")),
        MetadataChange::PutRule(rule("r1", "b")),
    ];
    assert!(c.change_metadata(&wctx(env, 0), 0, &changes).await.unwrap());
    assert!(
        !c.change_metadata(&wctx(env, 0), 0, &[MetadataChange::DeleteField("a".into())]).await.unwrap(),
        "stale version"
    );
    let snap = c.metadata_snapshot(env).await.unwrap();
    assert_eq!(snap.version, 1);
    assert_eq!(snap.fields.iter().map(|f| f.external_id.as_str()).collect::<Vec<_>>(), ["b", "a"], "by position");
    assert_eq!(snap.rules.iter().map(|r| r.external_id.as_str()).collect::<Vec<_>>(), ["r2", "r1"], "by seq");
    assert!(snap.rules[0].seq < snap.rules[1].seq);
    assert_eq!(snap.rules[0].condition, rule("r2", "b").condition);
    // An update keeps the rule's seq.
    let first_seq = snap.rules[0].seq;
    let renamed = RuleRecord { name: "renamed".into(), active: false, ..snap.rules[0].clone() };
    assert!(
        c.change_metadata(
            &wctx(env, 0),
            1,
            &[MetadataChange::PutRule(renamed), MetadataChange::DeleteRule("r1".into())]
        )
        .await
        .unwrap()
    );
    let snap = c.metadata_snapshot(env).await.unwrap();
    assert_eq!((snap.version, snap.rules.len()), (2, 1));
    assert_eq!((snap.rules[0].seq, snap.rules[0].name.as_str(), snap.rules[0].active), (first_seq, "renamed", false));
    assert_eq!(c.metadata_version(env).await.unwrap(), 2);

    // Bulk asset metadata: one stale asset rolls back the others.
    let (rt, dt) = (ResourceType::Image, DeliveryType::Upload);
    let mut with_missing = ids.to_vec();
    with_missing.push(PublicId::parse("not/there").unwrap());
    let found = c.asset_metadata(env, rt, dt, &with_missing).await.unwrap();
    assert_eq!(found.len(), ids.len(), "existing ids only");
    assert!(c.asset_metadata(env, ResourceType::Video, dt, ids).await.unwrap().is_empty(), "of the given type");
    let current: Vec<MetadataValues> = assets_of(c, env, ids).await.into_iter().map(|a| a.metadata).collect();
    let updates: Vec<MetadataUpdate> = ids
        .iter()
        .zip(&current)
        .map(|(id, md)| MetadataUpdate {
            public_id: id.clone(),
            expected: md.clone(),
            new: values(serde_json::json!({"b": "x"})),
        })
        .collect();
    let mut with_stale = updates.clone();
    with_stale[1].expected = values(serde_json::json!({"b": "not what is stored"}));
    assert_eq!(
        c.set_asset_metadata(&wctx(env, 20), rt, dt, &with_stale, 2).await.unwrap(),
        MetadataWrite::Stale(ids[1].clone())
    );
    assert_eq!(c.set_asset_metadata(&wctx(env, 20), rt, dt, &updates, 1).await.unwrap(), MetadataWrite::SchemaChanged);
    let after: Vec<MetadataValues> = assets_of(c, env, ids).await.into_iter().map(|a| a.metadata).collect();
    assert_eq!(after, current, "nothing was written");
    assert_eq!(c.set_asset_metadata(&wctx(env, 20), rt, dt, &updates, 2).await.unwrap(), MetadataWrite::Done);
    let after = assets_of(c, env, ids).await;
    assert!(after.iter().all(|a| a.metadata == values(serde_json::json!({"b": "x"})) && a.updated_at == 20));
    let scanned = c.scan_metadata(env, None, 1000).await.unwrap();
    assert!(scanned.windows(2).all(|w| w[0].0 < w[1].0), "by position");
    assert!(scanned.iter().any(|(_, id, md)| id == ids[0].as_str() && md == &values(serde_json::json!({"b": "x"}))));
    let rest = c.scan_metadata(env, Some(scanned[0].0), 1000).await.unwrap();
    assert_eq!(rest.len(), scanned.len() - 1);
}

/// The assets of `ids`, which must all exist.
async fn assets_of(c: &SqlCatalog, env: i64, ids: &[PublicId]) -> Vec<Asset> {
    let mut out = Vec::new();
    for id in ids {
        out.push(c.asset(env, key(id)).await.unwrap().unwrap());
    }
    out
}

#[tokio::test]
async fn conformance_on_sqlite() {
    let dir = ScratchDir::new("catalog");
    let c = SqlCatalog::connect(&format!("sqlite://{}", dir.path().join("c.db").display())).await.unwrap();
    suite(&c).await;
    // Reopening applies no migration twice.
    c.close().await;
    let again = SqlCatalog::connect(&format!("sqlite://{}", dir.path().join("c.db").display())).await.unwrap();
    assert_eq!(again.list_envs().await.unwrap().len(), 1);
}

#[tokio::test]
async fn conformance_on_postgres() {
    let Some(url) = scratch_postgres().await else {
        return;
    };
    let c = SqlCatalog::connect(&url).await.unwrap();
    suite(&c).await;
    c.close().await;
    let again = SqlCatalog::connect(&url).await.unwrap();
    assert_eq!(again.list_envs().await.unwrap().len(), 1);
}
