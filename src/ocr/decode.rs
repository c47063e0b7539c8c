//! Image detection by content and bounded decoding to grey scale.
//!
//! [`sniff`] recognises the six formats `leakprint match` reads as images by
//! their magic bytes (never by file name): PNG, JPEG, GIF, WebP, BMP and
//! TIFF. [`decode`] reads one with the `image` crate under
//! [`DecodeLimits`]: the dimensions are checked from the header before any
//! pixel is allocated, and the decoder's own allocation cap
//! (`image::Limits::max_alloc`) bounds what a hostile file can make it
//! allocate. GIF and TIFF give their first frame / page.
//!
//! Invariant: a decoded image has `1 <= width * height <= max_pixels`.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader};

use super::ImageError;

/// The image formats read as queries.
pub const FORMATS: [ImageFormat; 6] = [
    ImageFormat::Png,
    ImageFormat::Jpeg,
    ImageFormat::Gif,
    ImageFormat::WebP,
    ImageFormat::Bmp,
    ImageFormat::Tiff,
];

/// Header sizes of the BMP DIB variants (BITMAPCOREHEADER to V5).
const BMP_DIB_SIZES: [u32; 7] = [12, 40, 52, 56, 64, 108, 124];

/// The image format of `bytes` from its magic bytes, if it is one of
/// [`FORMATS`]. Needs at most the first 18 bytes.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(ImageFormat::Tiff)
    } else if bytes.len() >= 18 && bytes.starts_with(b"BM") {
        // "BM" alone starts many texts: require a known DIB header size too.
        let dib = u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]);
        BMP_DIB_SIZES.contains(&dib).then_some(ImageFormat::Bmp)
    } else {
        None
    }
}

/// Bounds on decoding one image. Checked in release builds by
/// [`super::OcrConfigBuilder::build`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most pixels (width x height) of an image.
    pub max_pixels: u64,
    /// Longest side, in pixels.
    pub max_side: u32,
    /// Most bytes the decoder may allocate.
    pub max_alloc: u64,
}

impl DecodeLimits {
    /// Default pixel cap: 40 megapixels (a 100-megapixel image is refused).
    pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;
    /// Default longest side: 30,000 pixels.
    pub const DEFAULT_MAX_SIDE: u32 = 30_000;
    /// Default decoder allocation cap: 512 MiB.
    pub const DEFAULT_MAX_ALLOC: u64 = 512 << 20;
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_pixels: Self::DEFAULT_MAX_PIXELS,
            max_side: Self::DEFAULT_MAX_SIDE,
            max_alloc: Self::DEFAULT_MAX_ALLOC,
        }
    }
}

/// Decode `bytes` (one of [`FORMATS`]) to 8-bit grey (Rec. 709 luma), and
/// say which format it was.
///
/// Transparent pixels are composed over white first, so a screenshot with
/// an alpha channel reads as it looks in a viewer.
///
/// # Errors
/// [`ImageError::NotAnImage`] when [`sniff`] does not know the bytes,
/// [`ImageError::TooLarge`] past the limits (before pixels are allocated),
/// [`ImageError::Decode`] for corrupt or truncated data.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<(GrayImage, ImageFormat), ImageError> {
    let format = sniff(bytes).ok_or(ImageError::NotAnImage)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut lim = image::Limits::default();
    lim.max_image_width = Some(limits.max_side);
    lim.max_image_height = Some(limits.max_side);
    lim.max_alloc = Some(limits.max_alloc);
    reader.limits(lim);
    let decoder = reader.into_decoder().map_err(|e| decode_error(format, e))?;
    let (w, h) = decoder.dimensions();
    check_size(w, h, limits)?;
    let img = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(format, e))?;
    Ok((to_grey(img), format))
}

