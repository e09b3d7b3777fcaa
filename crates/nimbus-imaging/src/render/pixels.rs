//! An image in memory: 8-bit RGB or RGBA, rows packed.

/// Decoded pixels. `channels` is 3 (RGB) or 4 (RGBA, straight alpha).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub data: Vec<u8>,
}

impl Pixels {
    pub fn new(width: u32, height: u32, channels: u8, fill: &[u8]) -> Self {
        let n = width as usize * height as usize;
        let mut data = Vec::with_capacity(n * channels as usize);
        for _ in 0..n {
            data.extend_from_slice(&fill[..channels as usize]);
        }
        Self { width, height, channels, data }
    }

    pub fn has_alpha(&self) -> bool {
        self.channels == 4
    }

    pub fn stride(&self) -> usize {
        self.width as usize * self.channels as usize
    }

    /// The same pixels with an alpha channel (opaque where there was none).
    pub fn to_rgba(self) -> Self {
        if self.channels == 4 {
            return self;
        }
        let mut data = Vec::with_capacity(self.data.len() / 3 * 4);
        for px in self.data.chunks_exact(3) {
            data.extend_from_slice(px);
            data.push(255);
        }
        Self { channels: 4, data, ..self }
    }

    /// Composites onto an opaque `background`, dropping the alpha channel.
    pub fn flatten(self, background: [u8; 3]) -> Self {
        if self.channels == 3 {
            return self;
        }
        let mut data = Vec::with_capacity(self.data.len() / 4 * 3);
        for px in self.data.chunks_exact(4) {
            let a = u32::from(px[3]);
            for c in 0..3 {
                data.push(((u32::from(px[c]) * a + u32::from(background[c]) * (255 - a) + 127) / 255) as u8);
            }
        }
        Self { channels: 3, data, ..self }
    }

    /// A copy of the `w`×`h` rectangle at (`x`, `y`), which must lie inside the image.
    pub fn region(&self, x: u32, y: u32, w: u32, h: u32) -> Self {
        let c = self.channels as usize;
        let mut data = Vec::with_capacity(w as usize * h as usize * c);
        for row in y..y + h {
            let start = (row as usize * self.width as usize + x as usize) * c;
            data.extend_from_slice(&self.data[start..start + w as usize * c]);
        }
        Self { width: w, height: h, channels: self.channels, data }
    }

    /// Writes `src` (same channels) over this image with its top-left corner at (`x`, `y`),
    /// clipped to the image.
    pub fn paste(&mut self, src: &Pixels, x: u32, y: u32) {
        let c = self.channels as usize;
        debug_assert_eq!(c, src.channels as usize);
        let cols = src.width.min(self.width.saturating_sub(x)) as usize;
        for r in 0..src.height.min(self.height.saturating_sub(y)) as usize {
            let d = ((y as usize + r) * self.width as usize + x as usize) * c;
            let s = r * src.width as usize * c;
            self.data[d..d + cols * c].copy_from_slice(&src.data[s..s + cols * c]);
        }
    }

    /// Whether any pixel is not fully opaque.
    pub fn is_translucent(&self) -> bool {
        self.channels == 4 && self.data.chunks_exact(4).any(|p| p[3] != 255)
    }
}
