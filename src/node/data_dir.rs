//! The user's data directory (`--data-dir`): the messenger's state between
//! runs, one JSON file per kind of state, each written atomically.
//!
//! | File | Holds |
//! | --- | --- |
//! | `contacts.json` | contacts: e-mail, address, key, conversation counters, group |
//! | `groups.json` | the contact groups, in the user's order |
//! | `requests.json` | friend requests received and not answered, and those sent |
//! | `outbox.json` | messages sent and not yet delivered |
//! | `history.json` | the conversations, the last [`HISTORY_PER_FRIEND`] messages each |
//! | `presence.json` | the user's own presence and its version |
//! | `downloads.json` | downloads not finished: name, content, partial file, owners |
//!
//! A missing file is empty state. A file that does not read is named in an
//! error, and the node starts with everything else.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Messages kept per conversation in `history.json`.
pub const HISTORY_PER_FRIEND: usize = 200;

/// One file of the data directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFile {
    /// Contacts.
    Contacts,
    /// Contact groups.
    Groups,
    /// Pending friend requests.
    Requests,
    /// Undelivered messages.
    Outbox,
    /// Conversation history.
    History,
    /// The user's presence.
    Presence,
    /// Unfinished downloads.
    Downloads,
}

impl DataFile {
    /// Its file name.
    pub fn name(self) -> &'static str {
        match self {
            DataFile::Contacts => "contacts.json",
            DataFile::Groups => "groups.json",
            DataFile::Requests => "requests.json",
            DataFile::Outbox => "outbox.json",
            DataFile::History => "history.json",
            DataFile::Presence => "presence.json",
            DataFile::Downloads => "downloads.json",
        }
    }
}

/// An unfinished download as kept on disk (its leaves are in the partial
/// file's bitmap beside it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedDownload {
    /// The file's name.
    pub name: String,
    /// Its BLAKE3 root, in hex.
    pub root: String,
    /// Its size.
    pub size: u64,
    /// Where it goes when done.
    pub path: PathBuf,
    /// The owners last fetched from.
    pub owners: Vec<String>,
}

/// A contact as kept on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedContact {
    /// The friend's e-mail address, if known.
    pub email: Option<String>,
    /// Its ID, in hex.
    pub id: String,
    /// Where it was last known to be.
    pub addr: String,
    /// The identity key the friendship was made with, in hex.
    pub key: String,
    /// The nonce of the request that began the friendship.
    pub since: u64,
    /// The number our next message gets.
    pub next_seq: u32,
    /// The friend delivered our messages up to this number.
    pub receipted: u32,
    /// We delivered the friend's messages up to this number.
    pub delivered: u32,
}

/// The contact groups: their names in the user's order, and who is in which.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedGroups {
    /// The groups' names.
    pub groups: Vec<String>,
    /// Contact ID (hex) → its group.
    pub members: std::collections::BTreeMap<String, String>,
}

/// A friend request as kept on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRequest {
    /// The other user's ID, in hex.
    pub id: String,
    /// Its e-mail address, if known.
    pub email: Option<String>,
    /// Received: where it asked from; sent: empty.
    pub addr: String,
    /// Received: the key it signed with, in hex; sent: empty.
    pub key: String,
    /// The request's nonce.
    pub nonce: u64,
    /// Its note.
    pub text: String,
}

/// Pending friend requests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRequests {
    /// Received and not answered.
    pub incoming: Vec<SavedRequest>,
    /// Sent and not answered.
    pub outgoing: Vec<SavedRequest>,
}

/// A message sent and not yet delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMessage {
    /// The friend's ID, in hex.
    pub friend: String,
    /// Its number in the conversation.
    pub seq: u32,
    /// Its text.
    pub text: String,
}

/// A message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The friend's ID, in hex.
    pub friend: String,
    /// True if we sent it.
    pub outgoing: bool,
    /// Its number in its direction of the conversation.
    pub seq: u32,
    /// Its text.
    pub text: String,
    /// When it was sent or read, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Sent messages: the friend's receipt came.
    pub delivered: bool,
}

/// The user's presence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPresence {
    /// `online`, `away`, `busy` or `offline`.
    pub status: String,
    /// The status text.
    pub text: String,
    /// Its version.
    pub version: u64,
}

/// A data file that could not be read or written.
#[derive(Debug)]
pub enum DataError {
    /// Reading or writing failed.
    Io(PathBuf, io::Error),
    /// The file is not what it should hold.
    Corrupt(PathBuf, serde_json::Error),
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io(path, e) => write!(f, "data file {}: {e}", path.display()),
            DataError::Corrupt(path, e) => write!(f, "data file {} is corrupt: {e}", path.display()),
        }
    }
}

impl std::error::Error for DataError {}

/// The data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The directory at `root`, made (readable by its owner only) if missing.
    pub fn open(root: &Path) -> Result<DataDir, DataError> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(root).map_err(|e| DataError::Io(root.to_owned(), e))?;
        Ok(DataDir { root: root.to_owned() })
    }

    /// Where `file` lives.
    pub fn path(&self, file: DataFile) -> PathBuf {
        self.root.join(file.name())
    }

    /// Reads `file`: its default if missing.
    pub fn load<T: DeserializeOwned + Default>(&self, file: DataFile) -> Result<T, DataError> {
        let path = self.path(file);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| DataError::Corrupt(path, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
            Err(e) => Err(DataError::Io(path, e)),
        }
    }

    /// Writes `value` to `file`, atomically.
    pub fn save<T: Serialize>(&self, file: DataFile, value: &T) -> Result<(), DataError> {
        let path = self.path(file);
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| DataError::Corrupt(path.clone(), e))?;
        bytes.push(b'\n');
        write_atomically(&path, &bytes).map_err(|e| DataError::Io(path, e))
    }
}

/// Writes `bytes` to `path` through a temporary file beside it, synced and
/// renamed over the old file, so a crash never leaves a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let file_name = path.file_name().map_or_else(|| "data".into(), |n| n.to_string_lossy().into_owned());
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let write = || -> io::Result<()> {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_and_a_corrupt_one_is_named_alone() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::open(&dir.path().join("user")).unwrap();
        let groups: SavedGroups = data.load(DataFile::Groups).unwrap();
        assert!(groups.groups.is_empty(), "a missing file is empty state");
        let groups = SavedGroups { groups: vec!["family".into(), "work".into()], members: Default::default() };
        data.save(DataFile::Groups, &groups).unwrap();
        let presence = SavedPresence { status: "away".into(), text: "lunch".into(), version: 7 };
        data.save(DataFile::Presence, &presence).unwrap();
        assert_eq!(data.load::<SavedGroups>(DataFile::Groups).unwrap(), groups);
        fs::write(data.path(DataFile::Groups), b"[\"family\", ").unwrap();
        let error = data.load::<SavedGroups>(DataFile::Groups).unwrap_err().to_string();
        assert!(error.contains("groups.json is corrupt"), "{error}");
        assert_eq!(data.load::<SavedPresence>(DataFile::Presence).unwrap(), presence, "the others still read");
        let leftovers = fs::read_dir(dir.path().join("user")).unwrap().filter_map(Result::ok);
        assert!(leftovers.map(|e| e.file_name()).all(|n| !n.to_string_lossy().ends_with(".tmp")));
    }
}
