//! The accumulator that every extractor writes into.
//!
//! It enforces the per-file [`ExtractLimits`]: text per part
//! (`max_part_text`, cut at a char boundary with a note), parts per file
//! (`max_parts`, one note when reached, then everything else is dropped with
//! that note) and bytes expanded from compressed or encoded data
//! (`max_expanded`, reserved before a container entry is inflated).

use super::{floor_char_boundary, ExtractLimits, Extracted, Format, Part, PartSkip};

/// Collects parts and skips for one file under its limits.
pub(crate) struct Sink<'l> {
    /// The limits of this run.
    pub(crate) limits: &'l ExtractLimits,
    parts: Vec<Part>,
    skipped: Vec<PartSkip>,
    expanded: u64,
    full: bool,
    /// Parts and notes before the current scope ([`Sink::new_scope`]).
    scope_parts: usize,
    scope_notes: usize,
}

impl<'l> Sink<'l> {
    /// An empty sink.
    pub(crate) fn new(limits: &'l ExtractLimits) -> Self {
        Sink {
            limits,
            parts: Vec::new(),
            skipped: Vec::new(),
            expanded: 0,
            full: false,
            scope_parts: 0,
            scope_notes: 0,
        }
    }

    /// The result, with `format` as the file's own format.
    pub(crate) fn finish(self, format: Format) -> Extracted {
        Extracted {
            format: Some(format),
            parts: self.parts,
            skipped: self.skipped,
        }
    }

    /// True once `max_parts` parts were emitted: extractors stop early.
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    /// Room for one more part? Records the note the first time it is not.
    fn room(&mut self, name: &str) -> bool {
        if self.full {
            return false;
        }
        if self.parts.len() - self.scope_parts >= self.limits.max_parts {
            self.full = true;
            self.skipped.push(PartSkip {
                name: name.to_owned(),
                reason: format!(
                    "part limit reached (max_parts = {}): this and later parts not read",
                    self.limits.max_parts
                ),
            });
            return false;
        }
        true
    }

    /// Emit a text part, cut to `max_part_text`.
    pub(crate) fn text(&mut self, name: &str, format: Format, mut text: String) {
        if !self.room(name) {
            return;
        }
        if text.len() > self.limits.max_part_text {
            let cut = floor_char_boundary(&text, self.limits.max_part_text);
            text.truncate(cut);
            self.skip(
                name,
                format!(
                    "text cut at {cut} bytes (limit max_part_text = {})",
                    self.limits.max_part_text
                ),
            );
        }
        self.parts.push(Part {
            name: name.to_owned(),
            format,
            text,
        });
    }

    /// Record a nested part without text (the file itself, with an empty
    /// name, is recorded by its format alone).
    pub(crate) fn binary(&mut self, name: &str, format: Format) {
        if name.is_empty() || !self.room(name) {
            return;
        }
        self.parts.push(Part {
            name: name.to_owned(),
            format,
            text: String::new(),
        });
    }

    /// Record a skip or a note about a partial read.
    pub(crate) fn skip(&mut self, name: &str, reason: impl Into<String>) {
        // Notes are bounded too: at most one per allowed part, plus a few.
        if self.skipped.len() - self.scope_notes > self.limits.max_parts.saturating_add(16) {
            return;
        }
        self.skipped.push(PartSkip {
            name: name.to_owned(),
            reason: reason.into(),
        });
    }

    /// Start a new scope: `max_parts` (and the bound on notes) count again
    /// from here. For the messages of a mailbox file, each of which is
    /// read as the streamed reader reads it, on its own; the expansion
    /// budget stays the file's.
    pub(crate) fn new_scope(&mut self) {
        self.scope_parts = self.parts.len();
        self.scope_notes = self.skipped.len();
        self.full = false;
    }

    /// Bytes still allowed to be expanded for this file.
    pub(crate) fn expand_budget(&self) -> u64 {
        self.limits.max_expanded.saturating_sub(self.expanded)
    }

    /// Account for `n` expanded bytes.
    pub(crate) fn spend(&mut self, n: u64) {
        self.expanded = self.expanded.saturating_add(n);
    }
}
