//! Checked builders for the settings of extraction and chunking.
//!
//! [`ExtractLimits`], [`Isolation`] and [`ChunkParams`] are plain structs
//! with public fields (their modules own them). These builders are how a
//! library user, the command line, the service and the Python package make
//! them: every setting starts at its default, each setter records a value,
//! and `build()` checks all of them, in release builds too, returning a
//! [`ConfigError`] that names the setting (`max_parts`, `extract_memory`,
//! ...) with the value and the accepted range.
//!
//! Ranges: every count and size is at least 1; `max_depth` is at most
//! [`MAX_DEPTH_LIMIT`] (extraction recurses once per level of nesting, so a
//! larger value would let a crafted archive exhaust the stack); `max_parts`
//! fits a part number of the index (`u32`); the worker's memory is at least
//! [`MIN_WORKER_MEMORY`] (its own code and libraries count) and its
//! deadline between 1 second and a day.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::chunk::ChunkParams;
use crate::error::ConfigError;
use crate::extract::{ExtractLimits, Isolation, PdfOcr};

/// Deepest container nesting [`ExtractLimitsBuilder::max_depth`] accepts.
pub const MAX_DEPTH_LIMIT: usize = 64;
/// Least address space [`IsolationBuilder::extract_memory`] accepts: 64 MiB.
pub const MIN_WORKER_MEMORY: u64 = 64 << 20;
/// Longest deadline [`IsolationBuilder::extract_timeout`] accepts: a day.
pub const MAX_WORKER_TIMEOUT: Duration = Duration::from_secs(86_400);

/// Builder of [`ExtractLimits`]; [`ExtractLimitsBuilder::build`] checks it.
#[derive(Debug, Clone)]
pub struct ExtractLimitsBuilder {
    cfg: ExtractLimits,
}

impl Default for ExtractLimitsBuilder {
    fn default() -> Self {
        ExtractLimitsBuilder::new()
    }
}

impl ExtractLimitsBuilder {
    /// Start from [`ExtractLimits::default`] (no worker process).
    pub fn new() -> ExtractLimitsBuilder {
        ExtractLimitsBuilder {
            cfg: ExtractLimits::default(),
        }
    }
    /// Most bytes of text kept from one part (at least 1).
    pub fn max_part_text(mut self, bytes: usize) -> Self {
        self.cfg.max_part_text = bytes;
        self
    }
    /// Most parts read from one file (1 to `u32::MAX`).
    pub fn max_parts(mut self, n: usize) -> Self {
        self.cfg.max_parts = n;
        self
    }
    /// Deepest nesting of containers (1 to [`MAX_DEPTH_LIMIT`]).
    pub fn max_depth(mut self, n: usize) -> Self {
        self.cfg.max_depth = n;
        self
    }
    /// Most bytes the parts of one file may expand to (at least 1).
    pub fn max_expanded(mut self, bytes: u64) -> Self {
        self.cfg.max_expanded = bytes;
        self
    }
    /// Largest expansion ratio of one archive entry (at least 1).
    pub fn max_ratio(mut self, ratio: u64) -> Self {
        self.cfg.max_ratio = ratio;
        self
    }
    /// Read PDF and legacy Office files in a worker process (see
    /// [`IsolationBuilder`]); `None` (the default) reads them in this process.
    pub fn isolation(mut self, isolation: Option<Isolation>) -> Self {
        self.cfg.isolation = isolation;
        self
    }
    /// Read scanned PDF pages by OCR (see [`PdfOcr`]); `None` (the
    /// default) lists them with a reason.
    pub fn pdf_ocr(mut self, ocr: Option<PdfOcr>) -> Self {
        self.cfg.pdf_ocr = ocr;
        self
    }
    /// Check the settings.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] naming the first setting out of its range;
    /// [`ConfigError::Inconsistent`] for a malformed OCR language list.
    pub fn build(self) -> Result<ExtractLimits, ConfigError> {
        let c = &self.cfg;
        ConfigError::check_range("max_part_text", c.max_part_text as u64, 1, u64::MAX)?;
        ConfigError::check_range("max_parts", c.max_parts as u64, 1, u64::from(u32::MAX))?;
        ConfigError::check_range("max_depth", c.max_depth as u64, 1, MAX_DEPTH_LIMIT as u64)?;
        ConfigError::check_range("max_expanded", c.max_expanded, 1, u64::MAX)?;
        ConfigError::check_range("max_ratio", c.max_ratio, 1, u64::MAX)?;
        if let Some(iso) = &c.isolation {
            check_isolation(iso)?;
        }
        if let Some(ocr) = &c.pdf_ocr {
            if !crate::ocr::tesseract::valid_lang(&ocr.lang) {
                return Err(ConfigError::Inconsistent(
                    "ocr-lang must be tesseract model names joined by '+' (eng, eng+rus+chi_sim)",
                ));
            }
            ConfigError::check_range(
                "ocr.page_timeout_ms",
                ocr.page_timeout.as_millis() as u64,
                crate::ocr::OcrConfig::MIN_TIMEOUT.as_millis() as u64,
                1 << 32,
            )?;
        }
        Ok(self.cfg)
    }
}

