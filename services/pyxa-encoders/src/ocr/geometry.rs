//! Plane geometry for the text reader: convex hulls, minimum-area rectangles (rotating
//! calipers, what OpenCV's `minAreaRect` computes), quads in reading order, and the
//! perspective warp that cuts a text box out of a photo (bicubic, border replicated, as
//! OpenCV's `warpPerspective` with `INTER_CUBIC` does).

use image::RgbImage;

pub type Pt = [f64; 2];

/// A rotated rectangle: centre, unit axis `u` (the `w` side; `v` is `u` turned 90 degrees)
/// and side lengths.
#[derive(Debug, Clone, Copy)]
pub struct RotRect {
    pub centre: Pt,
    pub u: Pt,
    pub w: f64,
    pub h: f64,
}

impl RotRect {
    pub fn short_side(&self) -> f64 {
        self.w.min(self.h)
    }

    /// The rectangle grown by `d` on every side (a round-joined offset of a rectangle has
    /// exactly this minimum-area rectangle).
    pub fn expand(&self, d: f64) -> RotRect {
        RotRect { w: self.w + 2.0 * d, h: self.h + 2.0 * d, ..*self }
    }

    pub fn corners(&self) -> [Pt; 4] {
        let v = [-self.u[1], self.u[0]];
        let (a, b) = (self.w / 2.0, self.h / 2.0);
        let c = self.centre;
        let at = |s: f64, t: f64| [c[0] + s * a * self.u[0] + t * b * v[0], c[1] + s * a * self.u[1] + t * b * v[1]];
        [at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)]
    }
}

fn cross(o: Pt, a: Pt, b: Pt) -> f64 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

/// Convex hull (Andrew's monotone chain), counter-clockwise in y-down coordinates' sense of
/// `cross > 0`; collinear points are dropped.
pub fn convex_hull(mut pts: Vec<Pt>) -> Vec<Pt> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut hull: Vec<Pt> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Pt>> = if pass == 0 { Box::new(pts.iter()) } else { Box::new(pts.iter().rev()) };
        for &p in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// The minimum-area rectangle around `pts` (rotating calipers over the hull's edges).
pub fn min_area_rect(pts: Vec<Pt>) -> RotRect {
    let hull = convex_hull(pts);
    match hull.len() {
        0 => return RotRect { centre: [0.0, 0.0], u: [1.0, 0.0], w: 0.0, h: 0.0 },
        1 => return RotRect { centre: hull[0], u: [1.0, 0.0], w: 0.0, h: 0.0 },
        _ => {}
    }
    let mut best: Option<(f64, RotRect)> = None;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        if len == 0.0 {
            continue;
        }
        let u = [(b[0] - a[0]) / len, (b[1] - a[1]) / len];
        let v = [-u[1], u[0]];
        let (mut u0, mut u1, mut v0, mut v1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in &hull {
            let (pu, pv) = (p[0] * u[0] + p[1] * u[1], p[0] * v[0] + p[1] * v[1]);
            u0 = u0.min(pu);
            u1 = u1.max(pu);
            v0 = v0.min(pv);
            v1 = v1.max(pv);
        }
        let area = (u1 - u0) * (v1 - v0);
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (cu, cv) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
            let centre = [cu * u[0] + cv * v[0], cu * u[1] + cv * v[1]];
            best = Some((area, RotRect { centre, u, w: u1 - u0, h: v1 - v0 }));
        }
    }
    best.map(|(_, r)| r).unwrap_or(RotRect { centre: hull[0], u: [1.0, 0.0], w: 0.0, h: 0.0 })
}

/// Orders four corners as top-left, top-right, bottom-right, bottom-left: the two leftmost
/// points (by x) give top-left and bottom-left by y, the two rightmost top-right and
/// bottom-right (rapidocr's `order_points_clockwise`).
pub fn order_quad(mut q: [Pt; 4]) -> [Pt; 4] {
    q.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (tl, bl) = if q[0][1] <= q[1][1] { (q[0], q[1]) } else { (q[1], q[0]) };
    let (tr, br) = if q[2][1] <= q[3][1] { (q[2], q[3]) } else { (q[3], q[2]) };
    [tl, tr, br, bl]
}

pub fn dist(a: Pt, b: Pt) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Whether `p` lies inside (or on) the convex polygon `poly`, either winding.
pub fn inside_convex(poly: &[Pt], p: Pt) -> bool {
    let (mut pos, mut neg) = (false, false);
    for i in 0..poly.len() {
        let c = cross(poly[i], poly[(i + 1) % poly.len()], p);
        pos |= c > 1e-9;
        neg |= c < -1e-9;
    }
    !(pos && neg)
}

