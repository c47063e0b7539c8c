//! Matcher: finds the indexed content inside a query and verifies it.
//!
//! Pieces so far: [`align`], the banded local alignment that verifies a
//! candidate and gives its exact spans and similarity.

pub mod align;
