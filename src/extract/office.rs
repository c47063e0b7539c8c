//! Office documents: Office Open XML (ECMA-376: DOCX, XLSX, PPTX) and
//! OpenDocument (OASIS ODF 1.2: ODT, ODS, ODP), read with `zip` and
//! `quick-xml`; legacy Excel (`.xls`, BIFF in OLE2) with `calamine`.
//!
//! What is read:
//! - DOCX: `word/document.xml`, then footnotes, endnotes, comments, headers
//!   and footers; runs (`w:t`, and deleted text `w:delText`, which a leak
//!   shows as much as the rest), tabs, breaks, one line per paragraph;
//! - XLSX: shared strings and every sheet in file order, cells with their
//!   stored values (strings resolved, numbers as written), tab-separated,
//!   one line per row. Empty cells are not expanded (no dense grid, so a
//!   sheet claiming `XFD1048576` costs nothing);
//! - PPTX: slides in order, then speaker notes; one line per paragraph;
//! - ODT/ODS/ODP: the text under `office:body`; paragraphs and table rows
//!   are lines, cells tab-separated (`table:number-columns-repeated` is not
//!   expanded);
//! - XLS: every sheet through calamine (legacy `.doc`, `.ppt` and `.msg`,
//!   also OLE2, are told apart and read in [`super::ole`]).
//!
//! Every XML entry is read under the archive limits of [`super::archive`].

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use quick_xml::events::Event;
use quick_xml::Reader;
use zip::ZipArchive;

use super::archive::read_zip_entry;
use super::sink::Sink;
use super::{join, Format};

type Zip<'a> = ZipArchive<Cursor<&'a [u8]>>;

/// The Office Open XML formats, each told by the entry it always has.
pub(crate) const OOXML_MARKERS: [(&str, Format); 3] = [
    ("word/document.xml", Format::Docx),
    ("xl/workbook.xml", Format::Xlsx),
    ("ppt/presentation.xml", Format::Pptx),
];

/// The OpenDocument format named by a ZIP's `mimetype` entry, if it is one
/// this crate reads.
pub(crate) fn opendocument_format(mimetype: &[u8]) -> Option<Format> {
    match mimetype.trim_ascii() {
        b"application/vnd.oasis.opendocument.text" => Some(Format::Odt),
        b"application/vnd.oasis.opendocument.spreadsheet" => Some(Format::Ods),
        b"application/vnd.oasis.opendocument.presentation" => Some(Format::Odp),
        _ => None,
    }
}

/// The Office format of a ZIP, told by its inner files ([`OOXML_MARKERS`],
/// then the `mimetype` entry).
pub(crate) fn office_format(zip: &mut Zip<'_>, sink: &mut Sink<'_>) -> Option<Format> {
    if let Some((_, f)) = OOXML_MARKERS
        .iter()
        .find(|(name, _)| zip.index_for_name(name).is_some())
    {
        return Some(*f);
    }
    let i = zip.index_for_name("mimetype")?;
    let mime = read_zip_entry(sink, zip, i, "mimetype")?;
    opendocument_format(&mime)
}

/// Entry names matching `prefix<N>.xml`, in numeric order of N.
fn numbered(zip: &Zip<'_>, prefix: &str) -> Vec<String> {
    let mut v: Vec<(u64, String)> = zip
        .file_names()
        .filter_map(|n| {
            let n = n.ok()?;
            let num = n.strip_prefix(prefix)?.strip_suffix(".xml")?;
            Some((num.parse().ok()?, n.to_string()))
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, n)| n).collect()
}

/// Read an XML entry as UTF-8 text (UTF-16 with a BOM is honoured).
fn xml_entry(sink: &mut Sink<'_>, zip: &mut Zip<'_>, entry: &str, part: &str) -> Option<String> {
    let i = zip.index_for_name(entry)?;
    let data = read_zip_entry(sink, zip, i, &join(part, entry))?;
    Some(match encoding_rs::Encoding::for_bom(&data) {
        Some((enc, bom)) => enc.decode_without_bom_handling(&data[bom..]).0.into_owned(),
        None => String::from_utf8_lossy(&data).into_owned(),
    })
}

