//! Where the interesting part of an image is, for `g_auto`: the centre of mass of local
//! contrast (edge energy) on a small grayscale copy. Cheap (a 64-pixel thumbnail), and it
//! moves crops toward detail and away from flat sky or walls.

use super::pixels::Pixels;

/// The focus point as fractions (0..1) of the width and height.
pub fn focus(img: &Pixels) -> (f64, f64) {
    let (w, h, c) = (img.width as usize, img.height as usize, img.channels as usize);
    if w < 3 || h < 3 {
        return (0.5, 0.5);
    }
    // Sample a grid of at most 64×64 points.
    let step = (w.max(h) / 64).max(1);
    let lum = |x: usize, y: usize| {
        let i = (y * w + x) * c;
        0.299 * f64::from(img.data[i]) + 0.587 * f64::from(img.data[i + 1]) + 0.114 * f64::from(img.data[i + 2])
    };
    let (mut sx, mut sy, mut total) = (0.0, 0.0, 0.0);
    let mut y = step;
    while y + step < h {
        let mut x = step;
        while x + step < w {
            let gx = lum(x + step, y) - lum(x - step, y);
            let gy = lum(x, y + step) - lum(x, y - step);
            let e = gx * gx + gy * gy;
            sx += e * x as f64;
            sy += e * y as f64;
            total += e;
            x += step;
        }
        y += step;
    }
    if total <= f64::EPSILON {
        return (0.5, 0.5);
    }
    (sx / total / w as f64, sy / total / h as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_attracts_the_focus() {
        // Flat grey, with noise in the right third.
        let (w, h) = (300u32, 100u32);
        let mut data = Vec::new();
        let mut seed: u32 = 12345;
        for _ in 0..h {
            for x in 0..w {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let v = if x > 200 { (seed >> 16) as u8 } else { 128 };
                data.extend_from_slice(&[v, v, v]);
            }
        }
        let (fx, fy) = focus(&Pixels { width: w, height: h, channels: 3, data });
        assert!(fx > 0.7, "focus x {fx}");
        assert!((fy - 0.5).abs() < 0.2, "focus y {fy}");
        assert_eq!(focus(&Pixels::new(50, 50, 3, &[9, 9, 9])), (0.5, 0.5));
    }
}
