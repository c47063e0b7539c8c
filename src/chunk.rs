//! Chunking (temporary minimal version; replaced by the algo branch).
/// Params.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkParams {
    /// Min.
    pub min_size: u32,
    /// Avg.
    pub avg_size: u32,
    /// Max.
    pub max_size: u32,
}
impl Default for ChunkParams {
    fn default() -> Self {
        ChunkParams {
            min_size: 4096,
            avg_size: 16384,
            max_size: 65536,
        }
    }
}
/// A chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Offset.
    pub offset: u64,
    /// Len.
    pub len: u32,
    /// Hash.
    pub hash: [u8; 32],
}
/// Chunk bytes.
pub fn chunk_bytes(data: &[u8], p: &ChunkParams) -> Vec<Chunk> {
    fastcdc::v2020::FastCDC::new(data, p.min_size, p.avg_size, p.max_size)
        .map(|c| Chunk {
            offset: c.offset as u64,
            len: c.length as u32,
            hash: *blake3::hash(&data[c.offset..c.offset + c.length]).as_bytes(),
        })
        .collect()
}
/// Chunk a reader.
pub fn chunk_reader<R: std::io::Read>(
    mut r: R,
    p: &ChunkParams,
    mut on_chunk: impl FnMut(Chunk),
) -> std::io::Result<(blake3::Hash, u64)> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    for c in chunk_bytes(&v, p) {
        on_chunk(c);
    }
    Ok((blake3::hash(&v), v.len() as u64))
}
