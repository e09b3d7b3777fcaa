//! The transformation builder of the asset page: width, height, crop, gravity, format,
//! quality and an effect, as a plain GET form; the page shows the delivery URL those make
//! and its result beside the original. The string is checked with Nimbus's own grammar
//! before it is shown, and a refused one is named.

use maud::{Markup, html};
use nimbus_app::App;
use nimbus_core::Asset;
use nimbus_core::transform::Transformation;
use serde::Deserialize;

use super::urls;

/// The builder's fields, as the query string carries them.
#[derive(Debug, Default, Deserialize)]
pub struct Builder {
    #[serde(default)]
    w: String,
    #[serde(default)]
    h: String,
    #[serde(default)]
    c: String,
    #[serde(default)]
    g: String,
    #[serde(default)]
    f: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    e: String,
}

const CROPS: [&str; 8] = ["", "scale", "fit", "limit", "fill", "pad", "crop", "thumb"];
const GRAVITIES: [&str; 5] = ["", "auto", "center", "face", "north"];
const FORMATS: [&str; 5] = ["", "jpg", "png", "webp", "avif"];
const QUALITIES: [&str; 5] = ["", "auto", "90", "75", "50"];
const EFFECTS: [&str; 6] = ["", "grayscale", "sepia", "blur", "sharpen", "pixelate"];

impl Builder {
    fn is_empty(&self) -> bool {
        [&self.w, &self.h, &self.c, &self.g, &self.f, &self.q, &self.e].iter().all(|v| v.trim().is_empty())
    }

    /// The transformation these fields make: resize, then effect, then quality; the format
    /// is the URL's extension.
    fn components(&self) -> Vec<String> {
        let mut resize = Vec::new();
        for (key, v) in [("c", &self.c), ("g", &self.g), ("w", &self.w), ("h", &self.h)] {
            if !v.trim().is_empty() {
                resize.push(format!("{key}_{}", v.trim()));
            }
        }
        let mut out = Vec::new();
        if !resize.is_empty() {
            out.push(resize.join(","));
        }
        if !self.e.trim().is_empty() {
            out.push(format!("e_{}", self.e.trim()));
        }
        if !self.q.trim().is_empty() {
            out.push(format!("q_{}", self.q.trim()));
        }
        out
    }
}

fn choice(id: &str, name: &str, label: &str, options: &[&str], current: &str) -> Markup {
    html! {
        div class="field" {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @for o in options {
                    option value=(o) selected[*o == current] { @if o.is_empty() { "—" } @else { (o) } }
                }
            }
        }
    }
}

/// The builder's form and, when something was asked, its URL and result.
pub fn section(app: &App, cloud: &str, a: &Asset, b: &Builder) -> Markup {
    let preview = if b.is_empty() {
        None
    } else {
        let comps = b.components();
        let checked =
            if comps.is_empty() { Ok(()) } else { Transformation::parse(&comps).map(|_| ()).map_err(|e| e.message) };
        Some(checked.map(|()| {
            let t = comps.join("/");
            let ext = if b.f.is_empty() { a.format.clone().unwrap_or_default() } else { b.f.clone() };
            (urls::transformed(app, cloud, a, &t, &ext, true), urls::transformed(app, cloud, a, &t, &ext, false))
        }))
    };
    html! {
        h2 { "Transformation builder" }
        form method="get" class="builder" {
            div class="field" { label for="b-w" { "Width" } input id="b-w" type="number" min="1" name="w" value=(b.w); }
            div class="field" { label for="b-h" { "Height" } input id="b-h" type="number" min="1" name="h" value=(b.h); }
            (choice("b-c", "c", "Crop", &CROPS, &b.c))
            (choice("b-g", "g", "Gravity", &GRAVITIES, &b.g))
            (choice("b-f", "f", "Format", &FORMATS, &b.f))
            (choice("b-q", "q", "Quality", &QUALITIES, &b.q))
            (choice("b-e", "e", "Effect", &EFFECTS, &b.e))
            button type="submit" { "Show" }
        }
        @match preview {
            None => {},
            Some(Err(m)) => p class="error" role="alert" { "Not a valid transformation: " (m) },
            Some(Ok((full, local))) => {
                label for="built-url" { "Transformation URL" }
                div class="copy" {
                    input id="built-url" type="text" readonly value=(full);
                    button type="button" class="copy-button" data-copy="built-url" hidden { "Copy" }
                }
                div class="side-by-side" {
                    figure {
                        @if let Some(src) = urls::derived(app, cloud, a, "c_limit,w_600,h_450") { img src=(src) alt="Original"; }
                        figcaption { "Original" }
                    }
                    figure { img src=(local) alt="Result"; figcaption { "Result" } }
                }
            },
        }
    }
}
