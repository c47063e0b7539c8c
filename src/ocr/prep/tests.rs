//! Tests of the preprocessing: naive oracles for Sauvola and the skew
//! search, the way back to original pixels, the step list.

use super::*;
use proptest::prelude::*;

/// Sauvola computed per pixel from its window, without integral images.
fn sauvola_naive(img: &GrayImage, window: u32) -> GrayImage {
    let (w, h) = img.dimensions();
    let r = window / 2;
    GrayImage::from_fn(w, h, |x, y| {
        let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
        let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
        let mut vals = Vec::new();
        for yy in y0..y1 {
            for xx in x0..x1 {
                vals.push(f64::from(img.get_pixel(xx, yy).0[0]));
            }
        }
        let n = vals.len() as f64;
        let mean = vals.iter().sum::<f64>() / n;
        let var = (vals.iter().map(|v| v * v).sum::<f64>() / n - mean * mean).max(0.0);
        let t = sauvola_threshold(mean, var.sqrt());
        Luma([if f64::from(img.get_pixel(x, y).0[0]) > t {
            255
        } else {
            0
        }])
    })
}

proptest! {
    #[test]
    fn sauvola_matches_the_naive_oracle(
        w in 1u32..24, h in 1u32..24, seed in any::<u64>(), win in 0u32..6,
    ) {
        let mut s = seed | 1;
        let img = GrayImage::from_fn(w, h, |_, _| {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            Luma([(s % 256) as u8])
        });
        let window = win * 2 + 1;
        prop_assert_eq!(sauvola(&img, window), sauvola_naive(&img, window));
    }

    #[test]
    fn boxes_map_back_through_scale_and_rotation(
        scale in 1u32..=4, deg in -8.0f32..8.0, x in 0u32..300, y in 0u32..200,
    ) {
        // A point scaled and rotated forward (imageproc's convention) must
        // come back where it was.
        let (w, h) = (320u32, 220u32);
        let t = Transform {
            scale: scale as f32,
            theta: deg.to_radians(),
            center: ((w * scale) as f32 / 2.0, (h * scale) as f32 / 2.0),
            original: (w, h),
        };
        let (sx, sy) = (x as f32 * t.scale, y as f32 * t.scale);
        let (dx, dy) = (sx - t.center.0, sy - t.center.1);
        let (s, c) = t.theta.sin_cos();
        let q = (t.center.0 + c * dx - s * dy, t.center.1 + s * dx + c * dy);
        let back = t.point_to_original(q.0, q.1);
        prop_assert!((back.0 - x as f32).abs() < 0.01 && (back.1 - y as f32).abs() < 0.01);
        let b = t.to_original(q.0.max(0.0) as u32, q.1.max(0.0) as u32, 3, 3);
        prop_assert!(b[0] + b[2] <= w && b[1] + b[3] <= h);
    }
}

#[test]
fn the_rotation_convention_is_imageprocs() {
    // A dot at (150, 40) in a 200 x 100 image, rotated by imageproc, is
    // mapped back by the transform.
    let mut img = GrayImage::from_pixel(200, 100, Luma([255]));
    for dy in 0..3 {
        for dx in 0..3 {
            img.put_pixel(149 + dx, 39 + dy, Luma([0]));
        }
    }
    let theta = 5f32.to_radians();
    let rot = rotate_about_center(
        &img,
        theta,
        Interpolation::Nearest,
        Border::Constant(Luma([255])),
    );
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (x, y, p) in rot.enumerate_pixels() {
        if p.0[0] < 128 {
            sx += x as f32 + 0.5;
            sy += y as f32 + 0.5;
            n += 1.0;
        }
    }
    let t = Transform {
        scale: 1.0,
        theta,
        center: (100.0, 50.0),
        original: (200, 100),
    };
    let (x, y) = t.point_to_original(sx / n, sy / n);
    assert!(
        (x - 150.5).abs() < 1.0 && (y - 40.5).abs() < 1.0,
        "({x}, {y})"
    );
}

