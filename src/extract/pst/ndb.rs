//! The node database layer of a PST/OST file ([MS-PST] §2.2), read in
//! place from the file's bytes.
//!
//! The header names the format (`wVer` 14/15: ANSI, 32-bit ids; 23: Unicode,
//! 64-bit ids; 36, the 4 KiB-page OST of Outlook 2013, is refused), the
//! block encoding (`bCryptMethod`) and the roots of two B-trees of 512-byte
//! pages: the node B-tree (NBT: node id to data block and subnode block)
//! and the block B-tree (BBT: block id to file offset and size). Blocks of
//! more than 8 KiB are data trees of `XBLOCK`/`XXBLOCK`s; a node's subnodes
//! are an `SLBLOCK`/`SIBLOCK` tree. External blocks are decoded
//! (permute or cyclic) on read.
//!
//! Nothing is cached and nothing is held between lookups: each lookup walks
//! at most [`MAX_LEVELS`] pages of the mapped file, so memory does not grow
//! with the store. Every offset, count and size read from the file is
//! checked; a B-tree or data tree deeper than the format allows, a page of
//! the wrong type, or a block outside the file is an error with its reason.

use super::crypt;
use crate::extract::le::{u16_at, u32_at, u64_at};

/// Deepest B-tree the reader descends (real stores have 2-4 levels).
pub(crate) const MAX_LEVELS: u8 = 8;

/// The two PST flavours we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `wVer` 14 or 15: 32-bit block and node ids.
    Ansi,
    /// `wVer` 23 (PST 2003+ and OST before 2013): 64-bit block ids.
    Unicode,
}

/// A node B-tree leaf entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) nid: u32,
    pub(crate) data: u64,
    pub(crate) sub: u64,
}

/// An open store: the file's bytes and what its header says.
pub(crate) struct Ndb<'a> {
    b: &'a [u8],
    pub(crate) flavor: Flavor,
    crypt: u8,
    nbt: u64,
    bbt: u64,
}

/// Is this the start of a PST/OST file (`!BDN`, then `SM` for a PST or
/// `SO` for an OST)?
pub(crate) fn is_pst(b: &[u8]) -> bool {
    b.starts_with(b"!BDN") && matches!(b.get(8..10), Some(b"SM") | Some(b"SO"))
}

type R<T> = Result<T, String>;

