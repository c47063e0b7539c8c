//! Outlook mail stores: PST and OST files ([MS-PST]), read message by
//! message.
//!
//! Layers: [`ndb`] (header, node and block B-trees, data and subnode trees,
//! block decoding), [`ltp`] (heaps, BTHs, property and table contexts),
//! and here the messaging layer (§2.4): the store's property context
//! (node `0x21`) names the IPM subtree (the "Top of Personal Folders"); the
//! folder tree is walked from the root folder (node `0x122`) through each
//! folder's hierarchy table (node type `0x0D`), and each folder's contents
//! table (`0x0E`) lists its messages. A message is its property context,
//! its recipient table (subnode `0x692`) and attachment table (`0x671`),
//! and one subnode per attachment; an embedded message is a subnode of its
//! attachment. Each message becomes parts through
//! [`super::mapi::emit_message`] and is dropped before the next is read:
//! memory holds one message (and its attachments) at a time, plus the
//! names used in the current folder (for uniqueness).
//!
//! Why our own reader and not Microsoft's `outlook-pst` crate (MIT, 1.2,
//! rust-version 1.82, well kept): it reads only from a `'static`
//! `Read + Seek` (a borrowed mapped file would have to be copied whole into
//! memory: a 5 GB store, 5 GB of RAM), it caches every B-tree page it
//! visits for the life of the store (memory grows with the store), and it
//! does not read the Outlook 2013 OST either. This reader works in place
//! on the bytes, caches nothing, and checks every offset.
//!
//! Naming: `Inbox/2014-11-24 Subject` — the folder path below the IPM
//! subtree (folders outside it, such as search roots, by their path from
//! the root), then the message's delivery date (else submit, else creation
//! date, else none) and subject; `/` and `#` in names become `%2F` and
//! `%23`; a name already used in its folder gets `~2`, `~3`... in contents
//! table order, so names are unique and the same on every run.
//!
//! Refused with the reason: files that are not PSTs, unknown versions, the
//! Outlook 2013 4 KiB-page OST (`wVer` 36), stores whose blocks use an
//! unknown encoding (`bCryptMethod` other than none, permute, cyclic). A
//! store password (`PidTagPstPassword`) protects nothing in the format:
//! such stores are read, with a note. A corrupt folder or message is a note
//! naming it; the walk goes on.

mod crypt;
mod ltp;
mod ndb;

use std::collections::HashSet;

use super::mapi::{self, AttachData, Attachment, Message, Props};
use super::sink::Sink;
use super::{clean_name, join, Format};
use ltp::Heap;
use ndb::{Ndb, Node};

pub(crate) use ndb::is_pst;

const NID_MESSAGE_STORE: u32 = 0x21;
const NID_ROOT_FOLDER: u32 = 0x122;
const NID_RECIPIENT_TABLE: u32 = 0x692;
const NID_ATTACHMENT_TABLE: u32 = 0x671;
const IPM_SUBTREE_ENTRYID: u16 = 0x35E0;
const PST_PASSWORD: u16 = 0x67FF;

/// Most folders walked in one store (a loop in a forged hierarchy ends).
const MAX_FOLDERS: usize = 100_000;
/// Longest subject kept in a part name, in characters.
const NAME_SUBJECT: usize = 80;

type R<T> = Result<T, String>;

