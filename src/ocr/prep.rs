//! Preprocessing of a screenshot before OCR, and the way back to its pixels.
//!
//! The steps, each switchable ([`Steps`]) so that each can be measured on the
//! screenshot benchmark (`docs/SCREENSHOTS.md`):
//!
//! 1. **Grey and contrast**: the image arrives grey ([`super::decode`]); its
//!    histogram is stretched so that the 1st and 99th percentiles span
//!    0..255 (dim grey text on a dark background gets the contrast of
//!    black on white). Always on.
//! 2. **Perspective** (`perspective`): a photo of a screen, seen at an
//!    angle, is found as the largest bright region that lies wholly inside
//!    the image ([`find_screen`]: each side a line fitted to the region's
//!    outline, the corners where they meet) and warped onto an upright
//!    rectangle (a homography, imageproc's `warp_into`, bicubic). A
//!    screenshot (the page reaches the border) or a dark screen is left
//!    alone. On the benchmark's tuning half this took angled photos from
//!    31/54 to 53/54 (`docs/SCREENSHOTS.md`).
//! 3. **Dark mode** (`invert`): a page whose median luminance is below
//!    [`DARK_MEDIAN`] is light text on dark ground; it is inverted, since
//!    tesseract's LSTM models are trained on dark text.
//! 4. **Upscaling** (`upscale`): the x-height is measured as the median
//!    height of the ink's connected components (most lowercase letters have
//!    no ascender or descender, so the median is the x-height), and the
//!    image is enlarged by an integer factor of 2 to 4 ([`UPSCALE_FILTER`],
//!    Lanczos 3) when that brings the x-height closer to [`TARGET_X_HEIGHT`]
//!    pixels. Measured on the tuning half of the screenshot benchmark
//!    (`docs/SCREENSHOTS.md`), upscaling in the first pass loses small text
//!    and angled photos that the unscaled image gives, while thumbnails
//!    need it: so by default only the retry passes upscale
//!    ([`Steps::DEFAULT`]).
//! 5. **Binarization** (`binarize`): Sauvola's local threshold (Sauvola and
//!    Pietikäinen, "Adaptive document image binarization", Pattern
//!    Recognition 33, 2000): `T = m * (1 + k * (s / R - 1))` over a window of
//!    about four x-heights, computed with integral images (Viola and Jones
//!    2001). Global Otsu (imageproc's `otsu_level`) decides the ink for the
//!    measurements above.
//! 6. **Deskew** (`deskew`): the angle whose projection profile of ink rows
//!    has the largest sum of squares (Postl's method; Hull, "Document image
//!    skew detection: survey and annotated bibliography", 1998) is searched in
//!    +-[`MAX_SKEW_DEG`] degrees, and the image rotated back when it exceeds
//!    [`MIN_SKEW_DEG`].
//!
//! Invariant: [`Transform::to_original`] maps a box of the prepared image to
//! the box of the same content in the decoded image (clamped to it): each
//! geometric step (perspective warp, scaling, rotation) returns the exact
//! homography it applied, and the transform holds their composition and
//! its inverse.

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use imageproc::contrast::otsu_level;
use imageproc::geometric_transformations::{
    rotate_about_center, warp_into, Border, Interpolation, Projection,
};
use imageproc::region_labelling::{connected_components, Connectivity};

/// A page whose median luminance is below this is read as dark mode.
pub const DARK_MEDIAN: u8 = 110;
/// The x-height (pixels) upscaling aims at.
pub const TARGET_X_HEIGHT: f32 = 16.0;
/// Largest upscaling factor.
pub const MAX_SCALE: u32 = 4;
/// The resampling filter of the upscaling.
pub const UPSCALE_FILTER: FilterType = FilterType::Lanczos3;
/// A screen found by `perspective` must cover at least this share of the image.
const MIN_SCREEN_SHARE: f64 = 0.2;
/// ... and its bright pixels at least this share of its quadrilateral.
const MIN_SCREEN_FILL: f64 = 0.6;
/// ... and each corner's angle must be within this many degrees of 90.
const MAX_CORNER_DEVIATION_DEG: f64 = 25.0;
/// Pixels of the photo kept around a corrected screen on every side.
///
/// A screen warped edge to edge (its frame cut off exactly) made tesseract
/// find no text block at all in 3 of the 101 seed-6161 tuning photos of a
/// screen, clean and large as they were: the same image read in full with
/// a few pixels of its surroundings. Margins of 0, 4, 8 and 16 px on the
/// tuning halves (BENCHMARKS.md "A margin around the photographed
/// screen"): photos of a screen 97, 101, 101, 100 of 101, angled photos
/// 53, 54, 54, 54 of 54; 4 px had the best box IoU (0.88 and 0.89).
pub const SCREEN_MARGIN: f64 = 4.0;
/// Largest skew searched, in degrees.
pub const MAX_SKEW_DEG: f32 = 8.0;
/// Smaller skews are left alone (tesseract copes with them).
pub const MIN_SKEW_DEG: f32 = 0.4;
/// Most pixels of a prepared (upscaled) image.
pub const MAX_PREPARED_PIXELS: u64 = 64_000_000;
/// Most ink points used to measure the skew.
const SKEW_SAMPLES: usize = 60_000;
/// Sauvola's k and R.
const SAUVOLA_K: f64 = 0.2;
const SAUVOLA_R: f64 = 128.0;

