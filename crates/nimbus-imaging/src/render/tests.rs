//! The engine on real pixels: sizes, formats, where pixels end up, and colours.

use super::*;

/// A JPEG whose left half is red and right half blue, top rows green-tinted.
fn two_tone_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut data = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let g = if y < h / 4 { 120 } else { 0 };
            let px: [u8; 3] = if x < w / 2 { [230, g, 20] } else { [20, g, 230] };
            data.extend_from_slice(&px);
        }
    }
    let img = Pixels { width: w, height: h, channels: 3, data };
    encode::encode(
        &img,
        Format::Jpg,
        EncodeOptions { quality: 95, progressive: false, full_chroma: true, lossy: false },
    )
    .unwrap()
}

/// A PNG with a transparent left half.
fn half_transparent_png(w: u32, h: u32) -> Vec<u8> {
    let mut data = Vec::new();
    for _ in 0..h {
        for x in 0..w {
            data.extend_from_slice(if x < w / 2 { &[0, 0, 0, 0] } else { &[10, 200, 10, 255] });
        }
    }
    let img = Pixels { width: w, height: h, channels: 4, data };
    encode::encode(
        &img,
        Format::Png,
        EncodeOptions { quality: 80, progressive: false, full_chroma: false, lossy: false },
    )
    .unwrap()
}

fn t(s: &str) -> Transformation {
    if s.is_empty() {
        return Transformation::default();
    }
    Transformation::parse(&s.split('/').map(str::to_owned).collect::<Vec<_>>()).unwrap()
}