/// Read a PST/OST whose part is `name` at container `depth`.
pub(crate) fn extract_pst(sink: &mut Sink<'_>, bytes: &[u8], name: &str, depth: usize) -> Format {
    let ndb = match Ndb::open(bytes) {
        Ok(n) => n,
        Err(e) => {
            sink.skip(name, format!("Outlook store not read: {e}; kept as binary"));
            return Format::Pst;
        }
    };
    if depth + 1 > sink.limits.max_depth {
        sink.skip(
            name,
            format!("nested deeper than max_depth = {}", sink.limits.max_depth),
        );
        return Format::Pst;
    }
    let max = usize::try_from(sink.limits.max_expanded).unwrap_or(usize::MAX);
    let store = node_props(&ndb, NID_MESSAGE_STORE, max);
    let ipm = match &store {
        Ok(p) => p
            .bin(IPM_SUBTREE_ENTRYID)
            .and_then(|e| e.get(20..24))
            .map(|n| u32::from_le_bytes([n[0], n[1], n[2], n[3]])),
        Err(e) => {
            sink.skip(name, format!("message store properties not readable: {e}"));
            None
        }
    };
    if let Ok(p) = &store {
        if p.int(PST_PASSWORD).is_some_and(|pw| pw != 0) {
            sink.skip(
                name,
                "store has a password (PST passwords do not encrypt the data): read anyway",
            );
        }
    }
    let mut walker = Walker {
        ndb: &ndb,
        ipm,
        max,
        file: name,
        depth,
        folders: 0,
    };
    if let Err(e) = walker.walk(sink) {
        sink.skip(name, format!("folder tree not readable: {e}"));
    }
    Format::Pst
}

fn node_props(ndb: &Ndb<'_>, nid: u32, max: usize) -> R<Props> {
    let node = ndb
        .node(nid)?
        .ok_or_else(|| format!("node {nid:#x} not found"))?;
    Heap::open(ndb, node, max)?.props()
}

/// A folder or subject as one part-name component.
fn component(raw: &str) -> String {
    clean_name(raw.trim()).replace('/', "%2F")
}

struct Walker<'n, 'a> {
    ndb: &'n Ndb<'a>,
    ipm: Option<u32>,
    max: usize,
    file: &'n str,
    depth: usize,
    folders: usize,
}

impl Walker<'_, '_> {
    fn walk(&mut self, sink: &mut Sink<'_>) -> R<()> {
        let mut seen: HashSet<u32> = HashSet::new();
        let mut stack: Vec<(u32, String)> = vec![(NID_ROOT_FOLDER, String::new())];
        while let Some((nid, path)) = stack.pop() {
            if sink.is_full() {
                return Ok(());
            }
            if !seen.insert(nid) || self.folders >= MAX_FOLDERS {
                continue;
            }
            self.folders += 1;
            let label = if path.is_empty() { "(root)" } else { &path };
            if let Err(e) = self.folder_messages(sink, nid, &path) {
                sink.skip(
                    &join(self.file, label),
                    format!("folder not fully readable: {e}"),
                );
            }
            match self.children(nid) {
                Ok(children) => {
                    for (child, display) in children.into_iter().rev() {
                        let child_path = if Some(child) == self.ipm {
                            String::new()
                        } else if path.is_empty() {
                            component(&display)
                        } else {
                            format!("{path}/{}", component(&display))
                        };
                        stack.push((child, child_path));
                    }
                }
                Err(e) => sink.skip(
                    &join(self.file, label),
                    format!("subfolders not readable: {e}"),
                ),
            }
        }
        Ok(())
    }

    /// The subfolders of a folder: (node id, display name).
    fn children(&self, nid: u32) -> R<Vec<(u32, String)>> {
        let table = (nid & !0x1F) | 0x0D;
        let Some(node) = self.ndb.node(table)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        Heap::open(self.ndb, node, self.max)?.rows(&mut |row, _| {
            let display = node_props(self.ndb, row, self.max)
                .ok()
                .and_then(|p| p.str(mapi::id::DISPLAY_NAME, encoding_rs::WINDOWS_1252))
                .unwrap_or_else(|| format!("folder {row:#x}"));
            out.push((row, display));
            Ok(())
        })?;
        Ok(out)
    }

