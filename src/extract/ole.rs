//! OLE2 compound files ([MS-CFB]): legacy Word, PowerPoint and Excel
//! documents and Outlook `.msg` messages, told apart by their streams.
//!
//! - `WordDocument` (with its `0Table`/`1Table`): Word 97-2003, [`super::doc`];
//! - `PowerPoint Document`: PowerPoint 97-2003, [`super::ppt`];
//! - `__substg1.0_*` streams or `__properties_version1.0`: an Outlook
//!   message, [`super::msg`] and [`super::mapi`];
//! - `Workbook` or `Book`: legacy Excel, read by calamine;
//! - anything else (an embedded OLE object, a Visio or MSI file) is kept as
//!   binary, its first stream names in the reason.
//!
//! Every file's sector chains are first checked to end
//! ([`super::office::ole_chains_are_finite`]): a looping chain is refused
//! before any reader follows it. The compound file is then opened with the
//! `cfb` crate (MIT; it checks the header, directory and allocation
//! tables) under `catch_unwind`. Streams are read with the file's size as
//! their cap. Documents protected with a password (Word's `fEncrypted`,
//! PowerPoint's `EncryptedSummary` stream) are reported, not read. These
//! readers run in the extraction worker when isolation is on, like the
//! other legacy Office parsers.

use std::io::{Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use cfb::CompoundFile;

use super::sink::Sink;
use super::{doc, mapi, msg, office, ppt, Format};

type Ole<'a> = CompoundFile<Cursor<&'a [u8]>>;

/// Read an OLE2 compound file whose part is `name` at container `depth`.
pub(crate) fn extract_ole(
    sink: &mut Sink<'_>,
    bytes: &[u8],
    name_hint: &str,
    name: &str,
    depth: usize,
) -> Format {
    if let Err(why) = office::ole_chains_are_finite(bytes) {
        return binary(sink, name, format!("corrupt OLE2 compound file: {why}"));
    }
    let opened = catch_unwind(AssertUnwindSafe(|| CompoundFile::open(Cursor::new(bytes))));
    let mut cf = match opened {
        Ok(Ok(cf)) => cf,
        Ok(Err(e)) => {
            // calamine reads some files that cfb refuses (and names why).
            if name_hint.to_ascii_lowercase().ends_with(".xls") {
                return office::extract_xls(sink, bytes, name);
            }
            return binary(sink, name, format!("OLE2 compound file not readable: {e}"));
        }
        Err(_) => return binary(sink, name, "OLE2 reader panicked".to_owned()),
    };
    let run = catch_unwind(AssertUnwindSafe(|| {
        if cf.is_stream("/WordDocument") {
            Some(read_doc(sink, &mut cf, bytes.len() as u64, name))
        } else if cf.is_stream("/PowerPoint Document") {
            Some(read_ppt(sink, &mut cf, bytes.len() as u64, name))
        } else if msg::is_msg(&cf) {
            Some(read_msg(sink, &mut cf, bytes.len() as u64, name, depth))
        } else if cf.is_stream("/Workbook") || cf.is_stream("/Book") {
            None
        } else {
            let streams: Vec<String> = cf
                .read_root_storage()
                .take(8)
                .map(|e| e.name().to_owned())
                .collect();
            Some(binary(
                sink,
                name,
                format!(
                    "OLE2 compound file with no Word, PowerPoint, Excel or Outlook stream (holds: {})",
                    streams.join(", ")
                ),
            ))
        }
    }));
    match run {
        Ok(Some(format)) => format,
        Ok(None) => office::extract_xls(sink, bytes, name),
        Err(_) => binary(sink, name, "legacy Office reader panicked".to_owned()),
    }
}

fn binary(sink: &mut Sink<'_>, name: &str, why: String) -> Format {
    sink.skip(name, format!("{why}; kept as binary"));
    sink.binary(name, Format::Binary);
    Format::Binary
}

/// The note for text cut at `len` bytes by `max_part_text`.
fn note_cut(sink: &mut Sink<'_>, name: &str, cut: bool, len: usize) {
    if cut {
        let max = sink.limits.max_part_text;
        sink.skip(
            name,
            format!("text cut at {len} bytes (limit max_part_text = {max})"),
        );
    }
}

fn stream(cf: &mut Ole<'_>, path: &str, cap: u64) -> Result<Vec<u8>, String> {
    let mut s = cf.open_stream(path).map_err(|e| format!("{path}: {e}"))?;
    if s.len() > cap {
        return Err(format!(
            "{path} claims {} bytes, more than the file",
            s.len()
        ));
    }
    let mut out = Vec::with_capacity(s.len() as usize);
    s.by_ref()
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| format!("{path}: {e}"))?;
    Ok(out)
}

fn read_doc(sink: &mut Sink<'_>, cf: &mut Ole<'_>, cap: u64, name: &str) -> Format {
    let result = stream(cf, "/WordDocument", cap).and_then(|word| {
        let table_name = doc::table_stream_name(&word)?;
        let table = stream(cf, &format!("/{table_name}"), cap)?;
        doc::doc_text(&word, &table, sink.limits.max_part_text)
    });
    match result {
        Ok((text, cut)) => {
            note_cut(sink, name, cut, text.len());
            sink.text(name, Format::Doc, text);
            Format::Doc
        }
        Err(e) => {
            sink.skip(name, format!("Word document not readable: {e}"));
            sink.binary(name, Format::Doc);
            Format::Doc
        }
    }
}

fn read_ppt(sink: &mut Sink<'_>, cf: &mut Ole<'_>, cap: u64, name: &str) -> Format {
    if cf.exists("/EncryptedSummary") {
        sink.skip(name, "encrypted PowerPoint presentation: needs a password");
        sink.binary(name, Format::Ppt);
        return Format::Ppt;
    }
    match stream(cf, "/PowerPoint Document", cap) {
        Ok(data) => {
            let (text, cut, rest) = ppt::ppt_text(&data, sink.limits.max_part_text);
            if rest > 0 {
                sink.skip(
                    name,
                    format!(
                        "PowerPoint record stream truncated or corrupt: last {rest} bytes not read"
                    ),
                );
            }
            note_cut(sink, name, cut, text.len());
            sink.text(name, Format::Ppt, text);
        }
        Err(e) => {
            sink.skip(name, format!("PowerPoint presentation not readable: {e}"));
            sink.binary(name, Format::Ppt);
        }
    }
    Format::Ppt
}

fn read_msg(sink: &mut Sink<'_>, cf: &mut Ole<'_>, cap: u64, name: &str, depth: usize) -> Format {
    let levels = sink.limits.max_depth.saturating_sub(depth + 1);
    match msg::read_message(cf, Path::new("/"), 32, cap, levels) {
        Ok(m) => mapi::emit_message(sink, &m, name, Format::Msg, depth),
        Err(e) => {
            sink.skip(name, format!("Outlook message not readable: {e}"));
            sink.binary(name, Format::Msg);
        }
    }
    Format::Msg
}