/// Extract an Office document already opened as a ZIP into the part `name`.
pub(crate) fn extract_office(sink: &mut Sink<'_>, zip: &mut Zip<'_>, format: Format, name: &str) {
    let mut text = String::new();
    let mut errors: Vec<String> = Vec::new();
    let mut add =
        |sink: &mut Sink<'_>, zip: &mut Zip<'_>, entry: &str, rules: &Rules, text: &mut String| {
            if let Some(xml) = xml_entry(sink, zip, entry, name) {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                if let Err(e) = xml_text(&xml, rules, text) {
                    errors.push(format!("{entry}: {e}"));
                }
            }
        };
    match format {
        Format::Docx => {
            let mut entries = vec![
                "word/document.xml".to_owned(),
                "word/footnotes.xml".to_owned(),
                "word/endnotes.xml".to_owned(),
                "word/comments.xml".to_owned(),
            ];
            entries.extend(numbered(zip, "word/header"));
            entries.extend(numbered(zip, "word/footer"));
            for e in &entries {
                add(sink, zip, e, &DOCX, &mut text);
            }
        }
        Format::Pptx => {
            let mut entries = numbered(zip, "ppt/slides/slide");
            entries.extend(numbered(zip, "ppt/notesSlides/notesSlide"));
            for e in &entries {
                add(sink, zip, e, &PPTX, &mut text);
            }
        }
        Format::Odt | Format::Ods | Format::Odp => add(sink, zip, "content.xml", &ODF, &mut text),
        Format::Xlsx => {
            let shared = xml_entry(sink, zip, "xl/sharedStrings.xml", name)
                .map(|x| shared_strings(&x, &mut errors))
                .unwrap_or_default();
            for e in numbered(zip, "xl/worksheets/sheet") {
                if let Some(xml) = xml_entry(sink, zip, &e, name) {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    if let Err(err) = sheet_text(&xml, &shared, &mut text) {
                        errors.push(format!("{e}: {err}"));
                    }
                }
            }
        }
        _ => {}
    }
    if !errors.is_empty() {
        sink.skip(
            name,
            format!(
                "malformed XML, text kept up to the error: {}",
                errors.join("; ")
            ),
        );
    }
    sink.text(name, format, text);
}

/// How to turn one XML vocabulary into lines of text.
struct Rules {
    /// Text is kept only inside one of these elements (local names).
    text_in: &'static [&'static str],
    /// Elements whose end ends a line.
    line_after: &'static [&'static str],
    /// Empty or start elements that are a line break.
    line_at: &'static [&'static str],
    /// Empty or start elements that are a tab.
    tab_at: &'static [&'static str],
    /// Empty or start elements that are a space.
    space_at: &'static [&'static str],
    /// Table cells: their end is a tab, and line ends inside them are spaces.
    cell: &'static [&'static str],
}

const DOCX: Rules = Rules {
    text_in: &["t", "delText"],
    line_after: &["p"],
    line_at: &["br", "cr"],
    tab_at: &["tab"],
    space_at: &[],
    cell: &[],
};

const PPTX: Rules = Rules {
    text_in: &["t"],
    line_after: &["p"],
    line_at: &["br"],
    tab_at: &[],
    space_at: &[],
    cell: &[],
};

const ODF: Rules = Rules {
    text_in: &["body"],
    line_after: &["p", "h", "table-row", "list-item"],
    line_at: &["line-break"],
    tab_at: &["tab"],
    space_at: &["s"],
    cell: &["table-cell", "covered-table-cell"],
};

fn local(name: &str) -> &[u8] {
    name.rsplit(':').next().unwrap_or(name).as_bytes()
}

fn is_in(list: &[&str], name: &[u8]) -> bool {
    list.iter().any(|n| n.as_bytes() == name)
}

/// A general or character reference as text (`&amp;`, `&#8217;`).
fn reference(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let s = match &*r.xml10_content() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    };
    Some(s.to_owned())
}

fn new_reader(xml: &str) -> Reader<&[u8]> {
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    reader
}

