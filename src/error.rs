//! Error types shared by the modules.
//!
//! Each concern has its own enum: configuration ([`ConfigError`]) here, index
//! reading and writing in [`crate::index`], matching in [`crate::matcher`].
//! Messages carry the numbers and paths a user needs to act.

use thiserror::Error;

/// A builder or configuration value is out of its supported range, or two
/// values contradict each other. Checked in release builds too.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A numeric setting lies outside `[min, max]`.
    #[error("{name} = {value} is out of range: it must be between {min} and {max}")]
    OutOfRange {
        /// The setting's name, as the builder method or CLI option says it.
        name: &'static str,
        /// The value given.
        value: u64,
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// Two settings contradict each other.
    #[error("inconsistent settings: {0}")]
    Inconsistent(&'static str),
    /// The worker threads could not be started.
    #[error("cannot start the worker threads: {0}")]
    Threads(String),
}

impl ConfigError {
    /// `Ok(value)` when `min <= value <= max`, else [`ConfigError::OutOfRange`].
    ///
    /// # Errors
    /// When `value` is outside the range.
    pub fn check_range(name: &'static str, value: u64, min: u64, max: u64) -> Result<u64, Self> {
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::OutOfRange {
                name,
                value,
                min,
                max,
            })
        }
    }
}
