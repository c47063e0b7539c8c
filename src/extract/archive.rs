//! Archives: ZIP, tar and gzip, read recursively in memory.
//!
//! Entries become parts named by their stored path (`dump.zip#a/b.txt`):
//! names are only names, never joined to a directory, so `../` entries are
//! harmless. Each entry is inflated only after its budget is known: at most
//! the bytes left of `max_expanded` for the file, and at most `max_ratio`
//! times its compressed size (entries under 1 MiB are exempt from the
//! ratio, as small runs of blanks compress far better than 200:1). The
//! declared size is not trusted: reading stops one byte past the budget.
//! Encrypted entries (ZipCrypto or AES) are skipped with the reason, as are
//! entries in compression methods we do not build (only stored and deflate
//! are compiled in; others are rare in dumps).

use std::io::{Cursor, Read};

use zip::ZipArchive;

use super::sink::Sink;
use super::{clean_name, detect, extract_into, join, office, Format};

/// Entries this small are never refused for their compression ratio.
const RATIO_EXEMPT: u64 = 1 << 20;

fn too_deep(sink: &mut Sink<'_>, name: &str, depth: usize) -> bool {
    if depth + 1 > sink.limits.max_depth {
        sink.skip(
            name,
            format!(
                "nested deeper than max_depth = {}: entries not read",
                sink.limits.max_depth
            ),
        );
        true
    } else {
        false
    }
}

/// Most bytes an entry of `compressed` bytes may inflate to, and the reason
/// named when it goes past.
fn allowance(sink: &Sink<'_>, compressed: u64) -> (u64, String) {
    let by_ratio = compressed
        .saturating_mul(sink.limits.max_ratio)
        .max(RATIO_EXEMPT);
    let budget = sink.expand_budget();
    if by_ratio < budget {
        (
            by_ratio,
            format!(
                "expands more than {} times its compressed size ({compressed} bytes): limit max_ratio, likely an archive bomb",
                sink.limits.max_ratio
            ),
        )
    } else {
        (
            budget,
            format!(
                "expanding it would pass max_expanded = {} bytes for this file",
                sink.limits.max_expanded
            ),
        )
    }
}

/// Read at most `limit` bytes; `Err(())` if there are more.
fn read_capped(r: impl Read, limit: u64, hint: u64) -> std::io::Result<Result<Vec<u8>, ()>> {
    let mut data = Vec::with_capacity(hint.min(limit).min(64 << 20) as usize);
    r.take(limit.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        Ok(Err(()))
    } else {
        Ok(Ok(data))
    }
}

/// Read one ZIP entry under the limits, recording why not on failure.
pub(crate) fn read_zip_entry(
    sink: &mut Sink<'_>,
    zip: &mut ZipArchive<Cursor<&[u8]>>,
    index: usize,
    pname: &str,
) -> Option<Vec<u8>> {
    let (encrypted, size, compressed) = match zip.by_index_raw(index) {
        Ok(f) => (f.encrypted(), f.size(), f.compressed_size()),
        Err(e) => {
            sink.skip(pname, format!("ZIP entry not readable: {e}"));
            return None;
        }
    };
    if encrypted {
        sink.skip(pname, "encrypted ZIP entry: needs a password");
        return None;
    }
    let (limit, why) = allowance(sink, compressed);
    if size > limit {
        sink.skip(pname, format!("declared size {size} bytes: {why}"));
        return None;
    }
    let file = match zip.by_index(index) {
        Ok(f) => f,
        Err(e) => {
            sink.skip(pname, format!("ZIP entry not readable: {e}"));
            return None;
        }
    };
    match read_capped(file, limit, size) {
        Ok(Ok(data)) => {
            sink.spend(data.len() as u64);
            Some(data)
        }
        Ok(Err(())) => {
            sink.spend(limit);
            sink.skip(pname, format!("inflated past its declared size: {why}"));
            None
        }
        Err(e) => {
            sink.skip(pname, format!("ZIP entry corrupt: {e}"));
            None
        }
    }
}

