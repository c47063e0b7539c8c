//! Preprocessing of a screenshot before OCR, and the way back to its pixels.
//!
//! The steps, each switchable ([`Steps`]) so that each can be measured on the
//! screenshot benchmark (`docs/SCREENSHOTS.md`):
//!
//! 1. **Grey and contrast**: the image arrives grey ([`super::decode`]); its
//!    histogram is stretched so that the 1st and 99th percentiles span
//!    0..255 (dim grey text on a dark background gets the contrast of
//!    black on white). Always on.
//! 2. **Dark mode** (`invert`): a page whose median luminance is below
//!    [`DARK_MEDIAN`] is light text on dark ground; it is inverted, since
//!    tesseract's LSTM models are trained on dark text.
//! 3. **Upscaling** (`upscale`): the x-height is measured as the median
//!    height of the ink's connected components (most lowercase letters have
//!    no ascender or descender, so the median is the x-height), and the
//!    image is enlarged by an integer factor of 2 to 4 (Catmull-Rom) when that
//!    brings the x-height closer to [`TARGET_X_HEIGHT`] pixels (tesseract's
//!    usual advice). Measured on the tuning half of the screenshot benchmark
//!    (`docs/SCREENSHOTS.md`), upscaling in the first pass loses small text
//!    and angled photos that the unscaled image gives (with 20 px and with a
//!    12 px target), while thumbnails need it: so by default only the
//!    second pass upscales ([`Steps::DEFAULT`]).
//! 4. **Binarization** (`binarize`): Sauvola's local threshold (Sauvola and
//!    Pietikäinen, "Adaptive document image binarization", Pattern
//!    Recognition 33, 2000): `T = m * (1 + k * (s / R - 1))` over a window of
//!    about four x-heights, computed with integral images (Viola and Jones
//!    2001). Global Otsu (imageproc's `otsu_level`) decides the ink for the
//!    measurements above.
//! 5. **Deskew** (`deskew`): the angle whose projection profile of ink rows
//!    has the largest sum of squares (Postl's method; Hull, "Document image
//!    skew detection: survey and annotated bibliography", 1998) is searched in
//!    +-[`MAX_SKEW_DEG`] degrees, and the image rotated back when it exceeds
//!    [`MIN_SKEW_DEG`].
//!
//! Invariant: [`Transform::to_original`] maps a box of the prepared image to
//! the box of the same content in the decoded image (clamped to it): the
//! inverse of the rotation about the centre, then of the scaling.

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use imageproc::contrast::otsu_level;
use imageproc::geometric_transformations::{rotate_about_center, Border, Interpolation};
use imageproc::region_labelling::{connected_components, Connectivity};

/// A page whose median luminance is below this is read as dark mode.
pub const DARK_MEDIAN: u8 = 110;
/// The x-height (pixels) upscaling aims at.
pub const TARGET_X_HEIGHT: f32 = 20.0;
/// Largest upscaling factor.
pub const MAX_SCALE: u32 = 4;
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
    /// Correct small rotations.
    pub deskew: bool,
    /// A second OCR pass with another variant when confidence is low.
    pub retry: bool,
}

impl Steps {
    /// The default, chosen on the tuning half of the screenshot benchmark
    /// (`docs/SCREENSHOTS.md`): the first pass inverts dark pages and
    /// deskews; the second pass (`retry`), run when the first one's mean
    /// word confidence is low, binarizes and upscales.
    pub const DEFAULT: Steps = Steps {
        invert: true,
        upscale: false,
        binarize: false,
        deskew: true,
        retry: true,
    };
    /// No optional step: grey and contrast only.
    pub const NONE: Steps = Steps {
        invert: false,
        upscale: false,
        binarize: false,
        deskew: false,
        retry: false,
    };
    /// The names accepted by [`Steps::parse`].
    pub const NAMES: [&'static str; 5] = ["invert", "upscale", "binarize", "deskew", "retry"];

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

/// How prepared pixels relate to the decoded image's: scaled by `scale`,
/// then rotated by `theta` radians about `center` (imageproc's convention:
/// `q = c + R(theta) (p - c)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    /// Upscaling factor.
    pub scale: f32,
    /// Rotation applied after scaling, radians.
    pub theta: f32,
    /// Centre of the rotation, in scaled pixels.
    pub center: (f32, f32),
    /// Size of the decoded image.
    pub original: (u32, u32),
}

impl Transform {
    /// The identity on an image of `w` x `h`.
    pub fn identity(w: u32, h: u32) -> Transform {
        Transform {
            scale: 1.0,
            theta: 0.0,
            center: (w as f32 / 2.0, h as f32 / 2.0),
            original: (w, h),
        }
    }

    /// A point of the prepared image in decoded-image pixels.
    pub fn point_to_original(&self, x: f32, y: f32) -> (f32, f32) {
        let (s, c) = (-self.theta).sin_cos();
        let (dx, dy) = (x - self.center.0, y - self.center.1);
        let px = self.center.0 + c * dx - s * dy;
        let py = self.center.1 + s * dx + c * dy;
        (px / self.scale, py / self.scale)
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
}

/// Prepare a decoded grey image with `steps`; `extra_scale` multiplies the
/// chosen upscaling (a second pass tries a larger one).
pub fn prepare(grey: &GrayImage, steps: Steps, extra_scale: u32) -> Prepared {
    let (w, h) = grey.dimensions();
    let mut img = grey.clone();
    stretch_contrast(&mut img);
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
        img = imageops::resize(&img, w * scale, h * scale, FilterType::CatmullRom);
    }
    let mut transform = Transform {
        scale: scale as f32,
        theta: 0.0,
        center: ((w * scale) as f32 / 2.0, (h * scale) as f32 / 2.0),
        original: (w, h),
    };
    if steps.binarize {
        let window = x_height.map_or(31, |xh| ((xh * scale as f32 * 4.0) as u32) | 1);
        img = sauvola(&img, window.clamp(15, 255));
    }
    if steps.deskew {
        let skew = estimate_skew(&img);
        if skew.abs() >= MIN_SKEW_DEG.to_radians() {
            transform.theta = -skew;
            img = rotate_about_center(
                &img,
                transform.theta,
                Interpolation::Bilinear,
                Border::Constant(Luma([255])),
            );
        }
    }
    Prepared {
        image: img,
        transform,
        dark,
        x_height,
    }
}

/// The integer factor (1 to [`MAX_SCALE`]) that brings `x_height` closest
/// to [`TARGET_X_HEIGHT`].
pub fn scale_for(x_height: f32) -> u32 {
    if x_height.is_nan() || x_height <= 0.0 {
        return 1;
    }
    ((TARGET_X_HEIGHT / x_height).round() as u32).clamp(1, MAX_SCALE)
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
