//! The node's shared-file list: the files whose locators it announces.
//!
//! A file is named by the MD5 of its name ([`Id::from_file_name`]); the node
//! announces one locator per distinct name to the node responsible for that
//! ID. The list is replaced as a whole ([`SharedFiles::set`]), so a bad name
//! never leaves it half updated. Names are kept back to back in one fixed
//! arena and indexed by ID, in ID order, so lookups are binary searches.

use crate::capacity::Table;
use crate::config::{MAX_NAME_LEN, MAX_SHARED_FILES, SHARED_NAME_BYTES};
use crate::id::Id;
use crate::profile::{Apps, WithApps};
use core::fmt;

// Offsets into the arena fit a `u16`, name lengths a `u8`.
const _: () = assert!(SHARED_NAME_BYTES <= u16::MAX as usize && MAX_NAME_LEN <= u8::MAX as usize);

/// One shared file: its ID and where its name lies in the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SharedFile {
    id: Id,
    start: u16,
    len: u8,
    /// Its locator is known to have reached the responsible node: a VERIFY
    /// for it came, or we keep it ourselves.
    confirmed: bool,
}

/// Up to [`MAX_SHARED_FILES`] distinct file names (none
/// [`WithoutApps`](crate::profile::WithoutApps)), in ID order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedFiles<A: Apps = WithApps> {
    /// The names' UTF-8 bytes, back to back.
    names: Table<u8, A::List<SHARED_NAME_BYTES>>,
    /// One entry per file, sorted by ID.
    index: Table<SharedFile, A::List<MAX_SHARED_FILES>>,
}

/// Why a shared-file list was refused; the previous list is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShareError {
    /// A name is empty.
    EmptyName,
    /// A name is longer than [`MAX_NAME_LEN`] bytes.
    NameTooLong,
    /// More than [`MAX_SHARED_FILES`] distinct names.
    TooManyFiles,
    /// The distinct names together exceed [`SHARED_NAME_BYTES`] bytes.
    NamesTooLong,
    /// A name holds a control character (NUL, a line break, DEL, …) or a
    /// path separator (`/` or `\`): it could not be a file's own name, and
    /// would garble a log line or a path built from it.
    InvalidCharacter,
}

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShareError::EmptyName => "a shared file name is empty",
            ShareError::NameTooLong => "a shared file name is too long",
            ShareError::TooManyFiles => "too many shared files",
            ShareError::NamesTooLong => "the shared file names are too long together",
            ShareError::InvalidCharacter => {
                "a shared file name holds a control character or a path separator ('/' or '\\')"
            }
        })
    }
}

impl core::error::Error for ShareError {}

impl<A: Apps> SharedFiles<A> {
    /// Replaces the whole list with `names` and returns how many distinct files it holds.
    ///
    /// A name listed twice is kept once. On error the previous list is left unchanged.
    pub fn set<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> Result<usize, ShareError> {
        let mut fresh = Self::default();
        for name in names {
            fresh.add(name)?;
        }
        // A file shared before keeps its receipt.
        for file in fresh.index.iter_mut() {
            file.confirmed = self.position(file.id).is_ok_and(|pos| self.index[pos].confirmed);
        }
        *self = fresh;
        Ok(self.len())
    }
}

impl SharedFiles {
    /// Checks one name as [`set`](SharedFiles::set) would: not empty, at
    /// most [`MAX_NAME_LEN`] bytes, no control character and no path separator.
    ///
    /// ```
    /// use mmp2p_core::tables::shared::{ShareError, SharedFiles};
    /// assert_eq!(SharedFiles::check_name("song.ogg"), Ok(()));
    /// assert_eq!(SharedFiles::check_name("../etc/passwd"), Err(ShareError::InvalidCharacter));
    /// assert_eq!(SharedFiles::check_name("a\0b"), Err(ShareError::InvalidCharacter));
    /// ```
    pub fn check_name(name: &str) -> Result<(), ShareError> {
        if name.is_empty() {
            return Err(ShareError::EmptyName);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(ShareError::NameTooLong);
        }
        if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
            return Err(ShareError::InvalidCharacter);
        }
        Ok(())
    }
}

