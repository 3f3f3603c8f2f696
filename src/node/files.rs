//! Files on disk for transfers: shared files hashed into their content ID
//! and leaf tree, downloads written into a partial file beside a bitmap of
//! verified leaves (so a download resumes after a restart), and the
//! [`Storage`] the driver reads and writes them through.

use mmp2p_core::conference::ConferenceEvent;
use mmp2p_core::content::{self, ContentId, Hash, LEAF_LEN};
use mmp2p_core::event::{Fill, FillPiece, Write};
use mmp2p_core::{Event, RequestId};
use mmp2p_mio::Storage;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The suffix of a download's partial file.
pub const PART_SUFFIX: &str = ".mmp2p-part";
/// The suffix of a download's bitmap of verified leaves.
pub const LEAVES_SUFFIX: &str = ".mmp2p-leaves";

/// A shared file: where it is, what it is, its tree.
pub struct SharedFile {
    /// Its content ID.
    pub content: ContentId,
    /// Its size and modification time when hashed (to notice a change).
    pub stamp: (u64, Option<std::time::SystemTime>),
    tree: Vec<Hash>,
    file: File,
}

impl SharedFile {
    /// Reads and hashes the file at `path`, 64 leaves at a time.
    pub fn hash(path: &Path) -> io::Result<SharedFile> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        let size = meta.len();
        if size > content::MAX_FILE_SIZE {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "larger than 1 TiB"));
        }
        let leaves = content::leaf_count_of(size);
        let mut tree = vec![[0u8; 32]; content::tree_len(leaves)];
        let mut root = blake3::Hasher::new();
        let mut buf = vec![0u8; 64 * LEAF_LEN];
        // The leaf values need the ID's size only; the root comes from the whole.
        let sized = ContentId { root: [0; 32], size };
        let mut leaf = 0u32;
        loop {
            let len = read_full(&mut file, &mut buf)?;
            if len == 0 {
                break;
            }
            root.update(&buf[..len]);
            for piece in buf[..len].chunks(LEAF_LEN) {
                tree[leaf as usize] = content::leaf_value(&sized, leaf, piece);
                leaf += 1;
            }
        }
        if u64::from(leaf) != u64::from(leaves) {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file changed while it was read"));
        }
        content::build_levels(leaves, &mut tree);
        let content = ContentId { root: *root.finalize().as_bytes(), size };
        Ok(SharedFile { content, stamp: (size, meta.modified().ok()), tree, file })
    }
}

/// Reads until `buf` is full or the file ends; the bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..])? {
            0 => break,
            n => len += n,
        }
    }
    Ok(len)
}

/// A download on disk: the partial file and its bitmap of verified leaves.
pub struct PartialFile {
    /// The file's content.
    pub content: ContentId,
    /// Where the finished file goes.
    pub path: PathBuf,
    part: File,
    leaves: File,
    bitmap: Vec<u8>,
}

impl PartialFile {
    /// Opens (or creates) the partial file and bitmap for `content`, to
    /// finish as `path`. A bitmap of the wrong length is started afresh.
    pub fn open(path: &Path, content: ContentId) -> io::Result<PartialFile> {
        let part =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(suffixed(path, PART_SUFFIX))?;
        part.set_len(content.size)?;
        let leaves_path = suffixed(path, LEAVES_SUFFIX);
        let bytes = content.leaf_count().div_ceil(8) as usize;
        let mut bitmap = fs::read(&leaves_path).unwrap_or_default();
        if bitmap.len() != bytes {
            bitmap = vec![0; bytes];
        }
        let leaves = OpenOptions::new().write(true).create(true).truncate(false).open(&leaves_path)?;
        leaves.set_len(bytes as u64)?;
        leaves.write_all_at(&bitmap, 0)?;
        Ok(PartialFile { content, path: path.to_owned(), part, leaves, bitmap })
    }

    /// Marks leaf `leaf` verified, on disk at once.
    pub fn verified(&mut self, leaf: u32) -> io::Result<()> {
        let (byte, bit) = ((leaf / 8) as usize, 1u8 << (leaf % 8));
        let Some(slot) = self.bitmap.get_mut(byte) else { return Ok(()) };
        *slot |= bit;
        self.leaves.write_all_at(&[*slot], byte as u64)
    }

    /// Leaf `leaf` must be fetched again.
    pub fn rejected(&mut self, leaf: u32) -> io::Result<()> {
        let (byte, bit) = ((leaf / 8) as usize, 1u8 << (leaf % 8));
        let Some(slot) = self.bitmap.get_mut(byte) else { return Ok(()) };
        *slot &= !bit;
        self.leaves.write_all_at(&[*slot], byte as u64)
    }

    /// Bytes of the verified leaves.
    pub fn verified_bytes(&self) -> u64 {
        (0..self.content.leaf_count())
            .filter(|&leaf| self.is_verified(leaf))
            .map(|leaf| {
                let range = self.content.leaf_range(leaf);
                range.end - range.start
            })
            .sum()
    }

    fn is_verified(&self, leaf: u32) -> bool {
        self.bitmap.get((leaf / 8) as usize).is_some_and(|byte| byte & (1 << (leaf % 8)) != 0)
    }

    /// The leaves still to fetch, as ranges.
    pub fn missing(&self) -> Vec<Range<u32>> {
        content::missing_ranges(self.content.leaf_count(), |leaf| self.is_verified(leaf)).collect()
    }

    /// Every leaf is verified: the partial file becomes the file and the
    /// bitmap goes. Returns the file's path.
    pub fn finish(self) -> io::Result<PathBuf> {
        self.part.sync_all()?;
        fs::rename(suffixed(&self.path, PART_SUFFIX), &self.path)?;
        let _ = fs::remove_file(suffixed(&self.path, LEAVES_SUFFIX));
        Ok(self.path)
    }

