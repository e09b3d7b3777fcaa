//! Text layers (`l_text:{font}_{size}[_bold]:{text}`), drawn with the bundled DejaVu Sans.
//! Every font family maps to it (regular or bold); italic is drawn upright. Lines break at
//! newlines (`%0A`).

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _, point};
use nimbus_core::transform::TextLayer;

use super::RenderError;
use super::pixels::Pixels;

static REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// Most pixels a text layer may have.
const MAX_TEXT_PIXELS: u64 = 25_000_000;

/// Renders `t` in `color` on `background` (transparent when `None`), tightly sized.
pub fn render_text(t: &TextLayer, color: [u8; 4], background: Option<[u8; 4]>) -> Result<Pixels, RenderError> {
    let font = FontRef::try_from_slice(if t.bold { BOLD } else { REGULAR })
        .map_err(|e| RenderError::Engine(format!("bundled font: {e}")))?;
    let scaled = font.as_scaled(PxScale::from(t.size as f32));
    let line_height = scaled.height() + scaled.line_gap();
    let lines: Vec<&str> = t.text.split('\n').collect();
    // Each line's glyphs with their pen positions, and the line's advance width.
    let laid_out: Vec<(Vec<(ab_glyph::GlyphId, f32)>, f32)> = lines
        .iter()
        .map(|line| {
            let (mut x, mut prev, mut glyphs) = (0.0f32, None, Vec::new());
            for ch in line.chars() {
                let id = font.glyph_id(ch);
                if let Some(p) = prev {
                    x += scaled.kern(p, id);
                }
                glyphs.push((id, x));
                x += scaled.h_advance(id);
                prev = Some(id);
            }
            (glyphs, x)
        })
        .collect();
    let width = laid_out.iter().map(|(_, w)| *w).fold(0.0f32, f32::max).ceil().max(1.0) as u32;
    let height = (line_height * lines.len() as f32).ceil().max(1.0) as u32;
    if u64::from(width) * u64::from(height) > MAX_TEXT_PIXELS {
        return Err(RenderError::TooLarge(format!("Text layer would be {width}x{height} pixels")));
    }
    let mut img = Pixels::new(width, height, 4, &background.unwrap_or([0, 0, 0, 0]));
    for (n, (glyphs, _)) in laid_out.iter().enumerate() {
        let baseline = scaled.ascent() + line_height * n as f32;
        for (id, x) in glyphs {
            let glyph = id.with_scale_and_position(PxScale::from(t.size as f32), point(*x, baseline));
            let Some(outline) = font.outline_glyph(glyph) else { continue };
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let (px, py) = (bounds.min.x as i64 + i64::from(gx), bounds.min.y as i64 + i64::from(gy));
                if px < 0 || py < 0 || px >= i64::from(width) || py >= i64::from(height) {
                    return;
                }
                let i = (py as usize * width as usize + px as usize) * 4;
                let a = coverage.clamp(0.0, 1.0) * f32::from(color[3]) / 255.0;
                let dst_a = f32::from(img.data[i + 3]) / 255.0;
                let out_a = a + dst_a * (1.0 - a);
                for (k, c) in color.iter().take(3).enumerate() {
                    let v = if out_a > 0.0 {
                        (f32::from(*c) * a + f32::from(img.data[i + k]) * dst_a * (1.0 - a)) / out_a
                    } else {
                        0.0
                    };
                    img.data[i + k] = v.round() as u8;
                }
                img.data[i + 3] = (out_a * 255.0).round() as u8;
            });
        }
    }
    Ok(img)
}
