//! Transformation components of delivery URLs, typed.
//!
//! ```text
//! transformation = component *( "/" component )
//! component      = param *( "," param )
//! param          = key "_" value           ; key: up to the first "_"
//! ```
//! Order inside a component does not matter; a repeated key keeps its last value. The
//! canonical form (the derived-image cache key) sorts each component's parameters as the
//! SDKs emit them, and `parse(canonical(t)) == t`. Docs:
//! <https://cloudinary.com/documentation/transformation_reference>.

pub mod geometry;
pub mod values;

use std::fmt;

pub use values::{
    Angle, AspectRatio, AutoQuality, Color, Compass, CropMode, Dim, Dpr, Effect, Format, Gravity, Num, Quality,
};

use values::{EffectError, KNOWN_FLAGS, UNSUPPORTED_FLAGS, num};

/// One parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Width(Dim),
    Height(Dim),
    AspectRatio(AspectRatio),
    Crop(CropMode),
    Gravity(Gravity),
    X(Dim),
    Y(Dim),
    Zoom(Num),
    Dpr(Dpr),
    Quality(Quality),
    Format(Format),
    Effect(Effect),
    Angle(Vec<Angle>),
    Background(Color),
    /// `bo_{w}px_solid_{color}`.
    Border {
        width: u32,
        color: Color,
    },
    Opacity(u8),
    /// Corner radii (1 to 4), or `max`.
    Radius(Option<Vec<u32>>),
    Flags(Vec<String>),
    /// Named transformations, applied in order.
    Named(Vec<String>),
    /// A layer over (`l_`) or under (`u_`) the image.
    Layer {
        under: bool,
        source: LayerSource,
    },
    /// Colour (`co_`): of text layers.
    Color(Color),
}

/// What a layer shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerSource {
    /// Another uploaded image, by public id (folders written with `:` in URLs).
    Image(String),
    /// Rendered text: `text:{family}_{size}[_bold|_italic|_normal]:{text}`.
    Text(TextLayer),
}

/// A text layer's style and text (percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLayer {
    pub family: String,
    pub size: u32,
    pub bold: bool,
    pub italic: bool,
    pub text: String,
}

/// Largest font size of a text layer, in pixels.
pub const MAX_FONT_SIZE: u32 = 1000;

/// Text of a text layer as the SDKs write it: `%`, `,` and `/` escaped first (so they cannot
/// end the parameter or the component), then the whole URL-encoded — `,` travels as `%252C`.
fn encode_text(s: &str) -> String {
    let escaped = s.replace('%', "%25").replace(',', "%2C").replace('/', "%2F");
    let mut out = String::with_capacity(escaped.len() * 2);
    for b in escaped.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse_text_layer(spec: &str) -> Option<TextLayer> {
    let (style, raw) = spec.split_once(':')?;
    let mut parts = style.split('_');
    let family = parts.next().filter(|f| !f.is_empty())?.to_owned();
    let size = parts.next()?.parse::<u32>().ok().filter(|s| (1..=MAX_FONT_SIZE).contains(s))?;
    let (mut bold, mut italic) = (false, false);
    for p in parts {
        match p {
            "bold" => bold = true,
            "italic" => italic = true,
            "normal" => {}
            _ => return None,
        }
    }
    // Two levels, as [`encode_text`] writes them: the URL's, then the text's own escapes.
    let once = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?.into_owned();
    let text = percent_encoding::percent_decode_str(&once).decode_utf8().ok()?.into_owned();
    (!text.is_empty() && text.len() <= 1000).then_some(TextLayer { family, size, bold, italic, text })
}

impl Param {
    /// The URL key.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Width(_) => "w",
            Self::Height(_) => "h",
            Self::AspectRatio(_) => "ar",
            Self::Crop(_) => "c",
            Self::Gravity(_) => "g",
            Self::X(_) => "x",
            Self::Y(_) => "y",
            Self::Zoom(_) => "z",
            Self::Dpr(_) => "dpr",
            Self::Quality(_) => "q",
            Self::Format(_) => "f",
            Self::Effect(_) => "e",
            Self::Angle(_) => "a",
            Self::Background(_) => "b",
            Self::Border { .. } => "bo",
            Self::Opacity(_) => "o",
            Self::Radius(_) => "r",
            Self::Flags(_) => "fl",
            Self::Named(_) => "t",
            Self::Layer { under: false, .. } => "l",
            Self::Layer { under: true, .. } => "u",
            Self::Color(_) => "co",
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |v: &[String]| v.join(".");
        write!(f, "{}_", self.key())?;
        match self {
            Self::Width(d) | Self::Height(d) | Self::X(d) | Self::Y(d) => write!(f, "{d}"),
            Self::AspectRatio(a) => write!(f, "{a}"),
            Self::Crop(c) => f.write_str(c.as_str()),
            Self::Gravity(g) => write!(f, "{g}"),
            Self::Zoom(n) => write!(f, "{n}"),
            Self::Dpr(Dpr::Auto) => f.write_str("auto"),
            // The SDKs keep a float's ".0": dpr_2.0.
            Self::Dpr(Dpr::Value(n)) if n.0.fract() == 0.0 => write!(f, "{:.1}", n.0),
            Self::Dpr(Dpr::Value(n)) => write!(f, "{}", n.0),
            Self::Quality(q) => write!(f, "{q}"),
            Self::Format(x) => f.write_str(x.as_str()),
            Self::Effect(e) => write!(f, "{e}"),
            Self::Angle(a) => f.write_str(&a.iter().map(ToString::to_string).collect::<Vec<_>>().join(".")),
            Self::Background(c) => write!(f, "{c}"),
            Self::Border { width, color } => write!(f, "{width}px_solid_{color}"),
            Self::Opacity(o) => write!(f, "{o}"),
            Self::Radius(None) => f.write_str("max"),
            Self::Radius(Some(r)) => f.write_str(&r.iter().map(u32::to_string).collect::<Vec<_>>().join(":")),
            Self::Flags(v) | Self::Named(v) => f.write_str(&join(v)),
            Self::Layer { source: LayerSource::Image(id), .. } => f.write_str(&id.replace('/', ":")),
            Self::Layer { source: LayerSource::Text(t), .. } => {
                let style = match (t.bold, t.italic) {
                    (true, true) => "_bold_italic",
                    (true, false) => "_bold",
                    (false, true) => "_italic",
                    (false, false) => "",
                };
                write!(f, "text:{}_{}{style}:{}", t.family, t.size, encode_text(&t.text))
            }
            Self::Color(c) => write!(f, "{c}"),
        }
    }
}

