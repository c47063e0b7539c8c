//! The `text` format: the whole reader is one query.
//!
//! The bytes are decoded like indexed plain text
//! ([`crate::extract::decode_text`]: BOM, UTF-16, UTF-8, else
//! Windows-1252), so a query file and the same file in the dump give the
//! same text.

use std::io::{BufRead, Read};

use super::{InputError, InputLimits, Query, QueryId};

/// Read all of `reader` (at most [`InputLimits::max_text_bytes`]) as one
/// query with this id.
///
/// # Errors
/// [`InputError::TooLarge`] past the limit, [`InputError::Binary`] for
/// binary data, [`InputError::Io`] when reading fails.
pub fn read_text<R: BufRead>(
    reader: R,
    id: QueryId,
    limits: &InputLimits,
) -> Result<Query, InputError> {
    let bytes = read_bounded(reader, limits.max_text_bytes())?;
    let text = crate::extract::decode_text(&bytes).ok_or(InputError::Binary)?;
    Ok(Query {
        id,
        text,
        ocr: None,
    })
}

/// All bytes of `reader`, or [`InputError::TooLarge`] when there are more
/// than `limit` (reading stops at `limit + 1`).
pub(crate) fn read_bounded<R: Read>(reader: R, limit: usize) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(InputError::TooLarge { limit });
    }
    Ok(bytes)
}
