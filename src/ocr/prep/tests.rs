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
    fn homographies_map_their_control_points(
        pts in proptest::array::uniform8((-400.0f64..400.0, -400.0f64..400.0)),
    ) {
        let from = [pts[0], pts[1], pts[2], pts[3]];
        let to = [pts[4], pts[5], pts[6], pts[7]];
        if let Some(m) = homography(from, to) {
            // A near-degenerate system is ill-conditioned; only a
            // well-conditioned one must be exact.
            if mat_inv(&m).is_some_and(|i| i.iter().all(|v| v.abs() < 1e3)) {
                for (f, t) in from.iter().zip(to) {
                    let (x, y) = mat_apply(&m, f.0, f.1);
                    let tol = 1e-4 * (1.0 + t.0.abs().max(t.1.abs()));
                    prop_assert!((x - t.0).abs() < tol && (y - t.1).abs() < tol, "{f:?} -> ({x}, {y}), want {t:?}");
                }
            }
        }
    }

    #[test]
    fn a_transform_and_its_inverse_compose_to_the_identity(
        scale in 1u32..=4, deg in -8.0f64..8.0, x in 0.0f64..300.0, y in 0.0f64..200.0,
        k in 0.0f64..60.0,
    ) {
        let mut t = Transform::identity(320, 220);
        let quad = [(k, 3.0), (320.0 - k, 0.0), (318.0, 220.0), (2.0, 215.0)];
        t.then(&homography(quad, [(0.0, 0.0), (300.0, 0.0), (300.0, 200.0), (0.0, 200.0)]).unwrap());
        let s = f64::from(scale);
        t.then(&[s, 0.0, 0.0, 0.0, s, 0.0, 0.0, 0.0, 1.0]);
        let (sn, cs) = deg.to_radians().sin_cos();
        t.then(&[cs, -sn, 10.0, sn, cs, -4.0, 0.0, 0.0, 1.0]);
        let (fx, fy) = mat_apply(&t.forward, x, y);
        let back = t.point_to_original(fx as f32, fy as f32);
        prop_assert!((f64::from(back.0) - x).abs() < 0.01 && (f64::from(back.1) - y).abs() < 0.01);
        let b = t.to_original(fx.max(0.0) as u32, fy.max(0.0) as u32, 3, 3);
        prop_assert!(b[0] + b[2] <= 320 && b[1] + b[3] <= 220);
    }
}

/// The centroid (pixel edges: a pixel's centre is at + 1/2) of the pixels
/// darker than 128, weighted by darkness.
fn dark_centroid(img: &GrayImage) -> (f64, f64) {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (x, y, p) in img.enumerate_pixels() {
        let wgt = f64::from(255 - p.0[0]);
        if p.0[0] < 128 {
            sx += (f64::from(x) + 0.5) * wgt;
            sy += (f64::from(y) + 0.5) * wgt;
            n += wgt;
        }
    }
    (sx / n, sy / n)
}

/// A white page with a dark 3 x 3 dot at `(x, y)`.
fn dot_at(w: u32, h: u32, x: u32, y: u32) -> GrayImage {
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    for dy in 0..3 {
        for dx in 0..3 {
            img.put_pixel(x + dx, y + dy, Luma([0]));
        }
    }
    img
}

#[test]
fn each_geometric_step_returns_the_map_it_applied() {
    // Oracle: the dot's centroid after the step, mapped back by the inverse
    // of the returned matrix, is where it was (the dot covers [149, 152),
    // its centre 150.5 in pixel edges).
    let img = dot_at(200, 100, 149, 39);
    let want = (150.5, 40.5);
    let check = |name: &str, out: &GrayImage, m: &Matrix| {
        let c = dark_centroid(out);
        let back = mat_apply(&mat_inv(m).unwrap(), c.0, c.1);
        assert!(
            (back.0 - want.0).abs() < 0.25 && (back.1 - want.1).abs() < 0.25,
            "{name}: back at {back:?}"
        );
    };
    for theta in [-6.0f32, 3.0, 5.0] {
        let (out, m) = rotate(&img, theta.to_radians());
        check(&format!("rotation {theta}"), &out, &m);
    }
    for scale in 2..=4 {
        let (out, m) = upscale(&img, scale);
        check(&format!("scale {scale}"), &out, &m);
    }
    let quad = [(12.0, 6.0), (190.0, 2.5), (196.0, 97.0), (3.0, 90.0)];
    let (out, m) = unwarp(&img, quad).unwrap();
    check("perspective", &out, &m);
}