/// Append the text of `xml` to `out` by `rules`; on malformed XML the text
/// read so far stays.
fn xml_text(xml: &str, rules: &Rules, out: &mut String) -> Result<(), quick_xml::Error> {
    let mut reader = new_reader(xml);
    let mut inside = 0usize;
    let mut cells = 0usize;
    loop {
        match reader.read_event()? {
            Event::Start(e) => {
                let n = e.local_name();
                let n = local(n.as_ref());
                if is_in(rules.text_in, n) {
                    inside += 1;
                }
                if is_in(rules.cell, n) {
                    cells += 1;
                }
                inline(rules, n, inside, out);
            }
            Event::Empty(e) => {
                let n = e.local_name();
                let n = local(n.as_ref());
                inline(rules, n, inside, out);
                if is_in(rules.cell, n) && inside > 0 {
                    out.push('\t');
                }
            }
            Event::End(e) => {
                let n = e.local_name();
                let n = local(n.as_ref());
                if is_in(rules.text_in, n) {
                    inside = inside.saturating_sub(1);
                }
                if is_in(rules.cell, n) {
                    cells = cells.saturating_sub(1);
                    if inside > 0 {
                        trim_end_spaces(out);
                        out.push('\t');
                    }
                } else if is_in(rules.line_after, n) && (inside > 0 || rules.text_in != ODF.text_in)
                {
                    if cells > 0 {
                        out.push(' ');
                    } else {
                        trim_end_tabs(out);
                        out.push('\n');
                    }
                }
            }
            Event::Text(t) if inside > 0 => out.push_str(&t.xml10_content()),
            Event::CData(t) if inside > 0 => out.push_str(&t.into_inner()),
            Event::GeneralRef(r) if inside > 0 => {
                if let Some(s) = reference(&r) {
                    out.push_str(&s);
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn inline(rules: &Rules, n: &[u8], inside: usize, out: &mut String) {
    if inside == 0 && rules.text_in == ODF.text_in {
        return;
    }
    if is_in(rules.line_at, n) {
        out.push('\n');
    } else if is_in(rules.tab_at, n) {
        out.push('\t');
    } else if is_in(rules.space_at, n) {
        out.push(' ');
    }
}

fn trim_end_spaces(s: &mut String) {
    let keep = s.trim_end_matches(' ').len();
    s.truncate(keep);
}

fn trim_end_tabs(s: &mut String) {
    let keep = s.trim_end_matches(['\t', ' ']).len();
    s.truncate(keep);
}

/// The shared string table of an XLSX (`si` items; phonetic runs dropped).
fn shared_strings(xml: &str, errors: &mut Vec<String>) -> Vec<String> {
    let mut reader = new_reader(xml);
    let mut strings = Vec::new();
    let mut cur = String::new();
    let (mut in_t, mut in_rph) = (false, false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => match local(e.local_name().as_ref()) {
                b"si" => cur.clear(),
                b"t" => in_t = true,
                b"rPh" => in_rph = true,
                _ => {}
            },
            Ok(Event::End(e)) => match local(e.local_name().as_ref()) {
                b"si" => strings.push(std::mem::take(&mut cur)),
                b"t" => in_t = false,
                b"rPh" => in_rph = false,
                _ => {}
            },
            Ok(Event::Text(t)) if in_t && !in_rph => cur.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) if in_t && !in_rph => {
                if let Some(s) = reference(&r) {
                    cur.push_str(&s);
                }
            }
            Ok(Event::Eof) => break,
            Err(e) => {
                errors.push(format!("xl/sharedStrings.xml: {e}"));
                break;
            }
            _ => {}
        }
    }
    strings
}

/// One XLSX worksheet: cells tab-separated, rows on lines.
fn sheet_text(xml: &str, shared: &[String], out: &mut String) -> Result<(), quick_xml::Error> {
    let mut reader = new_reader(xml);
    let mut kind = String::new();
    let mut value = String::new();
    let (mut in_v, mut in_t, mut in_c, mut row_has) = (false, false, false, false);
    loop {
        match reader.read_event()? {
            Event::Start(e) => match local(e.local_name().as_ref()) {
                b"c" => {
                    in_c = true;
                    value.clear();
                    kind = e
                        .try_get_attribute("t")
                        .ok()
                        .flatten()
                        .map(|a| a.value.into_owned())
                        .unwrap_or_default();
                }
                b"v" => in_v = true,
                b"t" => in_t = true,
                _ => {}
            },
            Event::End(e) => match local(e.local_name().as_ref()) {
                b"c" => {
                    in_c = false;
                    let cell = if kind == "s" {
                        value
                            .trim()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| shared.get(i))
                            .cloned()
                            .unwrap_or_default()
                    } else {
                        std::mem::take(&mut value)
                    };
                    if !cell.is_empty() {
                        if row_has {
                            out.push('\t');
                        }
                        out.push_str(&cell);
                        row_has = true;
                    }
                }
                b"v" => in_v = false,
                b"t" => in_t = false,
                b"row" => {
                    if row_has {
                        out.push('\n');
                    }
                    row_has = false;
                }
                _ => {}
            },
            Event::Text(t) if in_c && (in_v || in_t) => value.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_c && (in_v || in_t) => {
                if let Some(s) = reference(&r) {
                    value.push_str(&s);
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// Legacy Excel (BIFF in an OLE2 compound file whose chains were checked
/// by [`ole_chains_are_finite`]), through calamine.
pub(crate) fn extract_xls(sink: &mut Sink<'_>, bytes: &[u8], name: &str) -> Format {
    let read = catch_unwind(AssertUnwindSafe(|| xls_text(bytes)));
    match read {
        Ok(Ok(text)) => {
            sink.text(name, Format::Xls, text);
            Format::Xls
        }
        Ok(Err(e)) => {
            sink.skip(name, format!("legacy Excel file not readable: {e}"));
            sink.binary(name, Format::Binary);
            Format::Binary
        }
        Err(_) => {
            sink.skip(name, "legacy Excel reader panicked: kept as binary");
            sink.binary(name, Format::Binary);
            Format::Binary
        }
    }
}

/// Check an OLE2 (CFB) file's FAT and MiniFAT for loops, so that any chain
/// a reader follows ends within the file's sector count. Reads only what
/// the header points to; every index is bounds-checked.
pub(crate) fn ole_chains_are_finite(b: &[u8]) -> Result<(), String> {
    let u16_at = |o: usize| b.get(o..o + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    let shift = u16_at(0x1E).ok_or("header truncated")?;
    if shift != 9 && shift != 12 {
        return Err(format!("sector shift {shift} (9 or 12 expected)"));
    }
    let ss = 1usize << shift;
    let sectors = (b.len() / ss).saturating_sub(1);
    let sector = |id: u32| -> Option<&[u8]> {
        let at = (id as usize).checked_add(1)?.checked_mul(ss)?;
        b.get(at..at + ss)
    };
    // FAT sector ids: 109 in the header, then the DIFAT chain.
    let n_fat = u32_at(0x2C).ok_or("header truncated")? as usize;
    if n_fat > sectors {
        return Err(format!(
            "{n_fat} FAT sectors declared in a file of {sectors} sectors"
        ));
    }
    let mut fat_ids: Vec<u32> = (0..n_fat.min(109))
        .filter_map(|i| u32_at(0x4C + 4 * i))
        .collect();
    let mut difat = u32_at(0x44).ok_or("header truncated")?;
    let mut hops = 0;
    while fat_ids.len() < n_fat && difat < 0xFFFF_FFFA {
        hops += 1;
        let sec = sector(difat).ok_or("DIFAT sector outside the file")?;
        if hops > sectors {
            return Err("loop in the DIFAT chain".into());
        }
        for i in 0..ss / 4 - 1 {
            if fat_ids.len() < n_fat {
                fat_ids.push(u32::from_le_bytes(
                    sec[4 * i..4 * i + 4].try_into().expect("4 bytes"),
                ));
            }
        }
        difat = u32::from_le_bytes(sec[ss - 4..].try_into().expect("4 bytes"));
    }
    let mut fat = Vec::with_capacity(fat_ids.len() * ss / 4);
    for id in fat_ids {
        let sec = sector(id).ok_or("FAT sector outside the file")?;
        fat.extend(
            sec.chunks_exact(4)
                .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]])),
        );
    }
    cycle_free(&fat).map_err(|at| format!("loop in the FAT chain through sector {at}"))?;
    // The MiniFAT is itself a FAT chain (now known to end) of entries.
    let mut minifat = Vec::new();
    let mut next = u32_at(0x3C).ok_or("header truncated")?;
    while (next as usize) < fat.len() {
        let sec = sector(next).ok_or("MiniFAT sector outside the file")?;
        minifat.extend(
            sec.chunks_exact(4)
                .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]])),
        );
        next = fat[next as usize];
    }
    cycle_free(&minifat).map_err(|at| format!("loop in the MiniFAT chain through entry {at}"))
}

/// `Err(node)` when following `next = table[node]` from some node loops.
/// Values at or past `table.len()` (end of chain, free, special) end a chain.
fn cycle_free(table: &[u32]) -> Result<(), usize> {
    // 0: not seen, 1: on the current path, 2: known to end.
    let mut state = vec![0u8; table.len()];
    let mut path = Vec::new();
    for start in 0..table.len() {
        let mut at = start;
        while at < table.len() && state[at] == 0 {
            state[at] = 1;
            path.push(at);
            at = table[at] as usize;
        }
        if at < table.len() && state[at] == 1 {
            return Err(at);
        }
        for p in path.drain(..) {
            state[p] = 2;
        }
    }
    Ok(())
}

fn xls_text(bytes: &[u8]) -> Result<String, calamine::XlsError> {
    use calamine::Reader as _;
    let mut book = calamine::Xls::new(Cursor::new(bytes))?;
    let mut out = String::new();
    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet)?;
        if !out.is_empty() {
            out.push('\n');
        }
        for row in range.rows() {
            let cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
            let line = cells.join("\t");
            let line = line.trim_end_matches('\t');
            if !line.is_empty() {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}
