//! Names of files and parts: exact bytes kept, shown without loss.
//!
//! Evidence must name the real file. A path from a file system or a
//! container entry may be any bytes (old Windows shares, ZIP entries in
//! CP437 or Shift_JIS without the UTF-8 flag). The index keeps the bytes
//! exactly; people and JSON get [`display`]: the bytes when they are UTF-8,
//! else their valid UTF-8 runs with every other byte written `\xNN`, so two
//! names that differ only in such bytes stay apart and the bytes can be
//! recovered ([`parse_display`]). A literal backslash in a non-UTF-8 name
//! is written `\\` so the escape is unambiguous; UTF-8 names are shown as
//! they are (no escaping at all), and [`is_escaped`] tells the two apart by
//! the index's flag, not by the text.
//!
//! A part inside a container is `file path#part name` ([`join_part`]); `#`
//! inside a container entry's own name is written `%23` by the extractors.

/// The display form of a name's bytes (see the module docs).
pub fn display(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => escape(bytes),
    }
}

/// Whether a name's bytes need the escaped display form.
pub fn is_escaped(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_err()
}

/// Valid UTF-8 runs kept, `\` doubled, every other byte `\xNN`.
fn escape(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                push_run(&mut out, s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                // `good` is valid UTF-8 by `valid_up_to`.
                push_run(&mut out, std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len()).max(1);
                for b in &rest[..bad] {
                    out.push_str(&format!("\\x{b:02X}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

fn push_run(out: &mut String, s: &str) {
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
}

/// The bytes of an escaped display form ([`display`] of non-UTF-8 bytes);
/// `None` when `s` is not such a form.
pub fn parse_display(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match b.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                }
                Some(b'x') => {
                    let hex = s.get(i + 2..i + 4)?;
                    out.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 4;
                }
                _ => return None,
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// A name decoded for people when its bytes are not UTF-8: the legacy
/// encoding `chardetng` guesses for them (Windows-1252 for `r\xE9sum\xE9`,
/// Shift_JIS, ...), or `None` when the bytes are UTF-8 (they are their own
/// decoding).
pub fn decoded_guess(bytes: &[u8]) -> Option<String> {
    if std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    det.feed(bytes, true);
    let enc = det.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _, _) = enc.decode(bytes);
    Some(text.into_owned())
}

/// `file#part`, or the file alone for its own text.
pub fn join_part(file: &str, part: &str) -> String {
    if part.is_empty() {
        file.to_owned()
    } else {
        format!("{file}#{part}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(display(b"dump/a.txt"), "dump/a.txt");
        assert_eq!(display(b"dump\\a.txt"), "dump\\a.txt");
        let raw = b"r\xe9sum\xe9s/m\xe9mo.txt";
        assert_eq!(display(raw), "r\\xE9sum\\xE9s/m\\xE9mo.txt");
        assert_eq!(decoded_guess(raw).as_deref(), Some("résumés/mémo.txt"));
        assert_eq!(display(b"a\\b\xff"), "a\\\\b\\xFF");
        assert_ne!(display(b"x\xe9"), display(b"x\xe8"));
        assert_eq!(join_part("a.zip", ""), "a.zip");
        assert_eq!(join_part("a.zip", "b/c.txt"), "a.zip#b/c.txt");
    }

    proptest! {
        #[test]
        fn non_utf8_names_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let d = display(&bytes);
            if is_escaped(&bytes) {
                prop_assert_eq!(parse_display(&d), Some(bytes.clone()));
            } else {
                prop_assert_eq!(d.as_bytes(), &bytes[..]);
            }
        }

        #[test]
        fn distinct_names_stay_distinct(a in proptest::collection::vec(any::<u8>(), 0..16),
                                        b in proptest::collection::vec(any::<u8>(), 0..16)) {
            if a != b && is_escaped(&a) == is_escaped(&b) {
                prop_assert_ne!(display(&a), display(&b));
            }
        }
    }
}