/// One component: parameters applied together, by key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Component {
    /// At most one parameter per key, in canonical order.
    pub params: Vec<Param>,
}

impl Component {
    pub fn get(&self, key: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.key() == key)
    }
}

/// A chain of components.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transformation {
    pub components: Vec<Component>,
}

impl Transformation {
    /// The device pixel ratio of the whole chain: a component holding only `dpr` (how the
    /// frontend SDKs' URL builder writes it, `c_scale,w_150/dpr_2.0`) sets it for every
    /// component that has no `dpr` of its own; the last such component wins.
    pub fn chain_dpr(&self) -> Option<Dpr> {
        self.components.iter().rev().find_map(|c| match c.params.as_slice() {
            [Param::Dpr(d)] => Some(*d),
            _ => None,
        })
    }
}

/// Why a transformation was refused: the message names the parameter and where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransformError {
    pub message: String,
    /// Component index and the parameter's byte range inside that component.
    pub component: usize,
    pub span: (usize, usize),
}

fn canonical_component(params: &[Param]) -> String {
    let mut texts: Vec<String> = params.iter().map(ToString::to_string).collect();
    // As the SDKs emit: the whole `key_value` texts sorted.
    texts.sort();
    texts.join(",")
}

impl Transformation {
    /// Parses the raw components of a delivery URL (still percent-encoded).
    pub fn parse(components: &[String]) -> Result<Self, TransformError> {
        let mut out = Vec::with_capacity(components.len());
        for (ci, comp) in components.iter().enumerate() {
            let mut params: Vec<Param> = Vec::new();
            let mut offset = 0;
            for text in comp.split(',') {
                let span = (offset, offset + text.len());
                offset += text.len() + 1;
                let err = |message: String| TransformError { message, component: ci, span };
                let p = parse_param(text).map_err(err)?;
                // A repeated key keeps its last value.
                params.retain(|q| q.key() != p.key());
                params.push(p);
            }
            let mut sorted: Vec<(String, Param)> = params.into_iter().map(|p| (p.to_string(), p)).collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push(Component { params: sorted.into_iter().map(|(_, p)| p).collect() });
        }
        Ok(Self { components: out })
    }

    /// The canonical text: components by `/`, parameters sorted by their text.
    pub fn canonical(&self) -> String {
        self.components.iter().map(|c| canonical_component(&c.params)).collect::<Vec<_>>().join("/")
    }

    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }
}