/// The homography taking the four `from` points to the four `to` points (row-major 3x3).
fn homography(from: &[Pt; 4], to: &[Pt; 4]) -> Option<[f64; 9]> {
    // Unknowns h0..h7 (h8 = 1); two equations per correspondence.
    let mut m = [[0f64; 9]; 8];
    for i in 0..4 {
        let ([x, y], [u, v]) = (from[i], to[i]);
        m[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        m[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..8 {
        let pivot = (col..8).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col];
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                r.iter_mut().zip(pivot_row.iter()).skip(col).for_each(|(v, p)| *v -= f * p);
            }
        }
    }
    let mut h = [0f64; 9];
    for i in 0..8 {
        h[i] = m[i][8] / m[i][i];
    }
    h[8] = 1.0;
    Some(h)
}

/// OpenCV's bicubic kernel (A = -0.75).
fn cubic_weights(t: f64) -> [f64; 4] {
    const A: f64 = -0.75;
    let w0 = ((A * (t + 1.0) - 5.0 * A) * (t + 1.0) + 8.0 * A) * (t + 1.0) - 4.0 * A;
    let w1 = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0;
    let w2 = ((A + 2.0) * (1.0 - t) - (A + 3.0)) * (1.0 - t) * (1.0 - t) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

/// Cuts the quad `q` (top-left, top-right, bottom-right, bottom-left) out of `img` into an
/// upright `w x h` picture, as rapidocr's `get_rotate_crop_image` does (corners map to
/// `(0,0), (w,0), (w,h), (0,h)`).
pub fn warp_quad(img: &RgbImage, q: &[Pt; 4], w: u32, h: u32) -> Option<RgbImage> {
    let (wf, hf) = (f64::from(w), f64::from(h));
    let dst = [[0.0, 0.0], [wf, 0.0], [wf, hf], [0.0, hf]];
    let m = homography(&dst, q)?;
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    let raw = img.as_raw();
    let mut out = RgbImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (f64::from(x), f64::from(y));
            let z = m[6] * fx + m[7] * fy + m[8];
            let sx = (m[0] * fx + m[1] * fy + m[2]) / z;
            let sy = (m[3] * fx + m[4] * fy + m[5]) / z;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (wx, wy) = (cubic_weights(sx - x0), cubic_weights(sy - y0));
            let mut acc = [0f64; 3];
            for (j, wyj) in wy.iter().enumerate() {
                let yy = (y0 as i64 - 1 + j as i64).clamp(0, ih - 1);
                for (i, wxi) in wx.iter().enumerate() {
                    let xx = (x0 as i64 - 1 + i as i64).clamp(0, iw - 1);
                    let at = ((yy * iw + xx) * 3) as usize;
                    let wgt = wxi * wyj;
                    for c in 0..3 {
                        acc[c] += wgt * f64::from(raw[at + c]);
                    }
                }
            }
            out.put_pixel(x, y, image::Rgb(acc.map(|v| v.round().clamp(0.0, 255.0) as u8)));
        }
    }
    Some(out)
}

/// Turns a picture 90 degrees counter-clockwise (numpy's `rot90`).
pub fn rot90(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    RgbImage::from_fn(h, w, |x, y| *img.get_pixel(w - 1 - y, x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_area_rect_of_a_tilted_rectangle() {
        let r = RotRect { centre: [50.0, 40.0], u: [0.8, 0.6], w: 30.0, h: 10.0 };
        let found = min_area_rect(r.corners().to_vec());
        assert!((found.w * found.h - 300.0).abs() < 1e-6, "{found:?}");
        assert!((found.short_side() - 10.0).abs() < 1e-6);
        let q = order_quad(found.corners());
        assert!(q[0][0] < q[1][0] && q[3][1] > q[0][1], "{q:?}");
    }

    #[test]
    fn an_axis_aligned_warp_is_a_plain_crop() {
        let img = RgbImage::from_fn(20, 10, |x, y| image::Rgb([x as u8 * 10, y as u8 * 20, 7]));
        let q = [[3.0, 2.0], [13.0, 2.0], [13.0, 7.0], [3.0, 7.0]];
        let out = warp_quad(&img, &q, 10, 5).unwrap();
        assert_eq!(out.get_pixel(0, 0), img.get_pixel(3, 2));
        assert_eq!(out.get_pixel(9, 4), img.get_pixel(12, 6));
        assert_eq!(rot90(&out).dimensions(), (5, 10));
        assert_eq!(rot90(&out).get_pixel(0, 9), out.get_pixel(0, 0));
    }
}