    fn folder_messages(&self, sink: &mut Sink<'_>, nid: u32, path: &str) -> R<()> {
        let table = (nid & !0x1F) | 0x0E;
        let Some(node) = self.ndb.node(table)? else {
            return Ok(());
        };
        let mut used: HashSet<String> = HashSet::new();
        Heap::open(self.ndb, node, self.max)?.rows(&mut |row, _| {
            if sink.is_full() {
                return Ok(());
            }
            let levels = sink.limits.max_depth.saturating_sub(self.depth + 2);
            let message = self
                .ndb
                .node(row)
                .and_then(|n| n.ok_or_else(|| format!("message node {row:#x} not found")))
                .and_then(|n| self.message(n, levels));
            let base = match &message {
                Ok(m) => message_name(m),
                Err(_) => format!("message {row:#x}"),
            };
            let base = if path.is_empty() {
                base
            } else {
                format!("{path}/{base}")
            };
            let unique = super::mail::unique_name(&mut used, &base);
            let pname = join(self.file, &unique);
            match message {
                Ok(m) => mapi::emit_message(sink, &m, &pname, Format::Msg, self.depth + 1),
                Err(e) => sink.skip(&pname, format!("message not readable: {e}")),
            }
            Ok(())
        })
    }

    /// A message (or an embedded one) from its node; `levels` embedded
    /// messages may still be read below it.
    fn message(&self, node: Node, levels: usize) -> R<Message> {
        let heap = Heap::open(self.ndb, node, self.max)?;
        let mut m = Message {
            props: heap.props()?,
            ..Message::default()
        };
        if let Some(rt) = self.ndb.subnode(node.sub, NID_RECIPIENT_TABLE)? {
            Heap::open(self.ndb, rt, self.max)?.rows(&mut |_, props| {
                m.recipients.push(props);
                Ok(())
            })?;
        }
        let mut attach_ids = Vec::new();
        if let Some(at) = self.ndb.subnode(node.sub, NID_ATTACHMENT_TABLE)? {
            Heap::open(self.ndb, at, self.max)?.rows(&mut |row, _| {
                attach_ids.push(row);
                Ok(())
            })?;
        }
        for aid in attach_ids {
            m.attachments.push(self.attachment(node.sub, aid, levels));
        }
        Ok(m)
    }

    fn attachment(&self, sub: u64, aid: u32, levels: usize) -> Attachment {
        let read = || -> R<(Props, Node)> {
            let node = self
                .ndb
                .subnode(sub, aid)?
                .ok_or_else(|| format!("attachment {aid:#x} not found"))?;
            Ok((Heap::open(self.ndb, node, self.max)?.props()?, node))
        };
        match read() {
            Ok((props, node)) => {
                let method = props.int(mapi::id::ATTACH_METHOD).unwrap_or(0);
                let data = if method == 5 {
                    let inner = props
                        .int(mapi::id::ATTACH_DATA)
                        .and_then(|n| u32::try_from(n).ok());
                    match inner {
                        _ if levels == 0 => AttachData::Missing(
                            "embedded message nested deeper than max_depth".into(),
                        ),
                        Some(nid) => match self
                            .ndb
                            .subnode(node.sub, nid)
                            .and_then(|n| n.ok_or_else(|| "embedded message not found".into()))
                            .and_then(|n| self.message(n, levels - 1))
                        {
                            Ok(inner) => AttachData::Message(Box::new(inner)),
                            Err(e) => {
                                AttachData::Missing(format!("embedded message not readable: {e}"))
                            }
                        },
                        None => AttachData::Missing("embedded message without data".into()),
                    }
                } else {
                    match props.bin(mapi::id::ATTACH_DATA) {
                        Some(b) => AttachData::Bytes(b.to_vec()),
                        None => AttachData::Missing(format!(
                            "attachment holds no data (attach method {method})"
                        )),
                    }
                };
                Attachment { props, data }
            }
            Err(e) => Attachment {
                props: Props::default(),
                data: AttachData::Missing(format!("attachment not readable: {e}")),
            },
        }
    }
}

/// `2014-11-24 Subject`, the date or the subject alone, or `message`.
fn message_name(m: &Message) -> String {
    let date = m.time().and_then(mapi::filetime_parts).map(|(d, _)| d);
    let subject = m.subject().map(|s| {
        let s: String = s.chars().take(NAME_SUBJECT).collect();
        component(&s)
    });
    match (date, subject) {
        (Some(d), Some(s)) if !s.is_empty() => format!("{d} {s}"),
        (Some(d), _) => d,
        (None, Some(s)) if !s.is_empty() => s,
        _ => "message".to_owned(),
    }
}