fn parse_param(text: &str) -> Result<Param, String> {
    let Some((key, value)) = text.split_once('_') else {
        return Err(format!("Invalid transformation parameter '{text}'"));
    };
    let bad = || format!("Invalid value '{value}' for parameter {key} ('{text}')");
    if value.is_empty() {
        return Err(bad());
    }
    let positive = |d: Dim| match d {
        Dim::Px(p) if p > 0 => Some(d),
        Dim::Fraction(f) if f.0 > 0.0 => Some(d),
        _ => None,
    };
    Ok(match key {
        "w" => Param::Width(Dim::parse(value, false).and_then(positive).ok_or_else(bad)?),
        "h" => Param::Height(Dim::parse(value, false).and_then(positive).ok_or_else(bad)?),
        "ar" => Param::AspectRatio(AspectRatio::parse(value).ok_or_else(bad)?),
        "c" => Param::Crop(CropMode::parse(value).ok_or_else(|| {
            if ["fill_pad", "auto_pad", "imagga_scale", "imagga_crop"].contains(&value) {
                format!("Crop mode {value} is not supported ('{text}')")
            } else {
                bad()
            }
        })?),
        "g" => Param::Gravity(Gravity::parse(value).ok_or_else(bad)?),
        "x" => Param::X(Dim::parse(value, true).ok_or_else(bad)?),
        "y" => Param::Y(Dim::parse(value, true).ok_or_else(bad)?),
        "z" => Param::Zoom(num(value, false).filter(|n| n.0 > 0.0).ok_or_else(bad)?),
        "dpr" => Param::Dpr(if value == "auto" {
            Dpr::Auto
        } else {
            Dpr::Value(num(value, false).filter(|n| n.0 > 0.0 && n.0 <= 8.0).ok_or_else(bad)?)
        }),
        "q" => Param::Quality(Quality::parse(value).ok_or_else(bad)?),
        "f" => Param::Format(Format::parse(value).ok_or_else(bad)?),
        "e" => Param::Effect(Effect::parse(value).map_err(|e| match e {
            EffectError::Unknown => format!("Invalid effect '{value}' ('{text}')"),
            EffectError::Unsupported => format!("Effect {value} is not supported ('{text}')"),
            EffectError::BadLevel => format!("Invalid level for effect '{value}' ('{text}')"),
        })?),
        "a" => Param::Angle(value.split('.').map(Angle::parse).collect::<Option<Vec<_>>>().ok_or_else(bad)?),
        "b" => Param::Background(Color::parse(value).ok_or_else(bad)?),
        "co" => Param::Color(Color::parse(value).ok_or_else(bad)?),
        "l" | "u" => {
            let source = if let Some(spec) = value.strip_prefix("text:") {
                LayerSource::Text(parse_text_layer(spec).ok_or_else(|| {
                    format!("Invalid text layer '{value}': expected text:{{font}}_{{size}}[_bold|_italic]:{{text}} ('{text}')")
                })?)
            } else if value.starts_with("fetch:") || value.starts_with("video:") || value.starts_with("subtitles:") {
                return Err(format!("Layer {value} is not supported yet ('{text}')"));
            } else {
                let id = value.replace(':', "/");
                if id.split('/').any(str::is_empty) || id.len() > 1024 {
                    return Err(bad());
                }
                LayerSource::Image(id)
            };
            Param::Layer { under: key == "u", source }
        }
        "bo" => {
            let (w, rest) = value.split_once("px_solid_").ok_or_else(bad)?;
            Param::Border {
                width: w.parse::<u32>().ok().filter(|w| *w <= 1000).ok_or_else(bad)?,
                color: Color::parse(rest).ok_or_else(bad)?,
            }
        }
        "o" => Param::Opacity(value.parse::<u8>().ok().filter(|o| *o <= 100).ok_or_else(bad)?),
        "r" => Param::Radius(if value == "max" {
            None
        } else {
            let r: Vec<u32> = value.split(':').map(|v| v.parse::<u32>().ok()).collect::<Option<_>>().ok_or_else(bad)?;
            if r.is_empty() || r.len() > 4 {
                return Err(bad());
            }
            Some(r)
        }),
        "fl" => {
            let flags: Vec<String> = value.split('.').map(str::to_owned).collect();
            if let Some(unknown) = flags.iter().find(|f| !KNOWN_FLAGS.contains(&f.as_str())) {
                if UNSUPPORTED_FLAGS.contains(&unknown.as_str()) {
                    return Err(format!("Flag {unknown} is not supported ('{text}')"));
                }
                return Err(format!("Invalid flag '{unknown}' ('{text}')"));
            }
            Param::Flags(flags)
        }
        "t" => {
            let names: Vec<String> = value.split('.').map(str::to_owned).collect();
            if names.iter().any(|n| n.is_empty()) {
                return Err(bad());
            }
            Param::Named(names)
        }
        known if crate::delivery::KNOWN_KEYS.contains(&known) || known == "if" || known.starts_with('$') => {
            return Err(format!("Parameter {known} is not supported ('{text}')"));
        }
        _ => return Err(format!("Invalid transformation parameter '{text}'")),
    })
}

#[cfg(test)]
mod tests;