/// Builder of an [`Isolation`]: the program run as the extraction worker
/// and its caps; [`IsolationBuilder::build`] checks them.
#[derive(Debug, Clone)]
pub struct IsolationBuilder {
    cfg: Isolation,
}

impl IsolationBuilder {
    /// Run `program args...` as the worker (a program whose `main` calls
    /// [`crate::extract::isolate::worker_main`], such as the `leakprint`
    /// binary with the argument `extract-worker`), with the default caps.
    pub fn new(program: impl Into<PathBuf>, args: Vec<OsString>) -> IsolationBuilder {
        IsolationBuilder {
            cfg: Isolation::new(program, args),
        }
    }
    /// Address space the worker may use per file, in bytes (at least
    /// [`MIN_WORKER_MEMORY`]).
    pub fn extract_memory(mut self, bytes: u64) -> Self {
        self.cfg.max_memory = bytes;
        self
    }
    /// Longest time one file may take (1 second to [`MAX_WORKER_TIMEOUT`],
    /// checked in whole seconds).
    pub fn extract_timeout(mut self, timeout: Duration) -> Self {
        self.cfg.timeout = timeout;
        self
    }
    /// Check the settings.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] for a cap out of its range.
    pub fn build(self) -> Result<Isolation, ConfigError> {
        check_isolation(&self.cfg)?;
        Ok(self.cfg)
    }
}

fn check_isolation(iso: &Isolation) -> Result<(), ConfigError> {
    ConfigError::check_range(
        "extract_memory",
        iso.max_memory,
        MIN_WORKER_MEMORY,
        u64::MAX,
    )?;
    // Whole seconds: 1.5 s is accepted, 0.9 s is not.
    ConfigError::check_range(
        "extract_timeout",
        iso.timeout.as_secs(),
        1,
        MAX_WORKER_TIMEOUT.as_secs(),
    )?;
    Ok(())
}

/// Builder of [`ChunkParams`]; [`ChunkParamsBuilder::build`] checks the
/// sizes with [`ChunkParams::new`].
#[derive(Debug, Clone, Copy)]
pub struct ChunkParamsBuilder {
    min: u32,
    avg: u32,
    max: u32,
}

impl Default for ChunkParamsBuilder {
    fn default() -> Self {
        ChunkParamsBuilder::new()
    }
}