/// Which optional preprocessing steps run (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Steps {
    /// Invert dark-mode pages.
    pub invert: bool,
    /// Upscale small text by 2-4x.
    pub upscale: bool,
    /// Sauvola binarization.
    pub binarize: bool,
    /// Find a photographed screen's quadrilateral and warp it to a rectangle.
    pub perspective: bool,
    /// Correct small rotations.
    pub deskew: bool,
    /// A second OCR pass with another variant when confidence is low.
    pub retry: bool,
}

impl Steps {
    /// The default, chosen on the tuning half of the screenshot benchmark
    /// (`docs/SCREENSHOTS.md`): the first pass corrects a photographed
    /// screen's perspective, inverts dark pages and deskews; the second pass
    /// (`retry`), run when the first one's mean word confidence is low,
    /// upscales as well, and a third (4x) runs when the second's is low too.
    pub const DEFAULT: Steps = Steps {
        invert: true,
        upscale: false,
        binarize: false,
        perspective: true,
        deskew: true,
        retry: true,
    };
    /// No optional step: grey and contrast only.
    pub const NONE: Steps = Steps {
        invert: false,
        upscale: false,
        binarize: false,
        perspective: false,
        deskew: false,
        retry: false,
    };
    /// The names accepted by [`Steps::parse`].
    pub const NAMES: [&'static str; 6] = [
        "invert",
        "upscale",
        "binarize",
        "deskew",
        "retry",
        "perspective",
    ];

    /// Whether each of [`Steps::NAMES`] is on, in that order.
    pub fn flags(&self) -> [bool; 6] {
        [
            self.invert,
            self.upscale,
            self.binarize,
            self.deskew,
            self.retry,
            self.perspective,
        ]
    }

    /// The comma-separated list of the steps that are on (`none` for
    /// none), which [`Steps::parse`] reads back.
    pub fn to_list(&self) -> String {
        let names: Vec<&str> = Steps::NAMES
            .iter()
            .zip(self.flags())
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(",")
        }
    }

    /// Steps from a comma-separated list of [`Steps::NAMES`]; `none` or an
    /// empty string for none.
    ///
    /// # Errors
    /// The unknown name.
    pub fn parse(list: &str) -> Result<Steps, String> {
        let mut s = Steps::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "invert" => s.invert = true,
                "upscale" => s.upscale = true,
                "binarize" => s.binarize = true,
                "deskew" => s.deskew = true,
                "retry" => s.retry = true,
                "perspective" => s.perspective = true,
                "none" => {}
                other => {
                    return Err(format!(
                        "unknown OCR step '{other}' (known: {}, none)",
                        Steps::NAMES.join(", ")
                    ))
                }
            }
        }
        Ok(s)
    }
}

impl Default for Steps {
    fn default() -> Self {
        Steps::DEFAULT
    }
}

/// A row-major 3x3 homography (projective map) in `f64`.
pub type Matrix = [f64; 9];

/// The identity matrix.
pub const IDENTITY: Matrix = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];

/// `a * b`: the map that applies `b`, then `a`.
pub fn mat_mul(a: &Matrix, b: &Matrix) -> Matrix {
    let mut m = [0.0; 9];
    for r in 0..3 {
        for c in 0..3 {
            m[r * 3 + c] = (0..3).map(|k| a[r * 3 + k] * b[k * 3 + c]).sum();
        }
    }
    m
}