/// A ZIP archive, or an Office document stored as one.
pub(crate) fn extract_zip(
    sink: &mut Sink<'_>,
    bytes: &[u8],
    name_hint: &str,
    name: &str,
    depth: usize,
) -> Format {
    let mut zip = match ZipArchive::new(Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => {
            sink.skip(name, format!("ZIP not readable: {e}"));
            sink.binary(name, Format::Zip);
            return Format::Zip;
        }
    };
    if let Some(format) = office::office_format(&mut zip, sink) {
        office::extract_office(sink, &mut zip, format, name);
        return format;
    }
    let _ = name_hint;
    if too_deep(sink, name, depth) {
        return Format::Zip;
    }
    for i in 0..zip.len() {
        if sink.is_full() {
            break;
        }
        let entry_name = match zip.by_index_raw(i) {
            Ok(f) if f.is_dir() => continue,
            Ok(f) => clean_name(&f.name().unwrap_or_else(|_| format!("entry {i}").into())),
            Err(e) => {
                sink.skip(
                    &join(name, &format!("entry {i}")),
                    format!("ZIP entry not readable: {e}"),
                );
                continue;
            }
        };
        let pname = join(name, &entry_name);
        if let Some(data) = read_zip_entry(sink, &mut zip, i, &pname) {
            extract_into(sink, &data, &entry_name, &pname, depth + 1);
        }
    }
    Format::Zip
}

/// A gzip stream (all members); a tar inside is read in place.
pub(crate) fn extract_gzip(
    sink: &mut Sink<'_>,
    bytes: &[u8],
    name_hint: &str,
    name: &str,
    depth: usize,
) -> Format {
    if too_deep(sink, name, depth) {
        return Format::Gzip;
    }
    let inner = gzip_inner_name(name_hint);
    let (limit, why) = allowance(sink, bytes.len() as u64);
    let data = match read_capped(
        flate2::read::MultiGzDecoder::new(bytes),
        limit,
        bytes.len() as u64 * 4,
    ) {
        Ok(Ok(d)) => d,
        Ok(Err(())) => {
            sink.spend(limit);
            sink.skip(name, format!("gzip content not read: {why}"));
            return Format::Gzip;
        }
        Err(e) => {
            sink.skip(name, format!("gzip stream corrupt: {e}"));
            return Format::Gzip;
        }
    };
    sink.spend(data.len() as u64);
    if detect::detect(&data, &inner) == detect::Kind::Tar {
        // `x.tar.gz#a/b.txt`, not `x.tar.gz#x.tar#a/b.txt`.
        read_tar(sink, &data, name, depth);
    } else {
        extract_into(sink, &data, &inner, &join(name, &inner), depth + 1);
    }
    Format::Gzip
}

/// The part name of what a gzip file named `name_hint` holds: `x.mbox`
/// for `x.mbox.gz`, `x.tar` for `x.tgz`, `content` otherwise.
pub(crate) fn gzip_inner_name(name_hint: &str) -> String {
    let base = name_hint.rsplit('/').next().unwrap_or(name_hint);
    let lower = base.to_ascii_lowercase();
    let inner = if lower.ends_with(".tgz") {
        format!("{}.tar", &base[..base.len() - 4])
    } else if lower.ends_with(".gz") {
        base[..base.len() - 3].to_owned()
    } else {
        "content".to_owned()
    };
    clean_name(&inner)
}

/// A tar archive.
pub(crate) fn extract_tar(sink: &mut Sink<'_>, bytes: &[u8], name: &str, depth: usize) {
    if too_deep(sink, name, depth) {
        return;
    }
    read_tar(sink, bytes, name, depth);
}

fn read_tar(sink: &mut Sink<'_>, bytes: &[u8], name: &str, depth: usize) {
    let mut archive = tar::Archive::new(bytes);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            sink.skip(name, format!("tar not readable: {e}"));
            return;
        }
    };
    for entry in entries {
        if sink.is_full() {
            break;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                sink.skip(
                    name,
                    format!("tar truncated or corrupt, later entries not read: {e}"),
                );
                break;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let entry_name = clean_name(&String::from_utf8_lossy(&entry.path_bytes()));
        let pname = join(name, &entry_name);
        let size = entry.size();
        let budget = sink.expand_budget();
        if size > budget {
            sink.skip(
                &pname,
                format!(
                    "entry of {size} bytes would pass max_expanded = {}",
                    sink.limits.max_expanded
                ),
            );
            continue;
        }
        match read_capped(&mut entry, budget, size) {
            Ok(Ok(data)) => {
                sink.spend(data.len() as u64);
                extract_into(sink, &data, &entry_name, &pname, depth + 1);
            }
            Ok(Err(())) => {
                sink.skip(&pname, "tar entry longer than its header says");
            }
            Err(e) => {
                sink.skip(&pname, format!("tar entry not readable: {e}"));
                break;
            }
        }
    }
}