impl<A: Apps> SharedFiles<A> {
    /// Adds one name in ID order; a name already listed is skipped.
    fn add(&mut self, name: &str) -> Result<(), ShareError> {
        SharedFiles::check_name(name)?;
        let len = u8::try_from(name.len()).map_err(|_| ShareError::NameTooLong)?;
        let id = Id::from_file_name(name);
        let Err(pos) = self.position(id) else {
            return Ok(());
        };
        if self.index.is_full() {
            return Err(ShareError::TooManyFiles);
        }
        let start = u16::try_from(self.names.len()).map_err(|_| ShareError::NamesTooLong)?;
        self.names.extend_from_slice(name.as_bytes()).map_err(|_| ShareError::NamesTooLong)?;
        let file = SharedFile { id, start, len, confirmed: false };
        self.index.insert(pos, file).map_err(|_| ShareError::TooManyFiles)
    }

    /// Where `id` is in the index, or where it would go.
    fn position(&self, id: Id) -> Result<usize, usize> {
        self.index.binary_search_by_key(&id, |f| f.id)
    }

    /// The name of an indexed file ("" if the arena were ever inconsistent).
    fn name(&self, file: &SharedFile) -> &str {
        let start = usize::from(file.start);
        let bytes = self.names.get(start..start + usize::from(file.len)).unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or_default()
    }

