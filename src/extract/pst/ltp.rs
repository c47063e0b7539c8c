//! The lists, tables and properties layer of a PST ([MS-PST] §2.3).
//!
//! A node's data is a heap (HN): one block per heap page, each with a page
//! map of allocations addressed by HIDs (block index, 1-based allocation
//! index). On the heap, a BTH is a B-tree of fixed-size records; a property
//! context (PC, client signature `0xBC`) is a BTH of (property id, type,
//! value or HNID); a table context (TC, `0x7C`) describes fixed-size rows
//! (columns, offsets, an existence bitmap) stored on the heap or, when
//! large, in a subnode. Values larger than 4 bytes live in a heap
//! allocation or, larger still, in a subnode (an HNID whose low 5 bits are
//! not zero is a node id).
//!
//! Bounds: every HID, offset and count is checked; BTH depth is capped at
//! 8 levels; a table is read row by row from its blocks (never whole), and
//! values are read under the caller's size cap.

use super::ndb::{Ndb, Node};
use crate::extract::le::{u16_at, u32_at};
use crate::extract::mapi::{Props, Value};

type R<T> = Result<T, String>;

/// Most BTH records visited in one heap (a heap of 2^16 pages of 8 KiB
/// cannot hold more than about 2^26 of the smallest records; real property
/// contexts hold hundreds).
const MAX_BTH_RECORDS: usize = 1 << 20;

/// A visitor of BTH leaf records: (key, data).
type Records<'f> = &'f mut dyn FnMut(&[u8], &[u8]) -> R<()>;

/// A heap: the node's data blocks, and its subnodes for HNIDs.
pub(crate) struct Heap<'n, 'a> {
    ndb: &'n Ndb<'a>,
    blocks: Vec<Vec<u8>>,
    pub(crate) sub: u64,
    /// Client signature: `0xBC` PC, `0x7C` TC.
    pub(crate) client: u8,
    user_root: u32,
    max: usize,
}

impl<'n, 'a> Heap<'n, 'a> {
    /// The heap of `node`, reading at most `max` bytes of it.
    ///
    /// # Errors
    /// When the node's data is missing or not a heap.
    pub(crate) fn open(ndb: &'n Ndb<'a>, node: Node, max: usize) -> R<Heap<'n, 'a>> {
        let mut blocks = Vec::new();
        ndb.data_tree(node.data, max, &mut |b| {
            blocks.push(b);
            Ok(())
        })?;
        let first = blocks.first().ok_or("empty heap")?;
        if first.get(2) != Some(&0xEC) {
            return Err(format!("node {:#x} is not a heap", node.nid));
        }
        Ok(Heap {
            ndb,
            client: first[3],
            user_root: u32_at(first, 4).ok_or("heap header truncated")?,
            blocks,
            sub: node.sub,
            max,
        })
    }

    /// The bytes of heap allocation `hid`.
    fn alloc(&self, hid: u32) -> R<&[u8]> {
        if hid & 0x1F != 0 {
            return Err(format!("{hid:#x} is not a heap id"));
        }
        let index = ((hid >> 5) & 0x7FF) as usize;
        let block = (hid >> 16) as usize;
        let b = self
            .blocks
            .get(block)
            .ok_or_else(|| format!("heap id {hid:#x}: no heap block {block}"))?;
        let map = usize::from(u16_at(b, 0).ok_or("heap page truncated")?);
        let count = usize::from(u16_at(b, map).ok_or("heap page map outside its block")?);
        if index == 0 || index > count {
            return Err(format!("heap id {hid:#x}: allocation {index} of {count}"));
        }
        let start = usize::from(u16_at(b, map + 4 + 2 * (index - 1)).ok_or("page map truncated")?);
        let end = usize::from(u16_at(b, map + 4 + 2 * index).ok_or("page map truncated")?);
        b.get(start..end)
            .ok_or_else(|| format!("heap id {hid:#x}: allocation {start}..{end} outside its block"))
    }

