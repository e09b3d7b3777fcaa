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

    /// Whether any pixel is not fully opaque.
    pub fn is_translucent(&self) -> bool {
        self.channels == 4 && self.data.chunks_exact(4).any(|p| p[3] != 255)
    }
}