    /// How many distinct files are shared.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True if no file is shared.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Every file's ID and name, in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (Id, &str)> {
        self.index.iter().map(|f| (f.id, self.name(f)))
    }

    /// Every file's ID, in ID order.
    pub fn ids(&self) -> impl Iterator<Item = Id> + '_ {
        self.index.iter().map(|f| f.id)
    }

    /// True if a file with `id` is shared.
    pub fn contains(&self, id: Id) -> bool {
        self.position(id).is_ok()
    }

    /// The name of the shared file with `id`.
    pub fn name_of(&self, id: Id) -> Option<&str> {
        let pos = self.position(id).ok()?;
        self.index.get(pos).map(|f| self.name(f))
    }

    /// True if `key` is a shared file's ID or its mirror (see [`Id::mirror`]).
    pub fn shares(&self, key: Id) -> bool {
        self.contains(key) || self.contains(key.mirror())
    }

    /// Records that the locator of `id` reached the node responsible for it
    /// (no change for an ID not shared).
    pub fn confirm(&mut self, id: Id) {
        if let Ok(pos) = self.position(id) {
            self.index[pos].confirmed = true;
        }
    }

    /// True if the locator of the file at `index` is known to have reached
    /// the node responsible for it.
    pub fn is_confirmed(&self, index: usize) -> bool {
        self.index.get(index).is_some_and(|f| f.confirmed)
    }

    /// True if some file's locator is not known to have arrived.
    pub fn any_unconfirmed(&self) -> bool {
        self.index.iter().any(|f| !f.confirmed)
    }

    /// The file at `index` in ID order.
    pub fn get(&self, index: usize) -> Option<(Id, &str)> {
        self.index.get(index).map(|f| (f.id, self.name(f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    #[test]
    fn files_are_kept_in_id_order_once_each() {
        let mut files: SharedFiles = SharedFiles::default();
        let names = ["song.mp3", "paper.pdf", "Song.mp3", "song.mp3", "notes.txt", "paper.pdf"];
        assert_eq!(files.set(names), Ok(4));
        assert_eq!(files.len(), 4);
        let ids: Vec<Id> = files.ids().collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "strictly sorted: {ids:?}");
        let mut expected: Vec<(Id, &str)> =
            ["song.mp3", "paper.pdf", "Song.mp3", "notes.txt"].iter().map(|n| (Id::from_file_name(n), *n)).collect();
        expected.sort();
        assert_eq!(files.iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn lookups_by_id_and_position() {
        let mut files: SharedFiles = SharedFiles::default();
        files.set(["a.txt", "b.txt", "c.txt"]).unwrap();
        let b = Id::from_file_name("b.txt");
        assert!(files.contains(b));
        assert_eq!(files.name_of(b), Some("b.txt"));
        assert!(!files.contains(Id::from_file_name("d.txt")));
        assert_eq!(files.name_of(Id::from_file_name("d.txt")), None);
        for i in 0..3 {
            let (id, name) = files.get(i).unwrap();
            assert_eq!(id, Id::from_file_name(name));
            assert_eq!(files.name_of(id), Some(name));
        }
        assert_eq!(files.get(3), None);
        assert_eq!(files.get(usize::MAX), None);
    }

    #[test]
    fn each_error_is_reported() {
        let mut files: SharedFiles = SharedFiles::default();
        assert_eq!(files.set(["a", ""]), Err(ShareError::EmptyName));
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert_eq!(files.set(["a", long.as_str()]), Err(ShareError::NameTooLong));
        let too_long = "x".repeat(300);
        assert_eq!(files.set([too_long.as_str()]), Err(ShareError::NameTooLong));
        let many: Vec<String> = (0..=MAX_SHARED_FILES).map(|i| format!("f{i}")).collect();
        assert_eq!(files.set(many.iter().map(String::as_str)), Err(ShareError::TooManyFiles));
        // 300 distinct 64-byte names: 19 200 bytes, over the 16 KiB arena.
        let big: Vec<String> = (0..300).map(|i| format!("{i:064}")).collect();
        assert_eq!(files.set(big.iter().map(String::as_str)), Err(ShareError::NamesTooLong));
        for bad in ["nul\0.txt", "line\nbreak", "tab\t", "del\u{7f}", "c1\u{85}", "dir/file", "..\\up", "/"] {
            assert_eq!(files.set(["fine.txt", bad]), Err(ShareError::InvalidCharacter), "{bad:?}");
        }
        assert!(files.is_empty());
        assert_eq!(files.set(["späť ☃.ogg", "a b.txt"]), Ok(2), "other Unicode and spaces are fine");
    }

    #[test]
    fn a_refused_list_leaves_the_old_one() {
        let mut files: SharedFiles = SharedFiles::default();
        files.set(["keep.txt", "also.txt"]).unwrap();
        let before = files.clone();
        assert_eq!(files.set(["new.txt", ""]), Err(ShareError::EmptyName));
        assert_eq!(files, before);
        assert!(files.contains(Id::from_file_name("keep.txt")));
        assert!(!files.contains(Id::from_file_name("new.txt")));
        assert_eq!(files.set(core::iter::empty()), Ok(0));
        assert!(files.is_empty());
    }

    #[test]
    fn capacity_bounds() {
        let mut files: SharedFiles = SharedFiles::default();
        let full: Vec<String> = (0..MAX_SHARED_FILES).map(|i| format!("file-{i}")).collect();
        assert_eq!(files.set(full.iter().map(String::as_str)), Ok(MAX_SHARED_FILES));
        // Duplicates do not count towards the limit.
        let with_dups = full.iter().chain(full.iter()).map(String::as_str);
        assert_eq!(files.set(with_dups), Ok(MAX_SHARED_FILES));
        let over: Vec<String> = (0..=MAX_SHARED_FILES).map(|i| format!("file-{i}")).collect();
        assert_eq!(files.set(over.iter().map(String::as_str)), Err(ShareError::TooManyFiles));
        assert_eq!(files.len(), MAX_SHARED_FILES);
        // Exactly the arena: 256 distinct 64-byte names.
        let exact: Vec<String> = (0..SHARED_NAME_BYTES / MAX_NAME_LEN).map(|i| format!("{i:064}")).collect();
        assert_eq!(files.set(exact.iter().map(String::as_str)), Ok(SHARED_NAME_BYTES / MAX_NAME_LEN));
        assert!(files.iter().all(|(id, name)| id == Id::from_file_name(name) && name.len() == MAX_NAME_LEN));
    }

    #[test]
    fn name_length_limit_is_in_bytes() {
        let mut files: SharedFiles = SharedFiles::default();
        let max = "n".repeat(MAX_NAME_LEN);
        assert_eq!(files.set([max.as_str()]), Ok(1));
        assert_eq!(files.name_of(Id::from_file_name(&max)), Some(max.as_str()));
        let over = "n".repeat(MAX_NAME_LEN + 1);
        assert_eq!(files.set([over.as_str()]), Err(ShareError::NameTooLong));
        // 32 two-byte characters fit; 33 do not.
        let wide = "é".repeat(MAX_NAME_LEN / 2);
        assert_eq!(files.set([wide.as_str()]), Ok(1));
        assert_eq!(files.get(0), Some((Id::from_file_name(&wide), wide.as_str())));
        let wider = "é".repeat(MAX_NAME_LEN / 2 + 1);
        assert_eq!(files.set([wider.as_str()]), Err(ShareError::NameTooLong));
    }
}