/// The inverse of `m` (adjugate over determinant), `None` when singular.
pub fn mat_inv(m: &Matrix) -> Option<Matrix> {
    let [a, b, c, d, e, f, g, h, i] = *m;
    let co = [
        e * i - f * h,
        c * h - b * i,
        b * f - c * e,
        f * g - d * i,
        a * i - c * g,
        c * d - a * f,
        d * h - e * g,
        b * g - a * h,
        a * e - b * d,
    ];
    let det = a * co[0] + b * co[3] + c * co[6];
    if !det.is_finite() || det.abs() < 1e-12 {
        return None;
    }
    Some(co.map(|v| v / det))
}

/// `m` applied to the point `(x, y)`.
pub fn mat_apply(m: &Matrix, x: f64, y: f64) -> (f64, f64) {
    let d = m[6] * x + m[7] * y + m[8];
    let d = if d.abs() < 1e-12 { 1e-12 } else { d };
    (
        (m[0] * x + m[1] * y + m[2]) / d,
        (m[3] * x + m[4] * y + m[5]) / d,
    )
}

/// The homography that maps each point of `from` to the point of `to` at
/// the same position (the unique one for four points in general position),
/// by Gaussian elimination with partial pivoting on the usual 8 x 8 system
/// (`h33 = 1`); `None` when the points are degenerate.
pub fn homography(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Option<Matrix> {
    let mut a = [[0.0f64; 9]; 8];
    for (i, (&(x, y), &(u, v))) in from.iter().zip(to.iter()).enumerate() {
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for c in 0..8 {
        let p = (c..8).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-9 {
            return None;
        }
        a.swap(c, p);
        let pivot = a[c];
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot[c];
                for (x, p) in row.iter_mut().zip(pivot.iter()).skip(c) {
                    *x -= f * p;
                }
            }
        }
    }
    let h: Vec<f64> = (0..8).map(|i| a[i][8] / a[i][i]).collect();
    let m = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0];
    m.iter().all(|v| v.is_finite()).then_some(m)
}

/// How prepared pixels relate to the decoded image's: one homography
/// (`forward`, decoded to prepared pixel coordinates) composed of every
/// geometric step in turn: the perspective correction, the scaling, the
/// rotation. Its inverse takes OCR boxes back. Points are in pixel edge
/// coordinates: pixel (i, j) covers [i, i + 1) x [j, j + 1), as an OCR box
/// `(left, top, width, height)` does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    /// Decoded-image pixels to prepared-image pixels.
    pub forward: Matrix,
    /// Prepared-image pixels to decoded-image pixels (the inverse).
    pub inverse: Matrix,
    /// Size of the decoded image.
    pub original: (u32, u32),
}

impl Transform {
    /// The identity on an image of `w` x `h`.
    pub fn identity(w: u32, h: u32) -> Transform {
        Transform {
            forward: IDENTITY,
            inverse: IDENTITY,
            original: (w, h),
        }
    }

    /// This transform followed by `m` (an invertible map of the prepared
    /// image); unchanged when `m` is singular.
    pub fn then(&mut self, m: &Matrix) {
        if let Some(inv) = mat_inv(m) {
            self.forward = mat_mul(m, &self.forward);
            self.inverse = mat_mul(&self.inverse, &inv);
        }
    }

    /// A point of the prepared image in decoded-image pixels.
    pub fn point_to_original(&self, x: f32, y: f32) -> (f32, f32) {
        let (px, py) = mat_apply(&self.inverse, f64::from(x), f64::from(y));
        (px as f32, py as f32)
    }

    /// The box `(left, top, width, height)` of the prepared image as a box
    /// of the decoded image: the bounding box of its four corners mapped
    /// back, clamped to the image.
    pub fn to_original(&self, left: u32, top: u32, width: u32, height: u32) -> [u32; 4] {
        let (l, t) = (left as f32, top as f32);
        let (r, b) = (l + width as f32, t + height as f32);
        let corners = [(l, t), (r, t), (l, b), (r, b)].map(|(x, y)| self.point_to_original(x, y));
        let min_x = corners.iter().map(|c| c.0).fold(f32::INFINITY, f32::min);
        let max_x = corners
            .iter()
            .map(|c| c.0)
            .fold(f32::NEG_INFINITY, f32::max);
        let min_y = corners.iter().map(|c| c.1).fold(f32::INFINITY, f32::min);
        let max_y = corners
            .iter()
            .map(|c| c.1)
            .fold(f32::NEG_INFINITY, f32::max);
        let (w, h) = (self.original.0 as f32, self.original.1 as f32);
        let x0 = min_x.round().clamp(0.0, w);
        let y0 = min_y.round().clamp(0.0, h);
        let x1 = max_x.round().clamp(x0, w);
        let y1 = max_y.round().clamp(y0, h);
        [x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32]
    }
}