/// A dark photo with a bright screen of corners `quad`, text-like dark
/// blobs on it.
fn screen_photo(quad: [(f64, f64); 4]) -> GrayImage {
    let (sw, sh) = (300.0, 200.0);
    let mut page = GrayImage::from_pixel(sw as u32, sh as u32, Luma([235]));
    for row in 0..6 {
        for i in 0..25 {
            for y in 0..8 {
                for x in 0..6 {
                    page.put_pixel(20 + i * 10 + x, 30 + row * 25 + y, Luma([30]));
                }
            }
        }
    }
    let m = homography([(0.0, 0.0), (sw, 0.0), (sw, sh), (0.0, sh)], quad).unwrap();
    let half = |d: f64| [1.0, 0.0, d, 0.0, 1.0, d, 0.0, 0.0, 1.0];
    let centred = mat_mul(&half(-0.5), &mat_mul(&m, &half(0.5)));
    let mut out = GrayImage::from_pixel(400, 300, Luma([25]));
    let p = Projection::from_matrix(centred.map(|v| v as f32)).unwrap();
    warp_into(
        &page,
        p,
        Interpolation::Bilinear,
        Border::Constant(Luma([25])),
        &mut out,
    );
    out
}

#[test]
fn a_photographed_screen_is_found_and_a_screenshot_is_not() {
    let quads = [
        [(60.0, 40.0), (340.0, 52.0), (350.0, 262.0), (42.0, 250.0)],
        [(80.0, 30.0), (320.0, 30.0), (370.0, 270.0), (30.0, 270.0)],
        [(50.0, 50.0), (350.0, 50.0), (350.0, 250.0), (50.0, 250.0)],
    ];
    for quad in quads {
        let found = find_screen(&screen_photo(quad)).expect("a screen");
        for (f, q) in found.iter().zip(quad) {
            assert!(
                (f.0 - q.0).abs() < 1.5 && (f.1 - q.1).abs() < 1.5,
                "{found:?} for {quad:?}"
            );
        }
    }
    // A page that fills the image, a dark page, a blank one.
    let mut page = GrayImage::from_pixel(300, 200, Luma([240]));
    for x in 20..280 {
        page.put_pixel(x, 50, Luma([10]));
    }
    assert_eq!(find_screen(&page), None);
    let mut dark = page.clone();
    imageops::invert(&mut dark);
    assert_eq!(find_screen(&dark), None);
    assert_eq!(
        find_screen(&GrayImage::from_pixel(300, 200, Luma([128]))),
        None
    );
}

/// The corrected screen keeps a margin of its surroundings: the frame's
/// dark pixels along every side, the screen inside, and the map returned
/// takes the screen's corner to where its pixels end.
#[test]
fn a_corrected_screen_keeps_a_margin_of_the_photo() {
    let quad = [(60.0, 40.0), (340.0, 52.0), (350.0, 262.0), (42.0, 250.0)];
    let photo = screen_photo(quad);
    let (out, m) = unwarp(&photo, quad).unwrap();
    let mg = SCREEN_MARGIN as u32;
    let (w, h) = out.dimensions();
    let d = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
    assert_eq!(
        w,
        (d(quad[0], quad[1]).max(d(quad[3], quad[2])).round() as u32) + 2 * mg
    );
    assert_eq!(
        h,
        (d(quad[0], quad[3]).max(d(quad[1], quad[2])).round() as u32) + 2 * mg
    );
    for (x, y) in [(0, h / 2), (w - 1, h / 2), (w / 2, 0), (w / 2, h - 1)] {
        assert!(out.get_pixel(x, y)[0] < 80, "frame at ({x}, {y})");
    }
    for (x, y) in [
        (mg + 3, h / 2),
        (w - mg - 4, h / 2),
        (w / 2, mg + 3),
        (w / 2, h - mg - 4),
    ] {
        assert!(out.get_pixel(x, y)[0] > 180, "screen at ({x}, {y})");
    }
    // The map returned is the one applied: a corner of the screen goes
    // where its pixels are.
    let c = mat_apply(&m, quad[2].0, quad[2].1);
    assert!(out.get_pixel(c.0 as u32 - 3, c.1 as u32 - 3)[0] > 180);
    assert!(out.get_pixel(c.0 as u32 + 2, c.1 as u32 + 2)[0] < 80);
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
        Steps::parse("invert, deskew,perspective,retry").unwrap(),
        Steps::DEFAULT
    );
    assert!(Steps::parse("invert,sharpen")
        .unwrap_err()
        .contains("sharpen"));
}

