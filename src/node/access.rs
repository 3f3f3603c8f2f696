//! The access file (the paper's `access.dat`): the bootstrap list on disk.
//!
//! One entry per line, `ID [ADDR]:PORT` (the ID in hex; the key node's is
//! `0`); blank lines and `#` comments are ignored. The file is read at start
//! and written after every successful join and at exit, atomically: a
//! temporary file beside it is written, synced and renamed over it, so a
//! crash never leaves a half-written list.

use super::control::parse_address;
use mmp2p_core::config::BOOTSTRAP_CAPACITY;
use mmp2p_core::{Id, ResourceLocator};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why the access file could not be used.
#[derive(Debug)]
pub enum AccessFileError {
    /// It could not be read or written.
    Io(PathBuf, io::Error),
    /// A line is not `ID [ADDR]:PORT`.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for AccessFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessFileError::Io(path, e) => write!(f, "access file {}: {e}", path.display()),
            AccessFileError::Corrupt { path, line, reason } => {
                write!(f, "access file {} is corrupt at line {line}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for AccessFileError {}

/// Reads the entries of the access file at `path`; a missing file has none.
/// Entries beyond the bootstrap list's capacity are ignored.
pub fn load(path: &Path) -> Result<Vec<ResourceLocator>, AccessFileError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(AccessFileError::Io(path.to_owned(), e)),
    };
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let corrupt = |reason: String| AccessFileError::Corrupt { path: path.to_owned(), line: index + 1, reason };
        let (id, addr) =
            line.split_once(char::is_whitespace).ok_or_else(|| corrupt("expected ID [ADDR]:PORT".into()))?;
        let id: Id = id.parse().map_err(|e| corrupt(format!("ID {id:?}: {e}")))?;
        let addr = parse_address(addr).map_err(|e| corrupt(format!("address {:?}: {e}", addr.trim())))?;
        if entries.len() < BOOTSTRAP_CAPACITY {
            entries.push(ResourceLocator::new(id, addr));
        }
    }
    Ok(entries)
}

/// Writes `entries` to the access file at `path`, atomically.
pub fn save(path: &Path, entries: &[ResourceLocator]) -> Result<(), AccessFileError> {
    let mut text = String::from("# MMP2P bootstrap list: ID [ADDR]:PORT, best first\n");
    for entry in entries {
        text.push_str(&format!("{} {}\n", entry.id, entry.addr));
    }
    super::data_dir::write_atomically(path, text.as_bytes()).map_err(|e| AccessFileError::Io(path.to_owned(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locator(id: u128, port: u16) -> ResourceLocator {
        ResourceLocator::new(Id(id), format!("[fd00::1]:{port}").parse().unwrap())
    }

    #[test]
    fn saved_entries_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.dat");
        assert_eq!(load(&path).unwrap(), vec![], "a missing file has no entries");
        let entries = vec![locator(0, 4000), locator(0xabc, 4001)];
        save(&path, &entries).unwrap();
        assert_eq!(load(&path).unwrap(), entries);
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn a_corrupt_file_names_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.dat");
        fs::write(&path, "# list\n0 [::1]:4000\n0 127.0.0.1:4000\n").unwrap();
        let error = load(&path).unwrap_err();
        assert!(matches!(error, AccessFileError::Corrupt { line: 3, .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("access.dat") && message.contains("line 3"), "{message}");
        fs::write(&path, "zz [::1]:4000\n").unwrap();
        assert!(matches!(load(&path), Err(AccessFileError::Corrupt { line: 1, .. })));
        fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(load(&path).is_err(), "bytes that are not text are an error, not a panic");
    }
}