/// Refuse an empty image or one past the limits.
pub(crate) fn check_size(w: u32, h: u32, limits: &DecodeLimits) -> Result<(), ImageError> {
    let pixels = u64::from(w) * u64::from(h);
    if pixels == 0 {
        return Err(ImageError::Decode {
            reason: "the image has no pixels".to_owned(),
        });
    }
    if pixels > limits.max_pixels || w > limits.max_side || h > limits.max_side {
        return Err(ImageError::TooLarge {
            width: w,
            height: h,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

fn decode_error(format: ImageFormat, e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(l) => ImageError::Decode {
            reason: format!("{format:?} needs more memory than the decoder may use: {l}"),
        },
        e => ImageError::Decode {
            reason: format!("{format:?}: {e}"),
        },
    }
}

/// Grey scale, alpha composed over white.
pub(crate) fn to_grey(img: DynamicImage) -> GrayImage {
    if !img.color().has_alpha() {
        return img.into_luma8();
    }
    let rgba = img.into_rgba8();
    let mut out = GrayImage::new(rgba.width(), rgba.height());
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = p.0;
        let luma = 0.2126 * f32::from(r) + 0.7152 * f32::from(g) + 0.0722 * f32::from(b);
        let a = f32::from(a) / 255.0;
        o.0[0] = (luma * a + 255.0 * (1.0 - a)).round().clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Luma};

    fn encode(img: &GrayImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageLuma8(img.clone())
            .into_rgb8()
            .write_to(&mut out, format)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn every_format_is_sniffed_and_decoded() {
        let img = GrayImage::from_fn(37, 11, |x, y| Luma([((x * 7 + y * 3) % 256) as u8]));
        for format in FORMATS {
            let bytes = encode(&img, format);
            assert_eq!(sniff(&bytes), Some(format), "{format:?}");
            let (grey, f) = decode(&bytes, &DecodeLimits::default()).unwrap();
            assert_eq!(f, format);
            assert_eq!(grey.dimensions(), (37, 11), "{format:?}");
        }
    }

    #[test]
    fn text_is_not_an_image() {
        for t in [
            &b"BMW drivers"[..],
            b"",
            b"GIF8",
            b"RIFF1234WAVE",
            b"\xFF\xD8",
        ] {
            assert_eq!(sniff(t), None);
        }
        assert!(matches!(
            decode(b"hello", &DecodeLimits::default()),
            Err(ImageError::NotAnImage)
        ));
    }

    #[test]
    fn truncated_and_corrupt_images_are_errors() {
        let img = GrayImage::from_fn(64, 64, |x, _| Luma([x as u8]));
        for format in FORMATS {
            let bytes = encode(&img, format);
            for cut in [20, bytes.len() / 2] {
                let r = decode(&bytes[..cut.min(bytes.len())], &DecodeLimits::default());
                assert!(r.is_err(), "{format:?} cut at {cut} decoded");
            }
        }
    }

    #[test]
    fn size_limits_at_the_boundary() {
        let img = GrayImage::new(100, 10);
        let bytes = encode(&img, ImageFormat::Png);
        let at = DecodeLimits {
            max_pixels: 1000,
            ..DecodeLimits::default()
        };
        assert!(decode(&bytes, &at).is_ok());
        let under = DecodeLimits {
            max_pixels: 999,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            decode(&bytes, &under),
            Err(ImageError::TooLarge {
                width: 100,
                height: 10,
                ..
            })
        ));
        let side = DecodeLimits {
            max_side: 99,
            ..DecodeLimits::default()
        };
        assert!(decode(&bytes, &side).is_err());
    }

    #[test]
    fn a_huge_header_is_refused_before_allocation() {
        // A PNG header claiming 20000 x 20000 (400 megapixels) with no data.
        let mut bytes = Vec::new();
        image::codecs::png::PngEncoder::new(&mut bytes)
            .write_image(&[0u8; 4], 2, 2, image::ExtendedColorType::L8)
            .unwrap();
        // IHDR width and height live at bytes 16..24; the CRC is not
        // checked before the size limit.
        bytes[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let r = decode(&bytes, &DecodeLimits::default());
        assert!(r.is_err(), "decoded a 400-megapixel header");
    }

    #[test]
    fn alpha_is_composed_over_white() {
        let rgba = image::RgbaImage::from_pixel(4, 4, image::Rgba([0, 0, 0, 0]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(rgba)
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        let (grey, _) = decode(&out.into_inner(), &DecodeLimits::default()).unwrap();
        assert!(grey.pixels().all(|p| p.0[0] == 255));
    }
}
