//! Delivery URLs and their transformations: parsing never panics; whatever parses has a
//! canonical form that parses back to the same value; geometry never panics and never
//! plans an empty image.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus_core::delivery::DeliveryPath;
use nimbus_core::transform::Transformation;
use nimbus_core::transform::geometry::plan;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(path) = DeliveryPath::parse(text) {
        let _ = path.string_to_sign();
        check(&path.transformations, data);
    }
    // Also the transformation grammar on its own, without URL framing.
    let comps: Vec<String> = text.split('/').map(str::to_owned).collect();
    check(&comps, data);
});

fn check(comps: &[String], data: &[u8]) {
    let Ok(t) = Transformation::parse(comps) else { return };
    if t.is_empty() {
        return;
    }
    let canonical = t.canonical();
    let again: Vec<String> = canonical.split('/').map(str::to_owned).collect();
    let reparsed = Transformation::parse(&again).expect("a canonical form parses");
    assert_eq!(reparsed, t, "parse(canonical(x)) == x for {canonical}");
    let w = 1 + u32::from(data.first().copied().unwrap_or(0)) * 37;
    let h = 1 + u32::from(data.last().copied().unwrap_or(0)) * 23;
    for c in &t.components {
        if let Ok(p) = plan((w, h), c, 1.0, Some((0.3, 0.7))) {
            let (ow, oh) = p.output();
            assert!(ow > 0 && oh > 0, "empty output for {canonical} on {w}x{h}");
            assert!(p.region.x + p.region.w <= w && p.region.y + p.region.h <= h, "region outside the image: {p:?}");
        }
    }
}