/// Lines of dashes, rotated by `deg`.
fn lines_at(deg: f32) -> GrayImage {
    let mut img = GrayImage::from_pixel(400, 300, Luma([255]));
    for row in 0..8 {
        for x in 40..360 {
            if (x / 9) % 3 == 2 {
                continue;
            }
            for t in 0..4 {
                img.put_pixel(x, 40 + row * 28 + t, Luma([0]));
            }
        }
    }
    rotate_about_center(
        &img,
        deg.to_radians(),
        Interpolation::Bilinear,
        Border::Constant(Luma([255])),
    )
}

#[test]
fn skew_is_found_and_undone() {
    for deg in [-6.0f32, -2.5, 1.2, 4.0] {
        let est = estimate_skew(&lines_at(deg)).to_degrees();
        assert!((est - deg).abs() <= 0.3, "rotated {deg}, estimated {est}");
    }
    assert_eq!(estimate_skew(&lines_at(0.0)), 0.0);
    // Nothing to measure on a blank page.
    assert_eq!(
        estimate_skew(&GrayImage::from_pixel(50, 50, Luma([255]))),
        0.0
    );
}

#[test]
fn x_height_of_lines_of_blobs() {
    // "Letters": 6 x 9 blobs in a row; the median height is 9.
    let mut img = GrayImage::from_pixel(300, 100, Luma([255]));
    for i in 0..30 {
        for y in 10..19 {
            for x in 0..6 {
                img.put_pixel(5 + i * 9 + x, y, Luma([0]));
            }
        }
    }
    assert_eq!(measure_x_height(&img), Some(9.0));
    assert_eq!(
        measure_x_height(&GrayImage::from_pixel(9, 9, Luma([255]))),
        None
    );
    // Oracle: the factor of 1..=MAX_SCALE whose result is nearest the target
    // (ties to the larger factor, as rounding does).
    for tenths in 5..400 {
        let xh = tenths as f32 / 10.0;
        let best = (1..=MAX_SCALE)
            .rev()
            .min_by(|a, b| {
                let da = (xh * *a as f32 - TARGET_X_HEIGHT).abs();
                let db = (xh * *b as f32 - TARGET_X_HEIGHT).abs();
                da.partial_cmp(&db).unwrap()
            })
            .unwrap();
        let got = scale_for(xh);
        let (dg, db) = (
            (xh * got as f32 - TARGET_X_HEIGHT).abs(),
            (xh * best as f32 - TARGET_X_HEIGHT).abs(),
        );
        assert!(dg <= db + 1e-3, "x-height {xh}: factor {got}, best {best}");
    }
    assert_eq!(scale_for(f32::NAN), 1);
    assert_eq!(scale_for(0.0), 1);
}

#[test]
fn dark_pages_are_inverted_light_ones_are_not() {
    let mut dark = GrayImage::from_pixel(60, 40, Luma([20]));
    for x in 10..50 {
        dark.put_pixel(x, 20, Luma([200]));
    }
    let p = prepare(&dark, Steps::DEFAULT, 1);
    assert!(p.dark);
    assert_eq!(p.image.get_pixel(0, 0).0[0], 255);
    let light = GrayImage::from_pixel(60, 40, Luma([230]));
    assert!(!prepare(&light, Steps::DEFAULT, 1).dark);
    assert!(!prepare(&dark, Steps::NONE, 1).dark);
}

#[test]
fn step_lists() {
    assert_eq!(Steps::parse("").unwrap(), Steps::NONE);
    assert_eq!(Steps::parse("none").unwrap(), Steps::NONE);
    assert_eq!(
        Steps::parse("invert, deskew,retry").unwrap(),
        Steps::DEFAULT
    );
    assert!(Steps::parse("invert,sharpen")
        .unwrap_err()
        .contains("sharpen"));
}