    /// The bytes an HNID names: a heap allocation or a subnode's data.
    pub(crate) fn hnid(&self, hnid: u32) -> R<Vec<u8>> {
        if hnid == 0 {
            return Ok(Vec::new());
        }
        if hnid & 0x1F == 0 {
            return self.alloc(hnid).map(<[u8]>::to_vec);
        }
        let node = self
            .ndb
            .subnode(self.sub, hnid)?
            .ok_or_else(|| format!("subnode {hnid:#x} not found"))?;
        self.ndb.data(node.data, self.max)
    }

    /// Every leaf record (key, data) of the BTH whose header is at `hid`.
    fn bth(&self, hid: u32, each: Records<'_>) -> R<()> {
        let h = self.alloc(hid)?;
        if h.len() < 8 || h[0] != 0xB5 {
            return Err("BTH header malformed".into());
        }
        let (key, ent, levels) = (usize::from(h[1]), usize::from(h[2]), h[3]);
        let root = u32_at(h, 4).unwrap_or(0);
        if key == 0 || levels > 8 {
            return Err(format!("BTH with {key}-byte keys and {levels} levels"));
        }
        if root == 0 {
            return Ok(());
        }
        let mut budget = MAX_BTH_RECORDS;
        self.bth_level(root, key, ent, levels, &mut budget, each)
    }

    fn bth_level(
        &self,
        hid: u32,
        key: usize,
        ent: usize,
        level: u8,
        budget: &mut usize,
        each: Records<'_>,
    ) -> R<()> {
        let data = self.alloc(hid)?;
        let size = if level == 0 { key + ent } else { key + 4 };
        for rec in data.chunks_exact(size) {
            // Intermediate records may all name one child: without a
            // budget, 8 levels of that are exponential.
            *budget = budget
                .checked_sub(1)
                .ok_or("BTH has more records than any heap can hold (a loop)")?;
            if level == 0 {
                each(&rec[..key], &rec[key..])?;
            } else {
                let child = u32_at(rec, key).unwrap_or(0);
                self.bth_level(child, key, ent, level - 1, budget, each)?;
            }
        }
        Ok(())
    }

    /// The properties of a property context.
    ///
    /// # Errors
    /// When the heap is not a PC or its BTH is malformed; a value that
    /// cannot be read is left out.
    pub(crate) fn props(&self) -> R<Props> {
        if self.client != 0xBC {
            return Err(format!(
                "not a property context (client {:#04x})",
                self.client
            ));
        }
        let mut props = Props::default();
        self.bth(self.user_root, &mut |k, d| {
            if k.len() != 2 || d.len() != 6 {
                return Err("property context records are not 2 + 6 bytes".into());
            }
            let id = u16::from_le_bytes([k[0], k[1]]);
            let ty = u16::from_le_bytes([d[0], d[1]]);
            let v = u32::from_le_bytes([d[2], d[3], d[4], d[5]]);
            if let Some(value) = self.value(ty, v, 4) {
                props.0.insert(id, value);
            }
            Ok(())
        })?;
        Ok(props)
    }

    /// A property value from its type and its inline bytes or HNID.
    fn value(&self, ty: u16, v: u32, inline_len: usize) -> Option<Value> {
        let var = |hnid: u32| self.hnid(hnid).ok();
        Some(match ty {
            0x0002 => Value::Int(i64::from(v as i16)),
            0x0003 => Value::Int(i64::from(v as i32)),
            0x000B => Value::Int(i64::from(v & 0xFF != 0)),
            0x0014 | 0x0040 => {
                let b = if inline_len == 8 {
                    return None;
                } else {
                    var(v)?
                };
                let x = i64::from_le_bytes(b.get(..8)?.try_into().ok()?);
                if ty == 0x0040 {
                    Value::Time(x)
                } else {
                    Value::Int(x)
                }
            }
            0x001F => {
                let b = var(v)?;
                Value::Str(
                    char::decode_utf16(b.chunks_exact(2).map(|u| u16::from_le_bytes([u[0], u[1]])))
                        .map(|c| c.unwrap_or('\u{FFFD}'))
                        .collect(),
                )
            }
            0x001E => Value::Str8(var(v)?),
            0x0102 => Value::Bin(var(v)?),
            // PtypObject: a subnode id (directly, or in an 8-byte heap
            // record of node id and size).
            0x000D => {
                let nid = if v & 0x1F != 0 {
                    v
                } else {
                    u32_at(self.alloc(v).ok()?, 0)?
                };
                Value::Int(i64::from(nid))
            }
            _ => return None,
        })
    }

