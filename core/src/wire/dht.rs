//! Fields of the locator DHT's messages: file entries and the bounded lists
//! they travel in.

use super::cursor::{Reader, Writer};
use super::error::WireError;
use crate::config::STORE_NAME_LEN;
use crate::id::{Id, ResourceLocator};
use crate::identity::{PublicKey, Signature};
use crate::registration::Registration;

/// Most file entries one STORE carries: 13 without names fill 1169 bytes.
pub const MAX_STORE_BATCH: usize = 13;
/// Most keys one VERIFY asks about (one bit each in the reply's mask).
pub const MAX_VERIFY_KEYS: usize = 32;
/// Most contact IDs in one FRIEND_DIGEST (1 + 64 × 16 bytes of body).
pub const MAX_DIGEST_IDS: usize = 64;
/// Most owners one SEARCH_REPLY carries, so that it stays within 3× a padded request.
pub const MAX_OWNERS_PER_REPLY: usize = 4;
/// Most entries one REPLICATE carries (6 × 183 bytes at most).
pub const MAX_REPLICATE_BATCH: usize = 6;
/// Most names one FILE_LIST page carries (it also stays within 3× its padded request).
pub const MAX_NAMES_PER_PAGE: usize = 12;
/// Most registrations one REGISTRY_COPY carries (8 × 142 bytes).
pub const MAX_REGISTRY_COPY: usize = 8;

/// A published file: its ID, if it is short enough its name, and the
/// owner's signature of the locator (see [`locator_signature`](crate::locator_signature)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FileEntry {
    /// The file ID (MD5 of the name).
    pub key: Id,
    /// The name, or empty if it is longer than [`STORE_NAME_LEN`].
    pub name: heapless::String<STORE_NAME_LEN>,
    /// The owner's signature of "the STORE's owner shares `key`".
    pub signature: Signature,
}

/// An owner in a search result, with its signature of the locator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SignedOwner {
    /// The owner's ID at its address.
    pub owner: ResourceLocator,
    /// The owner's signature of "`owner` shares the key searched".
    pub signature: Signature,
}

impl SignedOwner {
    /// Bytes of a signed owner on the wire.
    pub const WIRE_LEN: usize = ResourceLocator::WIRE_LEN + Signature::LEN;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<SignedOwner, WireError> {
        Ok(SignedOwner { owner: r.locator()?, signature: Signature(r.take()?) })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.locator(&self.owner);
        w.put(&self.signature.0);
    }
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
    /// The owner's public key.
    pub owner_key: PublicKey,
    /// The owner's signature of the locator.
    pub signature: Signature,
}

impl ReplicaEntry {
    pub(super) fn wire_len(&self) -> usize {
        Id::LEN + ResourceLocator::WIRE_LEN + 4 + 1 + self.name.len() + PublicKey::LEN + Signature::LEN
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ReplicaEntry, WireError> {
        Ok(ReplicaEntry {
            key: r.id()?,
            owner: r.locator()?,
            lifetime_secs: r.u32()?,
            name: r.name()?,
            owner_key: PublicKey(r.take()?),
            signature: Signature(r.take()?),
        })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.id(self.key);
        w.locator(&self.owner);
        w.u32(self.lifetime_secs);
        w.name(&self.name);
        w.put(&self.owner_key.0);
        w.put(&self.signature.0);
    }
}

impl FileEntry {
    /// Bytes of an entry on the wire with a name of `name_len` bytes.
    pub const fn wire_len_for(name_len: usize) -> usize {
        Id::LEN + 1 + name_len + Signature::LEN
    }

    pub(super) fn wire_len(&self) -> usize {
        FileEntry::wire_len_for(self.name.len())
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<FileEntry, WireError> {
        Ok(FileEntry { key: r.id()?, name: r.name()?, signature: Signature(r.take()?) })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.id(self.key);
        w.name(&self.name);
        w.put(&self.signature.0);
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