#[test]
fn step_lists_round_trip() {
    // Every subset of the steps is written and read back the same.
    for bits in 0u32..(1 << Steps::NAMES.len()) {
        let list: Vec<&str> = Steps::NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        let s = Steps::parse(&list.join(",")).unwrap();
        assert_eq!(
            s.flags().iter().filter(|f| **f).count(),
            list.len(),
            "{list:?}"
        );
        assert_eq!(Steps::parse(&s.to_list()).unwrap(), s, "{list:?}");
    }
}

/// The ink box by brute force: the smallest box holding every pixel of the
/// box at or below `level`.
fn ink_box_naive(img: &GrayImage, b: [u32; 4], level: u8) -> Option<[u32; 4]> {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for y in b[1]..b[1] + b[3] {
        for x in b[0]..b[0] + b[2] {
            if img.get_pixel(x, y).0[0] <= level {
                xs.push(x);
                ys.push(y);
            }
        }
    }
    let (x0, x1) = (*xs.iter().min()?, *xs.iter().max()? + 1);
    let (y0, y1) = (*ys.iter().min()?, *ys.iter().max()? + 1);
    Some([x0, y0, x1 - x0, y1 - y0])
}

proptest! {
    #[test]
    fn tightened_boxes_are_the_ink_box_inside_the_box(
        w in 1u32..30, h in 1u32..30, seed in any::<u64>(),
        l in 0u32..40, t in 0u32..40, bw in 0u32..40, bh in 0u32..40,
    ) {
        let mut s = seed | 1;
        let img = GrayImage::from_fn(w, h, |_, _| {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            Luma([(s % 256) as u8])
        });
        let got = tighten_to_ink(&img, l, t, bw, bh);
        let (x0, y0) = (l.min(w), t.min(h));
        let clamped = [x0, y0, (l + bw).min(w) - x0, (t + bh).min(h) - y0];
        prop_assert!(got[0] >= clamped[0] && got[1] >= clamped[1]);
        prop_assert!(got[0] + got[2] <= clamped[0] + clamped[2]);
        prop_assert!(got[1] + got[3] <= clamped[1] + clamped[3]);
        if clamped[2] > 0 && clamped[3] > 0 {
            let sub = imageops::crop_imm(&img, clamped[0], clamped[1], clamped[2], clamped[3]).to_image();
            let (lo, hi) = sub.pixels().fold((255u8, 0u8), |(a, b), p| (a.min(p.0[0]), b.max(p.0[0])));
            let want = if hi - lo < MIN_INK_CONTRAST {
                clamped
            } else {
                ink_box_naive(&img, clamped, otsu_level(&sub)).unwrap_or(clamped)
            };
            prop_assert_eq!(got, want);
        } else {
            prop_assert_eq!(got, clamped);
        }
    }
}

#[test]
fn a_padded_word_box_shrinks_to_its_letters() {
    // A "word" of dark ink at x 20..50, y 10..18 on white; tesseract's box
    // reaches 4 px beyond it on every side.
    let mut img = GrayImage::from_pixel(80, 40, Luma([250]));
    for y in 10..18 {
        for x in 20..50 {
            img.put_pixel(x, y, Luma([20]));
        }
    }
    assert_eq!(tighten_to_ink(&img, 16, 6, 38, 16), [20, 10, 30, 8]);
    // The same, 3x enlarged with Lanczos (ringing and blur): within a
    // pixel of 3 x the letters.
    let big = imageops::resize(&img, 240, 120, UPSCALE_FILTER);
    let [l, t, w, h] = tighten_to_ink(&big, 48, 18, 114, 48);
    for (got, want) in [(l, 60), (t, 30), (l + w, 150), (t + h, 54)] {
        assert!(
            got.abs_diff(want) <= 1,
            "{:?} vs [60, 30, 150, 54]",
            [l, t, l + w, t + h]
        );
    }
    // Flat or faint boxes are left alone (clamped to the image).
    let flat = GrayImage::from_pixel(20, 20, Luma([128]));
    assert_eq!(tighten_to_ink(&flat, 2, 3, 10, 10), [2, 3, 10, 10]);
    assert_eq!(tighten_to_ink(&flat, 15, 15, 10, 10), [15, 15, 5, 5]);
    assert_eq!(tighten_to_ink(&flat, 30, 3, 10, 10), [20, 3, 0, 10]);
}
