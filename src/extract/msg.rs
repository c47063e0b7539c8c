//! Outlook `.msg` files: a compound file of MAPI properties ([MS-OXMSG]).
//!
//! Variable-length properties are streams named `__substg1.0_IIIITTTT`
//! (property id and type in hex: `001F` UTF-16LE, `001E` 8-bit, `0102`
//! binary); fixed-size ones (integers, booleans, times) are 16-byte entries
//! of the `__properties_version1.0` stream after its header (32 bytes for
//! the top message, 24 for an embedded one, 8 for recipients and
//! attachments). Recipients and attachments are the storages
//! `__recip_version1.0_#N` and `__attach_version1.0_#N`; an embedded
//! message is the storage `__substg1.0_3701000D` of its attachment, read
//! the same way (depth bounded by `max_depth`). The compound file itself is
//! read with the `cfb` crate; every stream is read with a cap of the file's
//! own size (no stream can be longer), so a forged length costs nothing.
//! The message becomes parts through [`super::mapi::emit_message`].

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use cfb::CompoundFile;

use super::mapi::{AttachData, Attachment, Message, Props, Value};

/// Is this compound file an Outlook message?
pub(crate) fn is_msg<F: Read + Seek>(cf: &CompoundFile<F>) -> bool {
    cf.is_stream("/__properties_version1.0")
        || cf
            .read_root_storage()
            .any(|e| e.name().starts_with("__substg1.0_"))
}

/// Read the message stored at `root`, with its fixed-property header of
/// `header` bytes; `depth` embedded levels may still be read below it.
///
/// # Errors
/// When a stream of the message cannot be read.
pub(crate) fn read_message<F: Read + Seek>(
    cf: &mut CompoundFile<F>,
    root: &Path,
    header: usize,
    cap: u64,
    depth: usize,
) -> Result<Message, String> {
    let mut m = Message {
        props: read_props(cf, root, header, cap)?,
        ..Message::default()
    };
    let mut recips: Vec<PathBuf> = Vec::new();
    let mut attachs: Vec<PathBuf> = Vec::new();
    let entries = cf
        .read_storage(root)
        .map_err(|e| format!("storage {}: {e}", root.display()))?;
    for e in entries {
        if e.is_storage() {
            if e.name().starts_with("__recip_version1.0_") {
                recips.push(e.path().to_path_buf());
            } else if e.name().starts_with("__attach_version1.0_") {
                attachs.push(e.path().to_path_buf());
            }
        }
    }
    recips.sort();
    attachs.sort();
    for r in recips {
        m.recipients.push(read_props(cf, &r, 8, cap)?);
    }
    for a in attachs {
        let props = read_props(cf, &a, 8, cap)?;
        let embedded = a.join("__substg1.0_3701000D");
        let data = if cf.is_storage(&embedded) {
            if depth == 0 {
                AttachData::Missing("embedded message nested deeper than max_depth".into())
            } else {
                match read_message(cf, &embedded, 24, cap, depth - 1) {
                    Ok(inner) => AttachData::Message(Box::new(inner)),
                    Err(e) => AttachData::Missing(format!("embedded message not readable: {e}")),
                }
            }
        } else {
            match props.bin(super::mapi::id::ATTACH_DATA) {
                Some(b) => AttachData::Bytes(b.to_vec()),
                None => AttachData::Missing(format!(
                    "attachment holds no data (attach method {})",
                    props.int(super::mapi::id::ATTACH_METHOD).unwrap_or(0)
                )),
            }
        };
        m.attachments.push(Attachment { props, data });
    }
    Ok(m)
}

fn read_stream<F: Read + Seek>(
    cf: &mut CompoundFile<F>,
    path: &Path,
    cap: u64,
) -> Result<Vec<u8>, String> {
    let mut s = cf
        .open_stream(path)
        .map_err(|e| format!("stream {}: {e}", path.display()))?;
    let len = s.len();
    if len > cap {
        return Err(format!(
            "stream {} claims {len} bytes, more than the file holds",
            path.display()
        ));
    }
    let mut out = Vec::with_capacity(len as usize);
    s.by_ref()
        .take(len)
        .read_to_end(&mut out)
        .map_err(|e| format!("stream {}: {e}", path.display()))?;
    Ok(out)
}

/// The properties of the object stored at `dir`.
fn read_props<F: Read + Seek>(
    cf: &mut CompoundFile<F>,
    dir: &Path,
    header: usize,
    cap: u64,
) -> Result<Props, String> {
    let mut props = Props::default();
    let streams: Vec<(PathBuf, String)> = cf
        .read_storage(dir)
        .map_err(|e| format!("storage {}: {e}", dir.display()))?
        .filter(|e| e.is_stream())
        .map(|e| (e.path().to_path_buf(), e.name().to_owned()))
        .collect();
    for (path, name) in streams {
        if name == "__properties_version1.0" {
            let data = read_stream(cf, &path, cap)?;
            fixed_props(data.get(header..).unwrap_or(&[]), &mut props);
            continue;
        }
        let Some(tag) = name
            .strip_prefix("__substg1.0_")
            .filter(|t| t.len() == 8)
            .and_then(|t| u32::from_str_radix(t, 16).ok())
        else {
            continue;
        };
        let (id, ty) = ((tag >> 16) as u16, tag as u16);
        let value = match ty {
            0x001F => {
                let d = read_stream(cf, &path, cap)?;
                Value::Str(
                    char::decode_utf16(d.chunks_exact(2).map(|u| u16::from_le_bytes([u[0], u[1]])))
                        .map(|c| c.unwrap_or('\u{FFFD}'))
                        .collect(),
                )
            }
            0x001E => Value::Str8(read_stream(cf, &path, cap)?),
            0x0102 => Value::Bin(read_stream(cf, &path, cap)?),
            _ => continue,
        };
        props.0.insert(id, value);
    }
    Ok(props)
}

/// Fixed-size property entries ([MS-OXMSG] §2.4.2.1): tag, flags, 8 bytes.
pub(crate) fn fixed_props(entries: &[u8], props: &mut Props) {
    for e in entries.chunks_exact(16) {
        let tag = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        let (id, ty) = ((tag >> 16) as u16, tag as u16);
        let v = i64::from_le_bytes(e[8..16].try_into().unwrap_or([0; 8]));
        let value = match ty {
            0x0002 => Value::Int(i64::from(v as i16)),
            0x0003 => Value::Int(i64::from(v as i32)),
            0x000B => Value::Int(i64::from(v as u8 != 0)),
            0x0014 => Value::Int(v),
            0x0040 => Value::Time(v),
            _ => continue,
        };
        props.0.entry(id).or_insert(value);
    }
}