    /// Visit the rows of a table context, each as (row id, properties).
    ///
    /// # Errors
    /// When the heap is not a TC or its layout is malformed.
    pub(crate) fn rows(&self, each: &mut dyn FnMut(u32, Props) -> R<()>) -> R<()> {
        if self.client != 0x7C {
            return Err(format!("not a table context (client {:#04x})", self.client));
        }
        let info = self.alloc(self.user_root)?;
        if info.len() < 22 || info[0] != 0x7C {
            return Err("table header malformed".into());
        }
        let cols = usize::from(info[1]);
        let end_4 = usize::from(u16_at(info, 2).unwrap_or(0));
        let end_1 = usize::from(u16_at(info, 6).unwrap_or(0));
        let row_len = usize::from(u16_at(info, 8).unwrap_or(0));
        let rows_hnid = u32_at(info, 14).unwrap_or(0);
        let mut columns = Vec::with_capacity(cols);
        for c in 0..cols {
            let d = info
                .get(22 + 8 * c..30 + 8 * c)
                .ok_or("table column list truncated")?;
            let tag = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
            let ib = usize::from(u16::from_le_bytes([d[4], d[5]]));
            let (cb, bit) = (usize::from(d[6]), usize::from(d[7]));
            if ib + cb > row_len || end_1 + bit / 8 >= row_len.max(1) {
                return Err(format!(
                    "table column {c} lies outside its {row_len}-byte row"
                ));
            }
            columns.push((tag, ib, cb, bit));
        }
        if row_len == 0 || rows_hnid == 0 {
            return Ok(());
        }
        let _ = end_4;
        let mut visit = |block: &[u8]| -> R<()> {
            for row in block.chunks_exact(row_len) {
                let id = u32::from_le_bytes([row[0], row[1], row[2], row[3]]);
                let mut props = Props::default();
                for &(tag, ib, cb, bit) in &columns {
                    let exists = row
                        .get(end_1 + bit / 8)
                        .is_some_and(|b| b & (0x80 >> (bit % 8)) != 0);
                    if !exists {
                        continue;
                    }
                    let (id, ty) = ((tag >> 16) as u16, tag as u16);
                    let raw = &row[ib..ib + cb];
                    let value = match cb {
                        8 => {
                            let x = i64::from_le_bytes(raw.try_into().unwrap_or([0; 8]));
                            match ty {
                                0x0040 => Some(Value::Time(x)),
                                0x0014 => Some(Value::Int(x)),
                                _ => None,
                            }
                        }
                        4 => {
                            self.value(ty, u32::from_le_bytes(raw.try_into().unwrap_or([0; 4])), 4)
                        }
                        2 => self.value(ty, u32::from(u16::from_le_bytes([raw[0], raw[1]])), 4),
                        1 => self.value(ty, u32::from(raw[0]), 4),
                        _ => None,
                    };
                    if let Some(v) = value {
                        props.0.insert(id, v);
                    }
                }
                each(id, props)?;
            }
            Ok(())
        };
        if rows_hnid & 0x1F == 0 {
            let data = self.alloc(rows_hnid)?.to_vec();
            return visit(&data);
        }
        let node = self
            .ndb
            .subnode(self.sub, rows_hnid)?
            .ok_or("table rows subnode not found")?;
        self.ndb
            .data_tree(node.data, self.max, &mut |block| visit(&block))
    }
}
