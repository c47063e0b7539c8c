//! Walking the inputs: every path given becomes a list of files in a
//! deterministic order, and everything that is not a readable regular file
//! is reported with a reason instead of being dropped.
//!
//! Order: the arguments in the order given; inside a folder, entries sorted
//! by their raw name bytes, depth first. Symbolic links to files are
//! followed; links to folders are not (that is how loops are avoided), and
//! are reported. FIFOs, sockets and devices are reported and never opened,
//! so a walk never blocks.
//!
//! Names are kept as the file system's bytes (`crate::names`): a path that
//! is not UTF-8 is indexed and reported exactly, not replaced by `�`.

use std::fs;
use std::path::{Path, PathBuf};

use super::super::IndexError;

/// One item of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file to read.
    File {
        /// Path to open.
        path: PathBuf,
        /// The path as reached from the argument, `/`-separated, as bytes.
        display: Vec<u8>,
        /// Its size when walked, in bytes (the walk's `stat`: the progress
        /// total and the plan of a build in pieces use it without another
        /// one; the builder asks again when it batches the file, and reads
        /// it as it is then).
        size: u64,
    },
    /// Something that is not read, with the reason.
    Skipped {
        /// The path as reached from the argument, as bytes.
        display: Vec<u8>,
        /// Why.
        reason: String,
    },
}

/// Walk `roots` and return every entry in order.
///
/// # Errors
/// [`IndexError::MissingInput`] when a root does not exist.
pub fn walk(roots: &[PathBuf]) -> Result<Vec<Entry>, IndexError> {
    let mut out = Vec::new();
    for root in roots {
        let meta = fs::symlink_metadata(root)
            .map_err(|_| IndexError::MissingInput { path: root.clone() })?;
        let raw = root.as_os_str().as_encoded_bytes();
        let trimmed = raw.strip_suffix(b"/").unwrap_or(raw);
        let display = if trimmed.is_empty() {
            b"/".to_vec()
        } else {
            let mut t = trimmed;
            while let Some(x) = t.strip_suffix(b"/") {
                t = x;
            }
            t.to_vec()
        };
        if meta.file_type().is_symlink() {
            // A root given as a link is followed, even to a folder: the user
            // asked for it by name.
            match fs::metadata(root) {
                Ok(m) if m.is_dir() => walk_dir(root, &display, &mut out),
                Ok(_) => classify(root, display, &mut out),
                Err(e) => out.push(Entry::Skipped {
                    display,
                    reason: format!("broken symbolic link: {e}"),
                }),
            }
        } else if meta.is_dir() {
            walk_dir(root, &display, &mut out);
        } else {
            classify(root, display, &mut out);
        }
    }
    Ok(out)
}

fn walk_dir(dir: &Path, display: &[u8], out: &mut Vec<Entry>) {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            out.push(Entry::Skipped {
                display: display.to_vec(),
                reason: format!("cannot list folder: {e}"),
            });
            return;
        }
    };
    let mut names: Vec<_> = Vec::new();
    for ent in rd {
        match ent {
            Ok(ent) => names.push(ent.file_name()),
            Err(e) => out.push(Entry::Skipped {
                display: display.to_vec(),
                reason: format!("cannot list folder entry: {e}"),
            }),
        }
    }
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    for name in names {
        let path = dir.join(&name);
        let mut disp = display.to_vec();
        disp.push(b'/');
        disp.extend_from_slice(name.as_encoded_bytes());
        match fs::symlink_metadata(&path) {
            Err(e) => out.push(Entry::Skipped {
                display: disp,
                reason: format!("cannot stat: {e}"),
            }),
            Ok(m) if m.is_dir() => walk_dir(&path, &disp, out),
            Ok(m) if m.file_type().is_symlink() => match fs::metadata(&path) {
                Ok(t) if t.is_dir() => out.push(Entry::Skipped {
                    display: disp,
                    reason: "symbolic link to a folder, not followed (avoids loops)".into(),
                }),
                // (The target's metadata, as `classify` would fetch it.)
                Ok(t) => classify_as(&path, disp, Ok(t), out),
                Err(e) => out.push(Entry::Skipped {
                    display: disp,
                    reason: format!("broken symbolic link or loop: {e}"),
                }),
            },
            // Not a link: its own metadata is what `classify` would fetch
            // (one stat a file, not two).
            Ok(m) => classify_as(&path, disp, Ok(m), out),
        }
    }
}