impl ChunkParamsBuilder {
    /// Start from the default sizes (4, 16 and 64 KiB).
    pub fn new() -> ChunkParamsBuilder {
        ChunkParamsBuilder {
            min: ChunkParams::DEFAULT_MIN,
            avg: ChunkParams::DEFAULT_AVG,
            max: ChunkParams::DEFAULT_MAX,
        }
    }
    /// No chunk but the last is shorter (64 B to 1 MiB).
    pub fn min_size(mut self, bytes: u32) -> Self {
        self.min = bytes;
        self
    }
    /// Expected chunk size (256 B to 4 MiB).
    pub fn avg_size(mut self, bytes: u32) -> Self {
        self.avg = bytes;
        self
    }
    /// No chunk is longer (1 KiB to 16 MiB).
    pub fn max_size(mut self, bytes: u32) -> Self {
        self.max = bytes;
        self
    }
    /// Check the sizes.
    ///
    /// # Errors
    /// As [`ChunkParams::new`]: a size out of its range, or sizes not
    /// ordered `min <= avg <= max`.
    pub fn build(self) -> Result<ChunkParams, ConfigError> {
        ChunkParams::new(self.min, self.avg, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out_of_range(r: Result<impl std::fmt::Debug, ConfigError>) -> (&'static str, u64) {
        match r {
            Err(ConfigError::OutOfRange { name, value, .. }) => (name, value),
            other => panic!("expected OutOfRange, got {other:?}"),
        }
    }

    #[test]
    fn defaults_build_and_equal_the_struct_defaults() {
        assert_eq!(
            ExtractLimitsBuilder::new().build().unwrap(),
            ExtractLimits::default()
        );
        assert_eq!(
            ChunkParamsBuilder::new().build().unwrap(),
            ChunkParams::default()
        );
    }

    /// Each bound, at the edge and one past it (table-driven).
    #[test]
    fn extract_limits_bounds() {
        type Set = fn(ExtractLimitsBuilder, u64) -> ExtractLimitsBuilder;
        let cases: [(&str, Set, u64, Option<u64>); 5] = [
            ("max_part_text", |b, v| b.max_part_text(v as usize), 1, None),
            (
                "max_parts",
                |b, v| b.max_parts(v as usize),
                1,
                Some(u64::from(u32::MAX)),
            ),
            (
                "max_depth",
                |b, v| b.max_depth(v as usize),
                1,
                Some(MAX_DEPTH_LIMIT as u64),
            ),
            ("max_expanded", |b, v| b.max_expanded(v), 1, None),
            ("max_ratio", |b, v| b.max_ratio(v), 1, None),
        ];
        for (name, set, min, max) in cases {
            assert!(
                set(ExtractLimitsBuilder::new(), min).build().is_ok(),
                "{name}"
            );
            let below = set(ExtractLimitsBuilder::new(), min - 1).build();
            assert_eq!(out_of_range(below), (name, min - 1));
            if let Some(max) = max {
                assert!(set(ExtractLimitsBuilder::new(), max).build().is_ok());
                let above = set(ExtractLimitsBuilder::new(), max + 1).build();
                assert_eq!(out_of_range(above), (name, max + 1));
            }
        }
        let built = ExtractLimitsBuilder::new()
            .max_part_text(10)
            .max_parts(20)
            .max_depth(3)
            .max_expanded(40)
            .max_ratio(5)
            .build()
            .unwrap();
        assert_eq!(
            (
                built.max_part_text,
                built.max_parts,
                built.max_depth,
                built.max_expanded,
                built.max_ratio
            ),
            (10, 20, 3, 40, 5)
        );
    }

    #[test]
    fn isolation_bounds_are_checked_alone_and_inside_the_limits() {
        let base = || IsolationBuilder::new("/bin/true", vec![]);
        assert!(base().build().is_ok());
        let low = base().extract_memory(MIN_WORKER_MEMORY - 1).build();
        assert_eq!(out_of_range(low).0, "extract_memory");
        assert!(base().extract_memory(MIN_WORKER_MEMORY).build().is_ok());
        let quick = base().extract_timeout(Duration::from_millis(999)).build();
        assert_eq!(out_of_range(quick).0, "extract_timeout");
        let slow = base()
            .extract_timeout(MAX_WORKER_TIMEOUT + Duration::from_secs(1))
            .build();
        assert_eq!(out_of_range(slow).0, "extract_timeout");
        assert!(base().extract_timeout(MAX_WORKER_TIMEOUT).build().is_ok());
        // An Isolation made by hand is checked when the limits are built.
        let mut bad = Isolation::new("/bin/true", vec![]);
        bad.max_memory = 1;
        let r = ExtractLimitsBuilder::new().isolation(Some(bad)).build();
        assert_eq!(out_of_range(r).0, "extract_memory");
    }

    #[test]
    fn chunk_params_are_checked_by_the_chunk_module() {
        assert!(ChunkParamsBuilder::new().min_size(63).build().is_err());
        assert!(matches!(
            ChunkParamsBuilder::new()
                .min_size(8192)
                .avg_size(4096)
                .build(),
            Err(ConfigError::Inconsistent(_))
        ));
        let p = ChunkParamsBuilder::new()
            .min_size(1024)
            .avg_size(2048)
            .max_size(8192)
            .build()
            .unwrap();
        assert_eq!((p.min_size, p.avg_size, p.max_size), (1024, 2048, 8192));
    }
}