/// A prepared image and what was done to it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The image for OCR.
    pub image: GrayImage,
    /// The way back to decoded pixels.
    pub transform: Transform,
    /// Whether the page was read as dark mode (and inverted).
    pub dark: bool,
    /// The measured x-height in decoded pixels, if there was ink to measure.
    pub x_height: Option<f32>,
    /// The upscaling factor used.
    pub scale: u32,
    /// The rotation corrected, degrees (positive: the lines fell to the right).
    pub deskew_deg: f32,
    /// The screen's corners (top left, top right, bottom right, bottom left)
    /// when the perspective was corrected.
    pub screen: Option<[(f32, f32); 4]>,
}

/// Prepare a decoded grey image with `steps`; `extra_scale` multiplies the
/// chosen upscaling (a second pass tries a larger one).
pub fn prepare(grey: &GrayImage, steps: Steps, extra_scale: u32) -> Prepared {
    let (w0, h0) = grey.dimensions();
    let mut transform = Transform::identity(w0, h0);
    let mut img = grey.clone();
    stretch_contrast(&mut img);
    let mut screen = None;
    if steps.perspective {
        if let Some(quad) = find_screen(&img) {
            if let Some((warped, m)) = unwarp(&img, quad) {
                img = warped;
                transform.then(&m);
                screen = Some(quad.map(|(x, y)| (x as f32, y as f32)));
            }
        }
    }
    let (w, h) = img.dimensions();
    let dark = steps.invert && median(&img) < DARK_MEDIAN;
    if dark {
        imageops::invert(&mut img);
    }
    let x_height = measure_x_height(&img);
    let mut scale = if steps.upscale {
        x_height.map_or(1, scale_for)
    } else {
        1
    };
    scale = (scale * extra_scale.max(1)).min(MAX_SCALE);
    while scale > 1 && u64::from(w * scale) * u64::from(h * scale) > MAX_PREPARED_PIXELS {
        scale -= 1;
    }
    if scale > 1 {
        let (big, m) = upscale(&img, scale);
        img = big;
        transform.then(&m);
    }
    if steps.binarize {
        let window = x_height.map_or(31, |xh| ((xh * scale as f32 * 4.0) as u32) | 1);
        img = sauvola(&img, window.clamp(15, 255));
    }
    let mut deskew_deg = 0.0;
    if steps.deskew {
        let skew = estimate_skew(&img);
        if skew.abs() >= MIN_SKEW_DEG.to_radians() {
            let (rotated, m) = rotate(&img, -skew);
            img = rotated;
            transform.then(&m);
            deskew_deg = skew.to_degrees();
        }
    }
    Prepared {
        image: img,
        transform,
        dark,
        x_height,
        scale,
        deskew_deg,
        screen,
    }
}

/// `img` enlarged `scale` times ([`UPSCALE_FILTER`]) and the map of that
/// (pixel edges: a plain scaling).
fn upscale(img: &GrayImage, scale: u32) -> (GrayImage, Matrix) {
    let (w, h) = img.dimensions();
    let big = imageops::resize(img, w * scale, h * scale, UPSCALE_FILTER);
    let s = f64::from(scale);
    (big, [s, 0.0, 0.0, 0.0, s, 0.0, 0.0, 0.0, 1.0])
}

/// `img` rotated by `theta` radians about its centre (imageproc's
/// `rotate_about_center`, white where nothing maps) and the map of that.
fn rotate(img: &GrayImage, theta: f32) -> (GrayImage, Matrix) {
    let out = rotate_about_center(
        img,
        theta,
        Interpolation::Bilinear,
        Border::Constant(Luma([255])),
    );
    // imageproc's convention: q = c + R(theta) (p - c), c = (w / 2, h / 2)
    // with pixel centres at integer points; in pixel edges the centre is
    // c + 1/2.
    let (s, c) = (f64::from(theta).sin(), f64::from(theta).cos());
    let cx = f64::from(img.width()) / 2.0 + 0.5;
    let cy = f64::from(img.height()) / 2.0 + 0.5;
    let m = [
        c,
        -s,
        cx - c * cx + s * cy,
        s,
        c,
        cy - s * cx - c * cy,
        0.0,
        0.0,
        1.0,
    ];
    (out, m)
}

/// The integer factor (1 to [`MAX_SCALE`]) that brings `x_height` closest
/// to [`TARGET_X_HEIGHT`].
pub fn scale_for(x_height: f32) -> u32 {
    if x_height.is_nan() || x_height <= 0.0 {
        return 1;
    }
    ((TARGET_X_HEIGHT / x_height).round() as u32).clamp(1, MAX_SCALE)
}