    /// Drops the partial file and bitmap (a cancelled download).
    pub fn discard(self) {
        let _ = fs::remove_file(suffixed(&self.path, PART_SUFFIX));
        let _ = fs::remove_file(suffixed(&self.path, LEAVES_SUFFIX));
    }
}

/// `path` with `suffix` appended to its file name.
pub fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// A name from the network made safe to name a file in a directory: path
/// separators, control characters and a leading dot become `_`; an empty
/// name becomes `file`.
pub fn safe_file_name(name: &str) -> String {
    let mut safe: String =
        name.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c }).collect();
    if safe.starts_with('.') {
        safe.replace_range(..1, "_");
    }
    if safe.is_empty() {
        safe.push_str("file");
    }
    safe
}

/// A path for a new file `name` in `dir` that neither a file nor a
/// download's partial file has: the name, else the name with a number.
pub fn free_path(dir: &Path, name: &str) -> PathBuf {
    let taken = |p: &Path| p.exists() || suffixed(p, PART_SUFFIX).exists();
    let plain = dir.join(name);
    if !taken(&plain) {
        return plain;
    }
    (1..).map(|n| dir.join(format!("{name}.{n}"))).find(|p| !taken(p)).unwrap_or(plain)
}

/// What the driver reads and writes: the shared files and the downloads.
#[derive(Default)]
pub struct Disk {
    /// Shared files, by content.
    pub served: HashMap<ContentId, Arc<SharedFile>>,
    /// Downloads, by the core's download id.
    pub downloads: HashMap<RequestId, PartialFile>,
    /// Where files and streams sent to our conferences are written (none: not kept).
    pub conference_dir: Option<PathBuf>,
    /// Offers whose file could not be opened, with why (the session reports them).
    pub refused: HashMap<RequestId, String>,
}

/// The driver's handle on [`Disk`], shared with the session.
#[derive(Clone, Default)]
pub struct DiskStorage(pub Arc<Mutex<Disk>>);

impl DiskStorage {
    /// The disk, locked (a panic elsewhere while holding it does not make it unusable).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Disk> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Storage for DiskStorage {
    fn read(&mut self, fill: &Fill, out: &mut [u8]) -> io::Result<()> {
        let shared = self.lock().served.get(&fill.content).cloned();
        let shared = shared.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not shared"))?;
        match fill.piece {
            FillPiece::Bytes { offset } => shared.file.read_exact_at(out, offset),
            FillPiece::Proof { block } => {
                content::write_block_proof(shared.content.leaf_count(), &shared.tree, block, out);
                Ok(())
            }
        }
    }

    fn write(&mut self, write: &Write, bytes: &[u8]) -> io::Result<()> {
        let disk = self.lock();
        let partial = disk
            .downloads
            .get(&write.request)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such download"))?;
        partial.part.write_all_at(bytes, write.offset)
    }

    /// A file or stream sent to one of our conferences gets its partial
    /// file now, inside the loop, before its first bytes are written.
    fn event(&mut self, event: &Event) {
        let Event::Conference(ConferenceEvent::Offered { request, content, name, .. }) = event else { return };
        let mut disk = self.lock();
        let Some(dir) = disk.conference_dir.clone() else { return };
        let path = free_path(&dir, &safe_file_name(name));
        match PartialFile::open(&path, *content) {
            Ok(partial) => {
                disk.downloads.insert(*request, partial);
            }
            Err(e) => {
                disk.refused.insert(*request, format!("cannot write {}: {e}", path.display()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_file_has_the_blake3_root_and_a_proof_per_block() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 13 + i / 1000) as u8).collect();
        let path = dir.path().join("f.bin");
        fs::write(&path, &bytes).unwrap();
        let shared = SharedFile::hash(&path).unwrap();
        assert_eq!(shared.content, ContentId::of(&bytes));
        let (values, siblings) = content::block_proof(shared.content.leaf_count(), &shared.tree, 2);
        assert!(content::verify_block(&shared.content, 2, &values, &siblings));
    }

    #[test]
    fn names_from_the_network_stay_in_their_directory() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_._.._etc_passwd");
        assert_eq!(safe_file_name(".bashrc"), "_bashrc");
        assert_eq!(safe_file_name("a\\b\nc"), "a_b_c");
        assert_eq!(safe_file_name(""), "file");
        assert_eq!(safe_file_name("talk.pdf"), "talk.pdf");
        let dir = tempfile::tempdir().unwrap();
        let first = free_path(dir.path(), "talk.pdf");
        let _partial = PartialFile::open(&first, ContentId { root: [1; 32], size: 10 }).unwrap();
        let second = free_path(dir.path(), "talk.pdf");
        assert_ne!(first, second, "a partial file takes its name");
        assert_eq!(second.parent(), Some(dir.path()));
    }

    #[test]
    fn a_partial_file_keeps_its_bitmap_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let content = ContentId { root: [1; 32], size: 10 * LEAF_LEN as u64 + 5 };
        let path = dir.path().join("song.mp3");
        let mut partial = PartialFile::open(&path, content).unwrap();
        for leaf in [0, 1, 2, 5, 10] {
            partial.verified(leaf).unwrap();
        }
        drop(partial);
        let partial = PartialFile::open(&path, content).unwrap();
        assert_eq!(partial.missing(), [3..5, 6..10]);
        assert_eq!(partial.verified_bytes(), 4 * LEAF_LEN as u64 + 5);
        let finished = partial.finish().unwrap();
        assert_eq!(fs::metadata(finished).unwrap().len(), content.size);
        assert!(!suffixed(&path, LEAVES_SUFFIX).exists());
    }
}
