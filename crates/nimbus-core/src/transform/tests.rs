use super::geometry::{Plan, Rect, plan};
use super::*;

fn t(s: &str) -> Transformation {
    let comps: Vec<String> = s.split('/').map(str::to_owned).collect();
    Transformation::parse(&comps).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn err(s: &str) -> TransformError {
    let comps: Vec<String> = s.split('/').map(str::to_owned).collect();
    Transformation::parse(&comps).expect_err(s)
}

/// Transformation URLs from Cloudinary's documentation, and their canonical forms.
#[test]
fn documentation_examples() {
    let table = [
        ("c_fill,w_400,h_300,g_auto", "c_fill,g_auto,h_300,w_400"),
        ("w_0.5", "w_0.5"),
        ("c_scale,w_1.0", "c_scale,w_1.0"),
        ("ar_16:9,c_fill,w_400", "ar_16:9,c_fill,w_400"),
        ("c_thumb,g_face,h_150,w_150", "c_thumb,g_face,h_150,w_150"),
        ("c_crop,g_north_west,h_200,w_300,x_10,y_20", "c_crop,g_north_west,h_200,w_300,x_10,y_20"),
        ("q_auto:eco", "q_auto:eco"),
        ("q_auto:good", "q_auto"),
        ("q_80:420", "q_80:420"),
        ("f_auto,q_auto", "f_auto,q_auto"),
        ("dpr_2.0,w_100", "dpr_2.0,w_100"),
        ("dpr_2,w_100", "dpr_2.0,w_100"),
        ("e_sepia", "e_sepia:80"),
        ("e_blur:300", "e_blur:300"),
        ("a_auto_right.hflip", "a_auto_right.hflip"),
        ("bo_4px_solid_black", "bo_4px_solid_rgb:000000"),
        ("b_rgb:ff000080,c_pad,h_100,w_100", "b_rgb:ff000080,c_pad,h_100,w_100"),
        ("r_max", "r_max"),
        ("r_10:20:30", "r_10:20:30"),
        ("fl_keep_iptc.lossy", "fl_keep_iptc.lossy"),
        ("t_thumb.small", "t_thumb.small"),
        ("w_100.4", "w_100"),
        ("c_limit,w_500/e_grayscale/f_webp", "c_limit,w_500/e_grayscale/f_webp"),
        ("w_100,w_200", "w_200"),
        ("l_brand:logo,g_south_east,w_50,x_10,y_10", "g_south_east,l_brand:logo,w_50,x_10,y_10"),
        (
            "l_logo/c_scale,w_100/e_grayscale/fl_layer_apply,g_north_east",
            "l_logo/c_scale,w_100/e_grayscale/fl_layer_apply,g_north_east",
        ),
        ("u_paper,o_50", "o_50,u_paper"),
        (
            "co_red,l_text:Arial_40_bold:Hello%20World%252C%20hi",
            "co_rgb:ff0000,l_text:Arial_40_bold:Hello%20World%252C%20hi",
        ),
        ("l_text:DejaVu_12:a:b", "l_text:DejaVu_12:a%3Ab"),
        // As the Python SDK writes "Hello, World / 100%".
        (
            "l_text:Arial_40_bold:Hello%252C%20World%20%252F%20100%25",
            "l_text:Arial_40_bold:Hello%252C%20World%20%252F%20100%2525",
        ),
    ];
    for (url, canonical) in table {
        let parsed = t(url);
        assert_eq!(parsed.canonical(), canonical, "{url}");
        assert_eq!(t(canonical), parsed, "parse(canonical(x)) == x for {url}");
    }
    assert_eq!(t("h_300,w_400,c_fill"), t("c_fill,w_400,h_300"), "order inside a component does not matter");
    match &t("l_text:Arial_40_bold:Hello%252C%20World%20%252F%20100%25").components[0].params[0] {
        Param::Layer { source: LayerSource::Text(tl), .. } => assert_eq!(tl.text, "Hello, World / 100%"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_name_the_parameter_and_where_it_is() {
    let e = err("c_fill,w_abc,h_10");
    assert_eq!(e.message, "Invalid value 'abc' for parameter w ('w_abc')");
    assert_eq!((e.component, e.span), (0, (7, 12)));
    let e = err("w_10/c_banana");
    assert_eq!(
        (e.component, e.span, e.message.as_str()),
        (1, (0, 8), "Invalid value 'banana' for parameter c ('c_banana')")
    );
    assert_eq!(err("e_oil_paint").message, "Effect oil_paint is not supported ('e_oil_paint')");
    assert_eq!(err("e_wobble").message, "Invalid effect 'wobble' ('e_wobble')");
    assert_eq!(err("q_0").message, "Invalid value '0' for parameter q ('q_0')");
    assert_eq!(err("fl_rocket").message, "Invalid flag 'rocket' ('fl_rocket')");
    assert_eq!(err("fl_progressive.png8").message, "Flag png8 is not supported ('fl_progressive.png8')");
    assert!(err("l_text:Arial:Hi").message.starts_with("Invalid text layer 'text:Arial:Hi'"));
    assert!(err("l_text:Arial_40_wavy:Hi").message.starts_with("Invalid text layer"));
    assert_eq!(err("l_fetch:aHR0cA==").message, "Layer fetch:aHR0cA== is not supported yet ('l_fetch:aHR0cA==')");
    assert_eq!(err("w_").message, "Invalid value '' for parameter w ('w_')");
    assert_eq!(err("w_-5").message, "Invalid value '-5' for parameter w ('w_-5')");
    assert_eq!(err("zz_1").message, "Invalid transformation parameter 'zz_1'");
}

/// Random parameter soup: whatever parses has a canonical form that parses back to it.
#[test]
fn canonical_round_trips_on_random_input() {
    let pool = [
        "w_100",
        "w_0.25",
        "w_1.0",
        "h_50",
        "h_0.5",
        "ar_4:3",
        "ar_1.5",
        "c_fill",
        "c_pad",
        "c_limit",
        "c_crop",
        "g_south_east",
        "g_auto",
        "g_auto:subject",
        "g_xy_center",
        "x_-10",
        "y_0.1",
        "dpr_1.5",
        "dpr_auto",
        "q_90",
        "q_auto:best",
        "f_png",
        "f_auto",
        "e_grayscale",
        "e_brightness:-20",
        "a_90",
        "a_hflip.vflip",
        "b_white",
        "b_rgb:abc",
        "bo_2px_solid_red",
        "o_50",
        "r_5:6",
        "fl_progressive",
        "t_named",
        "z_1.2",
        "w_bad",
        "q_101",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut parsed_ok = 0;
    for _ in 0..3000 {
        let comps: Vec<String> = (0..1 + next() % 3)
            .map(|_| {
                (0..1 + next() % 5).map(|_| pool[(next() % pool.len() as u64) as usize]).collect::<Vec<_>>().join(",")
            })
            .collect();
        if let Ok(x) = Transformation::parse(&comps) {
            parsed_ok += 1;
            let c = x.canonical();
            let again: Vec<String> = c.split('/').map(str::to_owned).collect();
            assert_eq!(Transformation::parse(&again).as_ref(), Ok(&x), "{comps:?} -> {c}");
            assert_eq!(Transformation::parse(&again).map(|y| y.canonical()), Ok(c));
        }
    }
    assert!(parsed_ok > 1000, "the generator mostly produces valid input ({parsed_ok})");
}

fn geo(s: &str, input: (u32, u32)) -> Plan {
    plan(input, &t(s).components[0], 1.0, None).unwrap()
}

#[test]
fn crop_modes() {
    let img = (1000, 500);
    // scale: exact size, or proportional with one dimension.
    assert_eq!(geo("w_200,h_200", img).output(), (200, 200));
    assert_eq!(geo("w_200", img).output(), (200, 100));
    assert_eq!(geo("w_0.5", img).output(), (500, 250));
    // fit / limit / mfit.
    assert_eq!(geo("c_fit,w_200,h_200", img).output(), (200, 100));
    assert_eq!(geo("c_limit,w_2000,h_2000", img).output(), (1000, 500));
    assert_eq!(geo("c_limit,w_100", img).output(), (100, 50));
    assert_eq!(geo("c_mfit,w_2000,h_2000", img).output(), (2000, 1000));
    assert_eq!(geo("c_mfit,w_100,h_100", img).output(), (1000, 500));
    // fill: cover, then crop the long side around the gravity.
    let p = geo("c_fill,w_200,h_200", img);
    assert_eq!((p.output(), p.region), ((200, 200), Rect { x: 250, y: 0, w: 500, h: 500 }));
    assert_eq!(geo("c_fill,g_west,w_200,h_200", img).region.x, 0);
    assert_eq!(geo("c_fill,g_east,w_200,h_200", img).region.x, 500);
    // lfill never upscales: a small input keeps the requested aspect ratio.
    assert_eq!(geo("c_lfill,w_4000,h_1000", img).output(), (1000, 250));
    // crop: a region of the input, no scaling; offsets from the gravity corner.
    let p = geo("c_crop,w_300,h_200,x_10,y_20", img);
    assert_eq!((p.region, p.size), (Rect { x: 10, y: 20, w: 300, h: 200 }, (300, 200)));
    assert_eq!(geo("c_crop,g_south_east,w_300,h_200,x_10,y_20", img).region, Rect { x: 690, y: 280, w: 300, h: 200 });
    assert_eq!(geo("c_crop,w_5000,h_5000", img).output(), (1000, 500), "clamped to the image");
    // pad: fit inside and pad to the box.
    let p = geo("c_pad,w_200,h_200", img);
    assert_eq!((p.size, p.canvas), ((200, 100), Some(Rect { x: 0, y: 50, w: 200, h: 200 })));
    let p = geo("c_lpad,w_2000,h_2000", img);
    assert_eq!((p.size, p.output()), ((1000, 500), (2000, 2000)));
    assert_eq!(geo("c_mpad,w_100,h_100", img).size, (1000, 500));
    // Aspect ratio with one dimension, and alone.
    assert_eq!(geo("ar_1:1,c_fill,w_300", img).output(), (300, 300));
    assert_eq!(geo("ar_1:1", img).output(), (500, 500));
    // DPR multiplies sizes; content-aware gravity follows the focus point.
    assert_eq!(plan(img, &t("w_100").components[0], 2.0, None).unwrap().output(), (200, 100));
    let p = plan(img, &t("c_fill,g_auto,w_100,h_100").components[0], 1.0, Some((0.9, 0.5))).unwrap();
    assert_eq!(p.region.x, 500, "the window is centred on the focus, clamped to the image");
    assert!(plan(img, &t("c_scale,g_auto,w_100").components[0], 1.0, None).is_err());
    assert!(plan(img, &t("w_100000,h_100000").components[0], 1.0, None).is_err(), "output pixel limit");
    assert!(geo("e_grayscale", img).is_identity(img));
}