/// A least-squares line `v = a u + b` through `pts` (u, v), refitted once
/// without the points more than 2 px off; `None` with fewer than 8 points.
fn fit_line(pts: &[(f64, f64)]) -> Option<(f64, f64)> {
    let fit = |p: &[(f64, f64)]| -> Option<(f64, f64)> {
        let n = p.len() as f64;
        if p.len() < 8 {
            return None;
        }
        let (su, sv) = p.iter().fold((0.0, 0.0), |a, q| (a.0 + q.0, a.1 + q.1));
        let (mu, mv) = (su / n, sv / n);
        let (mut suu, mut suv) = (0.0, 0.0);
        for &(u, v) in p {
            suu += (u - mu) * (u - mu);
            suv += (u - mu) * (v - mv);
        }
        if suu < 1e-9 {
            return None;
        }
        let a = suv / suu;
        Some((a, mv - a * mu))
    };
    let (a, b) = fit(pts)?;
    let kept: Vec<(f64, f64)> = pts
        .iter()
        .copied()
        .filter(|&(u, v)| (v - (a * u + b)).abs() <= 2.0)
        .collect();
    fit(&kept).or(Some((a, b)))
}

/// The corners (top left, top right, bottom right, bottom left) of a
/// photographed screen: the largest bright region (over a threshold
/// halfway between the dark surround and Otsu's level, so that a screen's
/// darker corners stay in), when it lies wholly inside the image, covers
/// at least `MIN_SCREEN_SHARE` of it, fills its quadrilateral and has
/// nearly right angles. Each side is a line fitted to the region's outline
/// between the extreme points along the diagonals; the corners are where
/// the sides meet. `None` for a screenshot (the page reaches the border)
/// or a dark screen.
pub fn find_screen(img: &GrayImage) -> Option<[(f64, f64); 4]> {
    let (w, h) = img.dimensions();
    if w < 64 || h < 64 {
        return None;
    }
    let total = u64::from(w) * u64::from(h);
    let low = percentile(&histogram(img), total, 0.05);
    let level = otsu_level(img);
    let cut = low / 2 + level / 2;
    let mask = GrayImage::from_fn(w, h, |x, y| {
        Luma([u8::from(img.get_pixel(x, y).0[0] > cut)])
    });
    let labels = connected_components(&mask, Connectivity::Four, Luma([0u8]));
    let mut counts: Vec<u64> = Vec::new();
    for l in labels.pixels() {
        let l = l.0[0] as usize;
        if l == 0 {
            continue;
        }
        if counts.len() < l {
            counts.resize(l, 0);
        }
        counts[l - 1] += 1;
    }
    let (best, &area) = counts.iter().enumerate().max_by_key(|(_, &c)| c)?;
    if (area as f64) < MIN_SCREEN_SHARE * total as f64 {
        return None;
    }
    let label = best as u32 + 1;
    // Per row the leftmost and rightmost pixel, per column the top and bottom.
    let mut rows = vec![(u32::MAX, 0u32); h as usize];
    let mut cols = vec![(u32::MAX, 0u32); w as usize];
    for (x, y, l) in labels.enumerate_pixels() {
        if l.0[0] != label {
            continue;
        }
        if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
            return None;
        }
        let r = &mut rows[y as usize];
        *r = (r.0.min(x), r.1.max(x));
        let c = &mut cols[x as usize];
        *c = (c.0.min(y), c.1.max(y));
    }
    let mut ext = [(0.0f64, 0.0f64, f64::INFINITY); 4];
    for (y, &(x0, x1)) in rows.iter().enumerate() {
        if x0 == u32::MAX {
            continue;
        }
        let y = y as f64;
        for x in [f64::from(x0), f64::from(x1)] {
            // top left: min x + y; top right: min y - x; bottom right:
            // min -(x + y); bottom left: min x - y.
            for (i, key) in [x + y, y - x, -(x + y), x - y].into_iter().enumerate() {
                if key < ext[i].2 {
                    ext[i] = (x, y, key);
                }
            }
        }
    }
    let [tl, tr, br, bl] = ext.map(|e| (e.0, e.1));
    // The middle 80% of each side.
    let inner = |a: f64, b: f64| {
        let (lo, hi) = (a.min(b), a.max(b));
        let m = (hi - lo) * 0.1;
        ((lo + m).ceil() as usize, (hi - m).floor() as usize)
    };
    let side_cols = |a: f64, b: f64, top: bool| -> Vec<(f64, f64)> {
        let (from, to) = inner(a, b);
        (from..=to.min(w as usize - 1))
            .filter(|&x| cols[x].0 != u32::MAX)
            .map(|x| {
                let y = if top { cols[x].0 } else { cols[x].1 + 1 };
                (x as f64 + 0.5, f64::from(y))
            })
            .collect()
    };
    let side_rows = |a: f64, b: f64, left: bool| -> Vec<(f64, f64)> {
        let (from, to) = inner(a, b);
        (from..=to.min(h as usize - 1))
            .filter(|&y| rows[y].0 != u32::MAX)
            .map(|y| {
                let x = if left { rows[y].0 } else { rows[y].1 + 1 };
                (y as f64 + 0.5, f64::from(x))
            })
            .collect()
    };
    // y = a x + b for top and bottom, x = a y + b for left and right.
    let top = fit_line(&side_cols(tl.0, tr.0, true))?;
    let bottom = fit_line(&side_cols(bl.0, br.0, false))?;
    let left = fit_line(&side_rows(tl.1, bl.1, true))?;
    let right = fit_line(&side_rows(tr.1, br.1, false))?;
    // Coordinates are of pixel edges (pixel (i, j) covers [i, i + 1) x
    // [j, j + 1)): the outline points above are the region's outer edges.
    let meet = |hz: (f64, f64), vt: (f64, f64)| -> (f64, f64) {
        // y = a x + b, x = c y + d  =>  y = a (c y + d) + b
        let y = (hz.0 * vt.1 + hz.1) / (1.0 - hz.0 * vt.0);
        (vt.0 * y + vt.1, y)
    };
    let q = [
        meet(top, left),
        meet(top, right),
        meet(bottom, right),
        meet(bottom, left),
    ];
    if q.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) {
        return None;
    }
    // Shoelace area and the corner angles.
    let quad_area = (0..4)
        .map(|i| {
            let (a, b) = (q[i], q[(i + 1) % 4]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum::<f64>()
        / 2.0;
    if quad_area <= 0.0 || (area as f64) < MIN_SCREEN_FILL * quad_area {
        return None;
    }
    for i in 0..4 {
        let (p, a, b) = (q[i], q[(i + 3) % 4], q[(i + 1) % 4]);
        let (u, v) = ((a.0 - p.0, a.1 - p.1), (b.0 - p.0, b.1 - p.1));
        let cos = (u.0 * v.0 + u.1 * v.1) / (u.0.hypot(u.1) * v.0.hypot(v.1));
        if (cos.acos().to_degrees() - 90.0).abs() > MAX_CORNER_DEVIATION_DEG {
            return None;
        }
    }
    Some(q)
}

/// `img` with the quadrilateral `quad` (top left, top right, bottom right,
/// bottom left) warped onto an upright rectangle as wide as its longer
/// horizontal side and as high as its longer vertical side, with
/// [`SCREEN_MARGIN`] pixels of the photo around it, and the homography used
/// (decoded to warped pixels).
fn unwarp(img: &GrayImage, quad: [(f64, f64); 4]) -> Option<(GrayImage, Matrix)> {
    let d = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
    let [tl, tr, br, bl] = quad;
    let ow = d(tl, tr).max(d(bl, br)).round();
    let oh = d(tl, bl).max(d(tr, br)).round();
    if ow < 16.0 || oh < 16.0 || ow * oh > 4.0 * f64::from(img.width()) * f64::from(img.height()) {
        return None;
    }
    let mg = SCREEN_MARGIN;
    let m = homography(
        quad,
        [(mg, mg), (ow + mg, mg), (ow + mg, oh + mg), (mg, oh + mg)],
    )?;
    // imageproc samples pixel (i, j) at the point (i, j), its centre: the
    // same map in that convention is T(-1/2) m T(1/2).
    let half = |d: f64| [1.0, 0.0, d, 0.0, 1.0, d, 0.0, 0.0, 1.0];
    let centred = mat_mul(&half(-0.5), &mat_mul(&m, &half(0.5)));
    let p = Projection::from_matrix(centred.map(|v| v as f32))?;
    let mut out = GrayImage::new((ow + 2.0 * mg) as u32, (oh + 2.0 * mg) as u32);
    warp_into(img, p, Interpolation::Bicubic, Border::Replicate, &mut out);
    Some((out, m))
}

fn histogram(img: &GrayImage) -> [u64; 256] {
    let mut hist = [0u64; 256];
    for p in img.pixels() {
        hist[usize::from(p.0[0])] += 1;
    }
    hist
}

/// The luminance below which `q` of the pixels lie (0 <= q <= 1).
fn percentile(hist: &[u64; 256], total: u64, q: f64) -> u8 {
    let want = ((total as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (v, &n) in hist.iter().enumerate() {
        seen += n;
        if seen >= want {
            return v as u8;
        }
    }
    255
}

fn median(img: &GrayImage) -> u8 {
    let total = u64::from(img.width()) * u64::from(img.height());
    percentile(&histogram(img), total, 0.5)
}

/// Stretch the 1st..99th percentiles to 0..255.
fn stretch_contrast(img: &mut GrayImage) {
    let total = u64::from(img.width()) * u64::from(img.height());
    let hist = histogram(img);
    let lo = percentile(&hist, total, 0.01);
    let hi = percentile(&hist, total, 0.99);
    if hi <= lo.saturating_add(8) || (lo == 0 && hi == 255) {
        return;
    }
    let (lo, span) = (f32::from(lo), f32::from(hi - lo));
    for p in img.pixels_mut() {
        p.0[0] = ((f32::from(p.0[0]) - lo) * 255.0 / span)
            .round()
            .clamp(0.0, 255.0) as u8;
    }
}

/// A word box must span at least this many grey levels between its
/// darkest and lightest pixel to be tightened by [`tighten_to_ink`].
pub const MIN_INK_CONTRAST: u8 = 40;

/// The box `(left, top, width, height)` of `img` shrunk to the bounding box
/// of its ink: the pixels at or below Otsu's level of the box's own pixels
/// (dark text; the pipeline inverts dark pages). Tesseract's word boxes on
/// upscaled blurry text (thumbnails: JPEG, then 3-4x Lanczos) reach one to
/// three original pixels beyond the letters above and below; the ink box
/// is what a word's box means (docs/SCREENSHOTS.md, round 3). The box is
/// clamped to the image first; it is returned unchanged (clamped) when it
/// is empty, has less than [`MIN_INK_CONTRAST`] of contrast, or no ink.
/// The result always lies inside the clamped box.
pub fn tighten_to_ink(img: &GrayImage, left: u32, top: u32, width: u32, height: u32) -> [u32; 4] {
    let (iw, ih) = img.dimensions();
    let (x0, y0) = (left.min(iw), top.min(ih));
    let (x1, y1) = (
        left.saturating_add(width).min(iw),
        top.saturating_add(height).min(ih),
    );
    let clamped = [x0, y0, x1 - x0, y1 - y0];
    if x1 <= x0 || y1 <= y0 {
        return clamped;
    }
    let sub = imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
    let (lo, hi) = sub.pixels().fold((u8::MAX, u8::MIN), |(lo, hi), p| {
        (lo.min(p.0[0]), hi.max(p.0[0]))
    });
    if hi.saturating_sub(lo) < MIN_INK_CONTRAST {
        return clamped;
    }
    let level = otsu_level(&sub);
    let (mut rx0, mut ry0, mut rx1, mut ry1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in sub.enumerate_pixels() {
        if p.0[0] <= level {
            rx0 = rx0.min(x);
            ry0 = ry0.min(y);
            rx1 = rx1.max(x + 1);
            ry1 = ry1.max(y + 1);
        }
    }
    if rx1 <= rx0 || ry1 <= ry0 {
        return clamped;
    }
    [x0 + rx0, y0 + ry0, rx1 - rx0, ry1 - ry0]
}

/// Ink (dark) pixels by Otsu's global threshold (at or below the level,
/// imageproc's convention); none on a page of one value.
fn ink_mask(img: &GrayImage) -> GrayImage {
    let level = otsu_level(img);
    let max = img.pixels().map(|p| p.0[0]).max().unwrap_or(0);
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let v = img.get_pixel(x, y).0[0];
        Luma([u8::from(v <= level && v < max)])
    })
}

/// The median height of the ink's connected components that look like
/// letters, or `None` without any.
pub fn measure_x_height(img: &GrayImage) -> Option<f32> {
    let mask = ink_mask(img);
    let labels = connected_components(&mask, Connectivity::Eight, Luma([0u8]));
    // (min_y, max_y, min_x, max_x, pixels) per label
    let mut comps: Vec<[u32; 5]> = Vec::new();
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l.0[0] as usize;
        if l == 0 {
            continue;
        }
        if comps.len() < l {
            comps.resize(l, [u32::MAX, 0, u32::MAX, 0, 0]);
        }
        let c = &mut comps[l - 1];
        c[0] = c[0].min(y);
        c[1] = c[1].max(y);
        c[2] = c[2].min(x);
        c[3] = c[3].max(x);
        c[4] += 1;
    }
    let max_h = (img.height() / 3).max(3);
    let mut heights: Vec<u32> = comps
        .iter()
        .filter(|c| c[4] >= 2)
        .map(|c| (c[1] - c[0] + 1, c[3] - c[2] + 1))
        .filter(|&(h, w)| h >= 2 && h <= max_h && w <= h.saturating_mul(3))
        .map(|(h, _)| h)
        .collect();
    if heights.len() < 5 {
        return None;
    }
    let mid = heights.len() / 2;
    let (_, m, _) = heights.select_nth_unstable(mid);
    Some(*m as f32)
}

/// Sauvola's threshold over a `window` x `window` neighbourhood (odd),
/// with integral images of the values and their squares.
pub fn sauvola(img: &GrayImage, window: u32) -> GrayImage {
    let (w, h) = img.dimensions();
    let (wu, hu) = (w as usize, h as usize);
    let stride = wu + 1;
    let mut sum = vec![0u64; stride * (hu + 1)];
    let mut sq = vec![0u64; stride * (hu + 1)];
    for y in 0..hu {
        let (mut row, mut row_sq) = (0u64, 0u64);
        for x in 0..wu {
            let v = u64::from(img.get_pixel(x as u32, y as u32).0[0]);
            row += v;
            row_sq += v * v;
            sum[(y + 1) * stride + x + 1] = sum[y * stride + x + 1] + row;
            sq[(y + 1) * stride + x + 1] = sq[y * stride + x + 1] + row_sq;
        }
    }
    let r = (window / 2) as usize;
    GrayImage::from_fn(w, h, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
        let (x1, y1) = ((x + r + 1).min(wu), (y + r + 1).min(hu));
        let area = ((x1 - x0) * (y1 - y0)) as f64;
        let rect = |t: &[u64]| {
            (t[y1 * stride + x1] + t[y0 * stride + x0] - t[y0 * stride + x1] - t[y1 * stride + x0])
                as f64
        };
        let mean = rect(&sum) / area;
        let var = (rect(&sq) / area - mean * mean).max(0.0);
        let t = sauvola_threshold(mean, var.sqrt());
        Luma([if f64::from(img.get_pixel(x as u32, y as u32).0[0]) > t {
            255
        } else {
            0
        }])
    })
}

fn sauvola_threshold(mean: f64, sd: f64) -> f64 {
    mean * (1.0 + SAUVOLA_K * (sd / SAUVOLA_R - 1.0))
}

/// The skew of the text lines in radians (positive: lines fall to the
/// right), by the projection-profile search; 0 without enough ink.
pub fn estimate_skew(img: &GrayImage) -> f32 {
    let mask = ink_mask(img);
    let ink: Vec<(f32, f32)> = mask
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] == 1)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect();
    if ink.len() < 50 || ink.len() * 2 > (img.width() * img.height()) as usize {
        return 0.0;
    }
    let step = ink.len().div_ceil(SKEW_SAMPLES);
    let pts: Vec<(f32, f32)> = ink.into_iter().step_by(step).collect();
    let diag = (img.width() as f32).hypot(img.height() as f32);
    let score = |deg: f32| -> f64 {
        let (s, c) = deg.to_radians().sin_cos();
        let n = 2 * diag as usize + 3;
        let mut bins = vec![0u32; n];
        for &(x, y) in &pts {
            let yy = y * c - x * s + diag;
            bins[(yy.max(0.0) as usize).min(n - 1)] += 1;
        }
        bins.iter().map(|&b| f64::from(b) * f64::from(b)).sum()
    };
    let best_in = |from: f32, to: f32, by: f32| -> f32 {
        let n = ((to - from) / by).round() as i32;
        (0..=n)
            .map(|i| from + i as f32 * by)
            .map(|a| (a, score(a)))
            .fold((0.0, f64::MIN), |b, x| if x.1 > b.1 { x } else { b })
            .0
    };
    let coarse = best_in(-MAX_SKEW_DEG, MAX_SKEW_DEG, 0.5);
    // Ties between the coarse neighbours favour no rotation.
    let fine = best_in(coarse - 0.5, coarse + 0.5, 0.1);
    if score(fine) <= score(0.0) {
        return 0.0;
    }
    fine.to_radians()
}

#[cfg(test)]
mod tests;
