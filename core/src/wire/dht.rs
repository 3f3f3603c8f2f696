//! Fields of the locator DHT's messages: file entries and the bounded lists
//! they travel in.

use super::cursor::{Reader, Writer};
use super::error::WireError;
use crate::config::STORE_NAME_LEN;
use crate::id::{Id, ResourceLocator};
use crate::identity::{PublicKey, Signature};
use crate::registration::Registration;

/// Most file entries one STORE carries.
pub const MAX_STORE_BATCH: usize = 24;
/// Most keys one VERIFY asks about (one bit each in the reply's mask).
pub const MAX_VERIFY_KEYS: usize = 32;
/// Most contact IDs in one FRIEND_DIGEST (1 + 64 × 16 bytes of body).
pub const MAX_DIGEST_IDS: usize = 64;
/// Most owners one SEARCH_REPLY carries, so that it stays within 3× a padded request.
pub const MAX_OWNERS_PER_REPLY: usize = 12;
/// Most entries one REPLICATE carries.
pub const MAX_REPLICATE_BATCH: usize = 12;
/// Most names one FILE_LIST page carries (it also stays within 3× its padded request).
pub const MAX_NAMES_PER_PAGE: usize = 12;
/// Most registrations one REGISTRY_COPY carries (8 × 142 bytes).
pub const MAX_REGISTRY_COPY: usize = 8;

/// A published file: its ID and, if it is short enough, its name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FileEntry {
    /// The file ID (MD5 of the name).
    pub key: Id,
    /// The name, or empty if it is longer than [`STORE_NAME_LEN`].
    pub name: heapless::String<STORE_NAME_LEN>,
}

/// A stored locator copied to a neighbour, with the time it has left.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReplicaEntry {
    /// The file or user ID.
    pub key: Id,
    /// Who shares it.
    pub owner: ResourceLocator,
    /// Seconds until the entry expires, as its sender counts them.
    pub lifetime_secs: u32,
    /// The name, or empty.
    pub name: heapless::String<STORE_NAME_LEN>,
}

impl ReplicaEntry {
    pub(super) fn wire_len(&self) -> usize {
        Id::LEN + ResourceLocator::WIRE_LEN + 4 + 1 + self.name.len()
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ReplicaEntry, WireError> {
        Ok(ReplicaEntry { key: r.id()?, owner: r.locator()?, lifetime_secs: r.u32()?, name: r.name()? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.id(self.key);
        w.locator(&self.owner);
        w.u32(self.lifetime_secs);
        w.name(&self.name);
    }
}

impl FileEntry {
    pub(super) fn wire_len(&self) -> usize {
        Id::LEN + 1 + self.name.len()
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<FileEntry, WireError> {
        Ok(FileEntry { key: r.id()?, name: r.name()? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.id(self.key);
        w.name(&self.name);
    }
}

/// A registration on the wire: the owner's locator, key, sequence number,
/// nonce and signature ([`Registration::WIRE_LEN`] bytes).
pub(super) fn parse_registration(r: &mut Reader<'_>) -> Result<Registration, WireError> {
    let locator = r.locator()?;
    let key = PublicKey(r.take()?);
    let (seq, nonce) = (r.u32()?, r.u64()?);
    let signature = Signature(r.take()?);
    Ok(Registration { id: locator.id, key, addr: locator.addr, seq, nonce, signature })
}

/// Writes a registration as [`parse_registration`] reads it.
pub(super) fn emit_registration(w: &mut Writer<'_>, record: &Registration) {
    w.locator(&record.locator());
    w.put(&record.key.0);
    w.u32(record.seq);
    w.u64(record.nonce);
    w.put(&record.signature.0);
}
