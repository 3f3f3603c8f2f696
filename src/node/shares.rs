//! The shared directory: the names of the files in it are what a node shares.

use mmp2p_core::tables::shared::SharedFiles;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why the shared directory could not be read.
#[derive(Debug)]
pub struct ShareDirError {
    /// The directory.
    pub path: PathBuf,
    /// The error reading it.
    pub error: io::Error,
}

impl fmt::Display for ShareDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "share directory {}: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for ShareDirError {}

/// The names of the regular files directly in `dir`, sorted. Names that are
/// not UTF-8 or that the core refuses (too long, a control character) are
/// skipped and logged.
pub fn scan(dir: &Path) -> Result<Vec<String>, ShareDirError> {
    let error = |error| ShareDirError { path: dir.to_owned(), error };
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(error)? {
        let entry = entry.map_err(error)?;
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        match entry.file_name().into_string() {
            Ok(name) => match SharedFiles::check_name(&name) {
                Ok(()) => names.push(name),
                Err(refused) => tracing::warn!(?name, "not shared: {refused}"),
            },
            Err(name) => tracing::warn!(?name, "not shared: the name is not UTF-8"),
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmp2p_core::config::MAX_NAME_LEN;

    #[test]
    fn only_regular_files_with_usable_names_are_shared() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b.txt"), "").unwrap();
        fs::write(dir.path().join("a.mp3"), "").unwrap();
        fs::write(dir.path().join("x".repeat(MAX_NAME_LEN + 1)), "").unwrap();
        fs::write(dir.path().join("line\nbreak.txt"), "").unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        assert_eq!(scan(dir.path()).unwrap(), ["a.mp3", "b.txt"]);
        let missing = scan(&dir.path().join("missing")).unwrap_err();
        assert!(missing.to_string().contains("missing"), "{missing}");
    }
}