impl<'a> Ndb<'a> {
    /// Read the header.
    ///
    /// # Errors
    /// An unknown version, an unknown block encoding, or a truncated header.
    pub(crate) fn open(b: &'a [u8]) -> R<Ndb<'a>> {
        if !is_pst(b) {
            return Err("not a PST file (no !BDN header)".into());
        }
        let ver = u16_at(b, 10).ok_or("header truncated")?;
        let (flavor, nbt_at, bbt_at, crypt_at) = match ver {
            14 | 15 => (Flavor::Ansi, 188usize, 196usize, 461usize),
            23 => (Flavor::Unicode, 224, 240, 513),
            36 => {
                return Err(
                    "OST of Outlook 2013 or later (4 KiB pages, compressed blocks, wVer 36): not supported"
                        .into(),
                )
            }
            v => return Err(format!("unknown PST version wVer {v}")),
        };
        let ib = |at| match flavor {
            Flavor::Ansi => u32_at(b, at).map(u64::from),
            Flavor::Unicode => u64_at(b, at),
        };
        let nbt = ib(nbt_at).ok_or("header truncated")?;
        let bbt = ib(bbt_at).ok_or("header truncated")?;
        let crypt = *b.get(crypt_at).ok_or("header truncated")?;
        if !matches!(crypt, 0..=2) {
            return Err(format!(
                "encrypted store (bCryptMethod {crypt:#04x}, not the format's permute or cyclic encoding): not readable"
            ));
        }
        Ok(Ndb {
            b,
            flavor,
            crypt,
            nbt,
            bbt,
        })
    }

    fn id(&self, at: usize) -> Option<u64> {
        match self.flavor {
            Flavor::Ansi => u32_at(self.b, at).map(u64::from),
            Flavor::Unicode => u64_at(self.b, at),
        }
    }

    fn id_len(&self) -> usize {
        match self.flavor {
            Flavor::Ansi => 4,
            Flavor::Unicode => 8,
        }
    }

    /// The page at `ib` of the expected type: (entries, count, size, level).
    fn page(&self, ib: u64, ptype: u8) -> R<(usize, usize, usize, u8)> {
        let at = usize::try_from(ib).map_err(|_| "page offset too large")?;
        let page = at
            .checked_add(512)
            .and_then(|end| self.b.get(at..end))
            .ok_or_else(|| format!("B-tree page at {ib} lies outside the file"))?;
        let (meta, trailer) = match self.flavor {
            Flavor::Ansi => (496, 500),
            Flavor::Unicode => (488, 496),
        };
        if page[trailer] != ptype || page[trailer + 1] != ptype {
            return Err(format!(
                "page at {ib} has type {:#04x}, {ptype:#04x} expected",
                page[trailer]
            ));
        }
        let (n, size, level) = (
            usize::from(page[meta]),
            usize::from(page[meta + 2]),
            page[meta + 3],
        );
        if size == 0 || n * size > meta {
            return Err(format!("page at {ib}: {n} entries of {size} bytes"));
        }
        Ok((at, n, size, level))
    }

    /// Find the leaf entry of `key` in the B-tree rooted at `root`; returns
    /// the entry's offset in the file.
    fn find(&self, root: u64, ptype: u8, key: u64) -> R<Option<usize>> {
        let mut ib = root;
        let mut expect: Option<u8> = None;
        for _ in 0..=MAX_LEVELS {
            let (at, n, size, level) = self.page(ib, ptype)?;
            if level > MAX_LEVELS || expect.is_some_and(|e| e != level) {
                return Err(format!("B-tree page at {ib} has level {level}"));
            }
            let key_at = |i: usize| self.id(at + i * size);
            if level == 0 {
                for i in 0..n {
                    let k = key_at(i).ok_or("page truncated")?;
                    let k = if ptype == 0x80 {
                        k & !1
                    } else {
                        k & 0xFFFF_FFFF
                    };
                    if k == key {
                        return Ok(Some(at + i * size));
                    }
                }
                return Ok(None);
            }
            // The last entry whose key is at most `key`.
            let mut next = None;
            for i in 0..n {
                let k = key_at(i).ok_or("page truncated")?;
                if k <= key {
                    next = Some(i);
                } else {
                    break;
                }
            }
            let Some(i) = next else {
                return Ok(None);
            };
            // BTENTRY: key, then BREF (bid, ib).
            let child = self
                .id(at + i * size + 2 * self.id_len())
                .ok_or("page truncated")?;
            ib = child;
            expect = Some(level - 1);
        }
        Err("B-tree deeper than the format allows".into())
    }

    /// The node B-tree entry of `nid`.
    ///
    /// # Errors
    /// When the node B-tree is corrupt.
    pub(crate) fn node(&self, nid: u32) -> R<Option<Node>> {
        let Some(at) = self.find(self.nbt, 0x81, u64::from(nid))? else {
            return Ok(None);
        };
        let l = self.id_len();
        let get = |o| self.id(at + o).ok_or("node entry truncated");
        Ok(Some(Node {
            nid,
            data: get(l)?,
            sub: get(2 * l)?,
        }))
    }

    /// The bytes of one block as stored (decoded when external).
    fn raw_block(&self, bid: u64) -> R<Vec<u8>> {
        let at = self
            .find(self.bbt, 0x80, bid & !1)?
            .ok_or_else(|| format!("block {bid:#x} is not in the block B-tree"))?;
        let l = self.id_len();
        let ib = self.id(at + l).ok_or("block entry truncated")?;
        let cb = usize::from(u16_at(self.b, at + 2 * l).ok_or("block entry truncated")?);
        let start = usize::try_from(ib).map_err(|_| "block offset too large")?;
        let data = start
            .checked_add(cb)
            .and_then(|end| self.b.get(start..end))
            .ok_or_else(|| format!("block {bid:#x} ({cb} bytes at {ib}) lies outside the file"))?;
        let mut data = data.to_vec();
        let internal = bid & 2 != 0;
        if !internal {
            match self.crypt {
                1 => crypt::decode_permute(&mut data),
                2 => crypt::decode_cyclic(&mut data, bid as u32),
                _ => {}
            }
        }
        Ok(data)
    }

    /// The data blocks of the data tree rooted at `bid`, in order, calling
    /// `each` with every leaf; at most `max` bytes in all.
    ///
    /// # Errors
    /// When a block is missing or a tree block is malformed.
    pub(crate) fn data_tree(
        &self,
        bid: u64,
        max: usize,
        each: &mut dyn FnMut(Vec<u8>) -> R<()>,
    ) -> R<()> {
        let mut total = 0usize;
        self.tree_level(bid, 2, max, &mut total, each)
    }

    fn tree_level(
        &self,
        bid: u64,
        levels: u8,
        max: usize,
        total: &mut usize,
        each: &mut dyn FnMut(Vec<u8>) -> R<()>,
    ) -> R<()> {
        let data = self.raw_block(bid)?;
        if bid & 2 == 0 {
            *total = total.saturating_add(data.len());
            if *total > max {
                return Err(format!("data larger than the limit of {max} bytes"));
            }
            return each(data);
        }
        // XBLOCK (level 1) or XXBLOCK (level 2): btype 1, cLevel, cEnt,
        // lcbTotal, then block ids.
        if data.first() != Some(&1) {
            return Err(format!("block {bid:#x} is internal but not a data tree"));
        }
        let level = *data.get(1).ok_or("data tree block truncated")?;
        if level == 0 || level > levels {
            return Err(format!("data tree block {bid:#x} has level {level}"));
        }
        let n = usize::from(u16_at(&data, 2).ok_or("data tree block truncated")?);
        let l = self.id_len();
        for i in 0..n {
            let child = match self.flavor {
                Flavor::Ansi => u32_at(&data, 8 + i * l).map(u64::from),
                Flavor::Unicode => u64_at(&data, 8 + i * l),
            }
            .ok_or("data tree block truncated")?;
            self.tree_level(child, level - 1, max, total, each)?;
        }
        Ok(())
    }

    /// The whole data of the tree rooted at `bid`, at most `max` bytes.
    ///
    /// # Errors
    /// As [`Ndb::data_tree`].
    pub(crate) fn data(&self, bid: u64, max: usize) -> R<Vec<u8>> {
        let mut out = Vec::new();
        self.data_tree(bid, max, &mut |d| {
            out.extend_from_slice(&d);
            Ok(())
        })?;
        Ok(out)
    }

    /// The subnode of `nid` under the subnode tree rooted at `sub`.
    ///
    /// # Errors
    /// When the subnode tree is malformed.
    pub(crate) fn subnode(&self, sub: u64, nid: u32) -> R<Option<Node>> {
        let mut bid = sub;
        for _ in 0..=MAX_LEVELS {
            if bid == 0 {
                return Ok(None);
            }
            let data = self.raw_block(bid)?;
            if data.first() != Some(&2) {
                return Err(format!("subnode block {bid:#x} has the wrong type"));
            }
            let level = *data.get(1).ok_or("subnode block truncated")?;
            let n = usize::from(u16_at(&data, 2).ok_or("subnode block truncated")?);
            let l = self.id_len();
            let head = match self.flavor {
                Flavor::Ansi => 4,
                Flavor::Unicode => 8,
            };
            let id = |at: usize| match self.flavor {
                Flavor::Ansi => u32_at(&data, at).map(u64::from),
                Flavor::Unicode => u64_at(&data, at),
            };
            let size = if level == 0 { 3 * l } else { 2 * l };
            if level == 0 {
                for i in 0..n {
                    let at = head + i * size;
                    let k = id(at).ok_or("subnode block truncated")? as u32;
                    if k == nid {
                        return Ok(Some(Node {
                            nid,
                            data: id(at + l).ok_or("subnode block truncated")?,
                            sub: id(at + 2 * l).ok_or("subnode block truncated")?,
                        }));
                    }
                }
                return Ok(None);
            }
            let mut next = None;
            for i in 0..n {
                let at = head + i * size;
                let k = id(at).ok_or("subnode block truncated")? as u32;
                if k <= nid {
                    next = id(at + l);
                } else {
                    break;
                }
            }
            match next {
                Some(b) => bid = b,
                None => return Ok(None),
            }
        }
        Err("subnode tree deeper than the format allows".into())
    }
}