fn classify(path: &Path, display: Vec<u8>, out: &mut Vec<Entry>) {
    classify_as(path, display, fs::metadata(path), out);
}

/// [`classify`] with the metadata of `path` (links followed) given.
fn classify_as(
    path: &Path,
    display: Vec<u8>,
    meta: std::io::Result<fs::Metadata>,
    out: &mut Vec<Entry>,
) {
    use std::os::unix::fs::FileTypeExt;
    match meta {
        Err(e) => out.push(Entry::Skipped {
            display,
            reason: format!("cannot stat: {e}"),
        }),
        Ok(m) => {
            let ft = m.file_type();
            let kind = if ft.is_file() {
                None
            } else if ft.is_fifo() {
                Some("a FIFO")
            } else if ft.is_socket() {
                Some("a socket")
            } else if ft.is_block_device() || ft.is_char_device() {
                Some("a device")
            } else {
                Some("not a regular file")
            };
            match kind {
                None => out.push(Entry::File {
                    path: path.to_path_buf(),
                    display,
                    size: m.len(),
                }),
                Some(k) => out.push(Entry::Skipped {
                    display,
                    reason: format!("{k}, not read"),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_links_and_special_files() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("dump");
        fs::create_dir_all(root.join("b/c")).unwrap();
        fs::write(root.join("b/c/z.txt"), "z").unwrap();
        fs::write(root.join("a.txt"), "aaa").unwrap();
        fs::write(root.join("b/y.txt"), "yy").unwrap();
        std::os::unix::fs::symlink(&root, root.join("b/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("b/link.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("b/broken")).unwrap();
        let fifo = root.join("b/pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path string for the call.
        assert_eq!(unsafe { libc_mkfifo(c.as_ptr(), 0o644) }, 0);
        let got = walk(std::slice::from_ref(&root)).unwrap();
        let shown: Vec<String> = got
            .iter()
            .map(|e| match e {
                Entry::File { display, size, .. } => {
                    let d = String::from_utf8(display.clone()).unwrap();
                    format!("F {} {size}", d.rsplit("dump/").next().unwrap())
                }
                Entry::Skipped { display, .. } => {
                    let d = String::from_utf8(display.clone()).unwrap();
                    format!("S {}", d.rsplit("dump/").next().unwrap())
                }
            })
            .collect();
        assert_eq!(
            shown,
            [
                "F a.txt 3",
                "S b/broken",
                "F b/c/z.txt 1",
                // (A link's target's size.)
                "F b/link.txt 3",
                "S b/loop",
                "S b/pipe",
                "F b/y.txt 2"
            ]
        );
        assert!(matches!(
            walk(&[root.join("nope")]),
            Err(IndexError::MissingInput { .. })
        ));
    }

    #[test]
    fn names_that_are_not_utf8_are_kept_exactly() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("dump");
        let folder = root.join(std::ffi::OsStr::from_bytes(b"r\xe9sum\xe9s"));
        fs::create_dir_all(&folder).unwrap();
        fs::write(
            folder.join(std::ffi::OsStr::from_bytes(b"m\xe9mo.txt")),
            "x",
        )
        .unwrap();
        fs::write(
            folder.join(std::ffi::OsStr::from_bytes(b"m\xe8mo.txt")),
            "y",
        )
        .unwrap();
        let got = walk(std::slice::from_ref(&root)).unwrap();
        let names: Vec<&[u8]> = got
            .iter()
            .map(|e| match e {
                Entry::File { display, .. } => display.as_slice(),
                Entry::Skipped { display, .. } => display.as_slice(),
            })
            .collect();
        assert_eq!(names.len(), 2);
        assert!(names[0].ends_with(b"dump/r\xe9sum\xe9s/m\xe8mo.txt"));
        assert!(names[1].ends_with(b"dump/r\xe9sum\xe9s/m\xe9mo.txt"));
    }

    extern "C" {
        #[link_name = "mkfifo"]
        fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
    }
}