fn run(input: &[u8], s: &str) -> Rendered {
    render(input, &t(s), &RenderOptions::default()).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn decoded(r: &Rendered) -> image::RgbaImage {
    image::load_from_memory(&r.bytes).unwrap().into_rgba8()
}

fn close(a: &[u8], b: &[u8], tol: i32) -> bool {
    a.iter().zip(b).all(|(x, y)| (i32::from(*x) - i32::from(*y)).abs() <= tol)
}

#[test]
fn sizes_and_formats() {
    let jpg = two_tone_jpeg(1200, 800);
    let cases = [
        ("w_300", (300, 200), Format::Jpg),
        ("c_fill,h_100,w_100", (100, 100), Format::Jpg),
        ("c_fit,h_100,w_100", (100, 67), Format::Jpg),
        ("c_limit,w_5000", (1200, 800), Format::Jpg),
        ("c_pad,b_black,h_300,w_300", (300, 300), Format::Jpg),
        ("c_crop,h_50,w_60,x_10,y_10", (60, 50), Format::Jpg),
        ("w_0.25/f_png", (300, 200), Format::Png),
        ("dpr_2.0,w_100/f_webp", (200, 133), Format::Webp),
        // dpr in a component of its own, as @cloudinary/url-gen writes it, sizes the chain.
        ("c_scale,w_150/dpr_2.0", (300, 200), Format::Jpg),
        ("c_fill,h_50,w_50/dpr_3.0/f_png", (150, 150), Format::Png),
        // A component's own dpr wins over the chain's.
        ("dpr_1.0,w_100/dpr_2.0", (100, 67), Format::Jpg),
        ("a_90,w_120", (80, 120), Format::Jpg),
        ("bo_5px_solid_red,w_100", (110, 77), Format::Jpg),
        ("c_thumb,g_auto,h_64,w_64", (64, 64), Format::Jpg),
        ("w_100/f_gif", (100, 67), Format::Gif),
        ("w_120/f_avif", (120, 80), Format::Avif),
    ];
    for (s, size, format) in cases {
        let r = run(&jpg, s);
        assert_eq!(((r.width, r.height), r.format), (size, format), "{s}");
        let probed = imagesize::blob_size(&r.bytes).unwrap();
        assert_eq!((probed.width as u32, probed.height as u32), size, "{s}: encoded size");
        let kind = image::guess_format(&r.bytes).unwrap();
        assert_eq!(kind.extensions_str()[0].replace("jpeg", "jpg"), format.as_str().replace("jpeg", "jpg"), "{s}");
    }
}

#[test]
fn pixels_land_where_the_geometry_says() {
    let jpg = two_tone_jpeg(400, 200);
    // West gravity keeps the red half, east the blue.
    let west = decoded(&run(&jpg, "c_fill,g_west,h_100,w_50"));
    assert!(close(&west.get_pixel(25, 80).0[..3], &[230, 0, 20], 24), "{:?}", west.get_pixel(25, 80));
    let east = decoded(&run(&jpg, "c_fill,g_east,h_100,w_50"));
    assert!(close(&east.get_pixel(25, 80).0[..3], &[20, 0, 230], 24), "{:?}", east.get_pixel(25, 80));
    // Crop at an offset: the top band is green-tinted.
    let top = decoded(&run(&jpg, "c_crop,g_north_west,h_20,w_20,x_10,y_5"));
    assert!(top.get_pixel(10, 10).0[1] > 90);
    // Pad fills with the background colour.
    let padded = decoded(&run(&jpg, "b_rgb:00ff00,c_pad,h_400,w_400"));
    assert!(close(&padded.get_pixel(200, 10).0[..3], &[0, 255, 0], 8));
    // Effects.
    let gray = decoded(&run(&jpg, "e_grayscale"));
    let p = gray.get_pixel(10, 150).0;
    assert!(close(&[p[0]], &[p[1]], 3) && close(&[p[1]], &[p[2]], 3), "{p:?}");
    let neg = decoded(&run(&jpg, "e_negate"));
    assert!(close(&neg.get_pixel(10, 150).0[..3], &[25, 255, 235], 24), "{:?}", neg.get_pixel(10, 150));
    // Rotating 180° puts the blue half on the left.
    let rot = decoded(&run(&jpg, "a_180"));
    assert!(rot.get_pixel(10, 20).0[2] > 200);
    // Chaining: each component works on the previous result.
    assert_eq!((run(&jpg, "c_crop,h_100,w_100/w_50").width, run(&jpg, "w_50/c_crop,h_10,w_10").width), (50, 10));
}

#[test]
fn transparency_survives_where_it_can() {
    let png = half_transparent_png(100, 50);
    let out = decoded(&run(&png, "w_50"));
    assert_eq!(out.get_pixel(5, 5).0[3], 0, "PNG keeps alpha");
    assert!(out.get_pixel(45, 5).0[3] == 255);
    // To JPEG: flattened on the background (white by default).
    let jpg = decoded(&run(&png, "w_50/f_jpg"));
    assert!(close(&jpg.get_pixel(5, 5).0[..3], &[255, 255, 255], 6), "{:?}", jpg.get_pixel(5, 5));
    let rounded = decoded(&run(&two_tone_jpeg(100, 100), "f_png,r_max"));
    assert_eq!(rounded.get_pixel(0, 0).0[3], 0);
    // f_auto: WebP when accepted, else PNG for translucent images and JPEG for opaque ones.
    let auto = t("f_auto");
    let webp = RenderOptions { accepts_webp: true, ..RenderOptions::default() };
    assert_eq!(render(&png, &auto, &webp).unwrap().format, Format::Webp);
    assert_eq!(render(&png, &auto, &RenderOptions::default()).unwrap().format, Format::Png);
    assert_eq!(render(&two_tone_jpeg(10, 10), &auto, &RenderOptions::default()).unwrap().format, Format::Jpg);
}

#[test]
fn shrink_on_load_does_not_change_the_result_size() {
    let jpg = two_tone_jpeg(1601, 1203);
    for s in ["w_97", "c_fill,h_33,w_71", "c_fit,h_150,w_150", "c_crop,h_300,w_301,x_7", "c_pad,h_50,w_500"] {
        let r = run(&jpg, s);
        let exact = plan((1601, 1203), &t(s).components[0], 1.0, None).unwrap().output();
        assert_eq!((r.width, r.height), exact, "{s}");
    }
}

#[test]
fn exif_orientation_is_applied_unless_ignored() {
    // A 40×20 JPEG tagged "rotate 90° clockwise" (orientation 6) shows as 20×40.
    let jpg = two_tone_jpeg(40, 20);
    let tiff: Vec<u8> = [
        &b"MM\x00\x2a\x00\x00\x00\x08"[..],
        &[0, 1], // one entry
        &[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0],
        &[0, 0, 0, 0],
    ]
    .concat();
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let len = (app1.len() + 2) as u16;
    let mut tagged = vec![0xFF, 0xD8, 0xFF, 0xE1];
    tagged.extend_from_slice(&len.to_be_bytes());
    tagged.extend_from_slice(&app1);
    tagged.extend_from_slice(&jpg[2..]);
    let r = run(&tagged, "");
    assert_eq!((r.width, r.height), (20, 40));
    let r = run(&tagged, "a_ignore");
    assert_eq!((r.width, r.height), (40, 20));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(matches!(render(b"not an image", &t("w_10"), &RenderOptions::default()), Err(RenderError::Decode(_))));
    let jpg = two_tone_jpeg(64, 64);
    // A truncated file either renders what is there or fails cleanly.
    let _ = render(&jpg[..jpg.len() / 2], &t("w_10"), &RenderOptions::default());
    // A header claiming 200 000 × 200 000 pixels is refused before any decoding.
    let mut bomb = half_transparent_png(1, 1);
    bomb[16..20].copy_from_slice(&200_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&200_000u32.to_be_bytes());
    assert!(matches!(render(&bomb, &t("w_10"), &RenderOptions::default()), Err(RenderError::TooLarge(_))));
}

/// `jpg` with an ICC profile in an APP2 segment right after SOI.
fn with_icc(jpg: &[u8], icc: &[u8]) -> Vec<u8> {
    let mut seg = b"ICC_PROFILE\0\x01\x01".to_vec();
    seg.extend_from_slice(icc);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE2];
    out.extend_from_slice(&((seg.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&seg);
    out.extend_from_slice(&jpg[2..]);
    out
}

#[test]
fn embedded_colour_profiles_are_converted_to_srgb() {
    let jpg = two_tone_jpeg(64, 64);
    let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let srgb = moxcms::ColorProfile::new_srgb().encode().unwrap();
    let plain = decoded(&run(&jpg, "w_32")).get_pixel(4, 30).0;
    let from_srgb = decoded(&run(&with_icc(&jpg, &srgb), "w_32")).get_pixel(4, 30).0;
    let from_p3 = decoded(&run(&with_icc(&jpg, &p3), "w_32")).get_pixel(4, 30).0;
    assert!(close(&plain[..3], &from_srgb[..3], 3), "an sRGB profile changes nothing: {plain:?} vs {from_srgb:?}");
    // Display P3 red is more saturated than sRGB red: converted, it clips to full red and
    // the blue channel drops.
    assert!(from_p3[0] >= plain[0] && from_p3[2] + 5 < plain[2], "P3 converted: {plain:?} -> {from_p3:?}");
    let garbage = with_icc(&jpg, b"not a profile");
    assert_eq!(decoded(&run(&garbage, "w_32")).get_pixel(4, 30).0, plain, "a bad profile is ignored");
}

fn solid_png(w: u32, h: u32, rgba: [u8; 4]) -> Vec<u8> {
    let img = Pixels::new(w, h, 4, &rgba);
    encode::encode(
        &img,
        Format::Png,
        EncodeOptions { quality: 80, progressive: false, full_chroma: false, lossy: false },
    )
    .unwrap()
}

fn run_with_layers(input: &[u8], s: &str, layers: &[(&str, Vec<u8>)]) -> Rendered {
    let opts = RenderOptions {
        layers: layers.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        ..RenderOptions::default()
    };
    render(input, &t(s), &opts).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn image_layers_are_placed_by_gravity_and_offsets() {
    let base = two_tone_jpeg(200, 100);
    let logo = solid_png(20, 20, [0, 255, 0, 255]);
    let layers = [("brand/logo", logo.clone())];
    // One component: the layer's own size, then placement from the south-east corner.
    let r = run_with_layers(&base, "l_brand:logo,w_10,g_south_east,x_5,y_5", &layers);
    assert_eq!((r.width, r.height), (200, 100));
    let out = decoded(&r);
    assert!(close(&out.get_pixel(200 - 5 - 5, 100 - 5 - 5).0[..3], &[0, 255, 0], 40), "{:?}", out.get_pixel(190, 90));
    assert!(!close(&out.get_pixel(200 - 5 - 15, 100 - 5 - 5).0[..3], &[0, 255, 0], 40), "the layer is 10 px wide");
    // A layer block: steps apply to the layer until fl_layer_apply places it.
    let r = run_with_layers(&base, "l_brand:logo/w_40/e_negate/fl_layer_apply,g_north_west", &layers);
    let out = decoded(&r);
    assert!(close(&out.get_pixel(30, 30).0[..3], &[255, 0, 255], 40), "negated green: {:?}", out.get_pixel(30, 30));
    assert!(!close(&out.get_pixel(45, 30).0[..3], &[255, 0, 255], 40));
    // A translucent layer blends; an underlay under an opaque image does not show.
    let half = [("ghost", solid_png(20, 20, [0, 0, 0, 128]))];
    let p = decoded(&run_with_layers(&base, "l_ghost", &half)).get_pixel(100, 50).0;
    assert!(p[0] < 150 && p[2] < 150, "darkened by half: {p:?}");
    let plain = decoded(&run(&base, "")).get_pixel(100, 50).0;
    assert_eq!(decoded(&run_with_layers(&base, "u_brand:logo", &layers)).get_pixel(100, 50).0, plain);
    // A layer that was not loaded is an error, not a panic.
    assert!(matches!(render(&base, &t("l_nope"), &RenderOptions::default()), Err(RenderError::Invalid(_))));
}

#[test]
fn text_layers_draw_with_the_bundled_font() {
    let base = two_tone_jpeg(400, 200);
    // Large white bold text centred on the image: many pixels near white in the middle band.
    let r = decoded(&run(&base, "co_white,l_text:Arial_60_bold:HELLO%20WORLD"));
    let white = (100..300).filter(|x| close(&r.get_pixel(*x, 100).0[..3], &[255, 255, 255], 40)).count();
    assert!(white > 20, "text drawn across the middle ({white} white pixels)");
    assert!(!close(&r.get_pixel(5, 5).0[..3], &[255, 255, 255], 40), "outside the text untouched");
    // The layer is sized to its text: a small font fits in a corner.
    let small = decoded(&run(&base, "co_rgb:00ff00,l_text:Helvetica_12:hi,g_north_west,x_2,y_2/f_png"));
    let green = (0..30)
        .flat_map(|x| (0..20).map(move |y| (x, y)))
        .filter(|(x, y)| small.get_pixel(*x, *y).0[1] > 200 && small.get_pixel(*x, *y).0[0] < 100)
        .count();
    assert!(green > 5, "{green} green pixels in the corner");
    let bg = decoded(&run(&base, "b_black,co_white,l_text:Arial_20:x,g_south_east"));
    assert!(close(&bg.get_pixel(398, 198).0[..3], &[0, 0, 0], 30), "the text layer's background");
    assert!(matches!(
        render(
            &base,
            &t("l_text:Arial_1000:WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"),
            &RenderOptions::default()
        ),
        Err(RenderError::TooLarge(_))
    ));
}

#[test]
fn arbitrary_angles_grow_the_canvas_and_leave_the_corners_empty() {
    // A 100×50 opaque square turned 30° clockwise covers 100·cos30 + 50·sin30 ≈ 112 by
    // 100·sin30 + 50·cos30 ≈ 93 pixels.
    let png = solid_png(100, 50, [200, 30, 30, 255]);
    let r = run(&png, "a_30/f_png");
    assert_eq!((r.width, r.height), (112, 93));
    let img = decoded(&r);
    assert_eq!(img.get_pixel(0, 0).0[3], 0, "a corner is transparent");
    assert!(close(&img.get_pixel(56, 46).0, &[200, 30, 30, 255], 2), "the middle keeps the colour");
    // Clockwise: the source's top-left corner lands on the top edge a quarter of the way in
    // (counter-clockwise it would land three quarters in).
    assert_eq!(img.get_pixel(30, 5).0[3], 255);
    assert_eq!(img.get_pixel(82, 5).0[3], 0);
    // With a background, the corners take it; -30 mirrors the bounding box.
    let r = run(&png, "a_-30,b_blue/f_png");
    assert_eq!((r.width, r.height), (112, 93));
    assert!(close(&decoded(&r).get_pixel(0, 0).0, &[0, 0, 255, 255], 0));
    // A JPEG output flattens the empty corners onto white.
    let r = run(&png, "a_45/f_jpg");
    assert_eq!((r.width, r.height), (106, 106));
    assert!(close(&decoded(&r).get_pixel(1, 1).0, &[255, 255, 255, 255], 3));
    // Chained with a resize in the same component, the rotation applies to the resized image.
    let r = run(&png, "w_50,a_90/f_png");
    assert_eq!((r.width, r.height), (25, 50));
}

/// A photograph of a person, fetched by `scripts/fetch-test-photos.sh` (run by the set-up).
fn portrait() -> Vec<u8> {
    let dir = std::env::var("NIMBUS_TEST_PHOTOS").map(std::path::PathBuf::from).unwrap_or_else(|_| {
        std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/nimbus/test-photos")
    });
    let path = dir.join("astronaut.png");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/fetch-test-photos.sh (scripts/setup.sh does)", path.display()))
}

#[test]
fn face_gravity_finds_the_face() {
    use nimbus_core::transform::geometry::Rect;
    let photo = load(&portrait()).unwrap().flatten([0, 0, 0]);
    let found = super::faces::detect(&photo);
    assert_eq!(found.len(), 1, "{found:?}");
    // The portrait's face is in the upper middle: its centre near (0.44, 0.22).
    let f = found[0];
    let (cx, cy) = (f.x + f.w / 2.0, f.y + f.h / 2.0);
    assert!((0.35..0.55).contains(&cx) && (0.1..0.35).contains(&cy), "{f:?}");

    // On a wide grey canvas with the portrait at the right, a square g_face crop lands on
    // the face while a centred one sees only grey. g_faces (one face) does the same.
    let canvas = super::ops::pad(photo.clone(), Rect { x: 1024, y: 0, w: 1536, h: 512 }, [128, 128, 128, 255]);
    let mut png = Vec::new();
    image::RgbImage::from_raw(canvas.width, canvas.height, canvas.data.clone())
        .unwrap()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // The share of pixels that are not the canvas grey.
    let not_grey = |r: &Rendered| {
        let img = decoded(r);
        let off = img.pixels().filter(|p| p.0[..3].iter().any(|c| (i32::from(*c) - 128).abs() > 24)).count();
        off as f64 / f64::from(img.width() * img.height())
    };
    let centre = not_grey(&run(&png, "c_fill,g_center,w_64,h_64/f_png"));
    assert!(centre < 0.05, "the centre is plain grey: {centre}");
    for g in ["face", "faces", "face:center", "auto:face"] {
        let r = run(&png, &format!("c_fill,g_{g},w_64,h_64/f_png"));
        assert_eq!((r.width, r.height), (64, 64));
        let share = not_grey(&r);
        assert!(share > 0.5, "g_{g} should crop to the face: {share}");
    }
    // No face: g_face falls back to the centre.
    let plain = solid_png(300, 100, [40, 90, 160, 255]);
    assert!(super::faces::detect(&load(&plain).unwrap()).is_empty());
    assert_eq!((run(&plain, "c_fill,g_face,w_50,h_50").width, 50), (50, 50));
}

#[test]
fn face_effects_change_the_face_and_nothing_else() {
    let photo = load(&portrait()).unwrap().flatten([0, 0, 0]);
    let mut png = Vec::new();
    image::RgbImage::from_raw(photo.width, photo.height, photo.data.clone())
        .unwrap()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let before = decoded(&run(&png, "f_png"));
    for e in ["blur_faces", "pixelate_faces:12", "blur_faces:2000"] {
        let after = decoded(&run(&png, &format!("e_{e}/f_png")));
        assert_eq!(after.dimensions(), before.dimensions());
        let changed = |x0: u32, y0: u32, x1: u32, y1: u32| {
            let mut n = 0;
            for y in y0..y1 {
                for x in x0..x1 {
                    if !close(&before.get_pixel(x, y).0, &after.get_pixel(x, y).0, 4) {
                        n += 1;
                    }
                }
            }
            f64::from(n) / f64::from((x1 - x0) * (y1 - y0))
        };
        // The face (about x 176–272, y 67–163 of 512) changes; the lower corners do not.
        assert!(changed(190, 80, 260, 150) > 0.3, "e_{e} should alter the face");
        assert_eq!(changed(0, 400, 100, 512), 0.0, "e_{e} must leave the rest alone");
        assert_eq!(changed(412, 400, 512, 512), 0.0, "e_{e} must leave the rest alone");
    }
    // An image without faces is returned as it was.
    let plain = solid_png(120, 80, [10, 200, 30, 255]);
    assert_eq!(decoded(&run(&plain, "e_blur_faces/f_png")), decoded(&run(&plain, "f_png")));
}
