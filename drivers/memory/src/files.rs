//! The simulated nodes' files: content they serve (bytes and leaf tree, read
//! into outgoing datagrams when a node asks with a
//! [`Fill`]), and files they download (written
//! as [`Output::Write`](mmp2p_core::Output::Write) comes, with a bitmap of
//! verified leaves that outlives a restart, as a program's disk would).

use crate::{Network, NodeIndex, Uplink};
use mmp2p_core::content::{self, ContentId, Hash};
use mmp2p_core::event::{Fill, FillPiece, Write};
use mmp2p_core::profile::Profile;
use mmp2p_core::tables::uploads::Audience;
use mmp2p_core::{CommandError, RequestId};
use std::collections::HashMap;
use std::sync::Arc;

impl<P: Profile> Network<P> {
    /// Node `index` serves `bytes`, named `name`, to `audience` (it does
    /// not publish the name: see [`Node::share`](mmp2p_core::Node::share));
    /// returns the content's ID.
    pub fn share_content(&mut self, index: NodeIndex, name: &str, bytes: Vec<u8>, audience: Audience) -> ContentId {
        let key = mmp2p_core::Id::from_file_name(name);
        let (id, shared) = SharedContent::new(key, bytes, audience);
        self.slots[index.0].files.served.insert(id, shared);
        self.command(index, |node, _| node.serve_content(key, id, audience)).expect("room to serve");
        id
    }

    /// Node `index` starts fetching `content` from `owners` into a new file.
    pub fn download(
        &mut self,
        index: NodeIndex,
        content: ContentId,
        owners: &[NodeIndex],
    ) -> Result<RequestId, CommandError> {
        let owners: Vec<_> = owners.iter().map(|&o| Network::addr(o)).collect();
        let request = self.command(index, |node, now| node.download(now, content, &owners, &[]))?;
        self.slots[index.0].files.start(request, content);
        Ok(request)
    }

    /// Node `index` (restarted, say) resumes download `old` from `owners`,
    /// asking only for the leaves its file's bitmap lacks; the file is now
    /// the new download's.
    pub fn resume_download(
        &mut self,
        index: NodeIndex,
        old: RequestId,
        owners: &[NodeIndex],
    ) -> Result<RequestId, CommandError> {
        let file = self.slots[index.0].files.downloads.remove(&old).expect("a download of this node");
        let (content, missing) = (file.content, file.missing());
        let owners: Vec<_> = owners.iter().map(|&o| Network::addr(o)).collect();
        let request = self.command(index, |node, now| node.download(now, content, &owners, &missing))?;
        self.slots[index.0].files.downloads.insert(request, file);
        Ok(request)
    }

    /// Serves again what node `index` served before it restarted (its program starting again).
    pub(crate) fn serve_again(&mut self, index: NodeIndex) {
        let served: Vec<_> = self.slots[index.0].files.served.iter().map(|(id, s)| (s.key, *id, s.audience)).collect();
        for (key, id, audience) in served {
            // Cannot fail: the node served as much before.
            let _ = self.slots[index.0].node.serve_content(key, id, audience);
        }
    }

    /// Node `index`'s files.
    pub fn files(&self, index: NodeIndex) -> &NodeFiles {
        &self.slots[index.0].files
    }

    /// Node `index`'s files, to change (make an owner lie, say).
    pub fn files_mut(&mut self, index: NodeIndex) -> &mut NodeFiles {
        &mut self.slots[index.0].files
    }

    /// Node `index` sends `bytes`, named `name`, to every member of
    /// conference `session` at `rate` bytes a second (`stream`: played as
    /// it comes); returns the transfer's number.
    pub fn conference_send(
        &mut self,
        index: NodeIndex,
        session: mmp2p_core::conference::SessionId,
        (name, bytes): (&str, Vec<u8>),
        rate: u32,
        stream: bool,
    ) -> Result<u64, CommandError> {
        let key = mmp2p_core::Id::from_file_name(name);
        let (id, shared) = SharedContent::new(key, bytes, Audience::Friends);
        self.slots[index.0].files.served.insert(id, shared);
        self.command(index, |node, now| node.conference_send(now, session, (id, name), rate, stream))
    }

    /// Gives node `index`'s uplink a rate and a queue (a bottleneck).
    pub fn set_uplink(&mut self, index: NodeIndex, uplink: Uplink) {
        self.slots[index.0].uplink = Some(uplink);
    }
}

/// A served file: its bytes and its leaf tree.
#[derive(Clone, Debug)]
pub struct SharedContent {
    /// The file's bytes.
    pub bytes: Arc<Vec<u8>>,
    /// Every level of its tree, leaves first (see [`content::build_levels`]).
    pub tree: Arc<Vec<Hash>>,
    /// Who may fetch it.
    pub audience: Audience,
    /// The file ID it is served under.
    pub key: mmp2p_core::Id,
}

impl SharedContent {
    /// Hashes `bytes`, served under `key`, into its ID and tree.
    pub fn new(key: mmp2p_core::Id, bytes: Vec<u8>, audience: Audience) -> (ContentId, SharedContent) {
        let mut tree = vec![[0u8; 32]; content::tree_len(content::leaf_count_of(bytes.len() as u64))];
        let id = content::hash_tree(&bytes, &mut tree);
        (id, SharedContent { bytes: Arc::new(bytes), tree: Arc::new(tree), audience, key })
    }
}

/// A file being downloaded: its bytes so far and which leaves verified.
#[derive(Clone, Debug)]
pub struct DownloadFile {
    /// The file.
    pub content: ContentId,
    /// Its bytes (zeros where nothing was written).
    pub bytes: Vec<u8>,
    /// Leaf `i` verified.
    pub verified: Vec<bool>,
    /// How many times each leaf was verified (over restarts too).
    pub times_verified: Vec<u32>,
}

impl DownloadFile {
    /// The leaves not verified, as ranges (what a resumed download asks for).
    pub fn missing(&self) -> Vec<std::ops::Range<u32>> {
        content::missing_ranges(self.content.leaf_count(), |leaf| self.verified[leaf as usize]).collect()
    }

    /// True once every leaf verified and the bytes hash to the root.
    pub fn is_complete(&self) -> bool {
        self.verified.iter().all(|v| *v) && ContentId::of(&self.bytes) == self.content
    }
}

/// One node's files.
#[derive(Clone, Debug, Default)]
pub struct NodeFiles {
    /// Content served, by ID.
    pub served: HashMap<ContentId, SharedContent>,
    /// Files downloaded, by the download's id.
    pub downloads: HashMap<RequestId, DownloadFile>,
    /// Flip a bit of every chunk read whose offset is a multiple of this (a
    /// lying or broken owner); 0: never.
    pub corrupt_every: u64,
    /// Fills that could not be read (unknown content).
    pub fill_errors: u64,
    /// Writes for no known download.
    pub write_errors: u64,
}

impl NodeFiles {
    /// Reads `fill` into `out` — from content served here, or else from a
    /// file being received (a conference member passing pieces on); false
    /// if neither holds it.
    pub fn fill(&mut self, fill: &Fill, out: &mut [u8]) -> bool {
        let Some(shared) = self.served.get(&fill.content) else {
            let received = self.downloads.values().find(|d| d.content == fill.content);
            let bytes = match (received, fill.piece) {
                (Some(file), FillPiece::Bytes { offset }) => {
                    file.bytes.get(offset as usize..offset as usize + out.len())
                }
                _ => None,
            };
            let Some(bytes) = bytes else {
                self.fill_errors += 1;
                return false;
            };
            out.copy_from_slice(bytes);
            return true;
        };
        match fill.piece {
            FillPiece::Bytes { offset } => {
                let start = offset as usize;
                let Some(bytes) = shared.bytes.get(start..start + out.len()) else {
                    self.fill_errors += 1;
                    return false;
                };
                out.copy_from_slice(bytes);
                if self.corrupt_every > 0 && offset % self.corrupt_every == 0 {
                    out[0] ^= 0x01;
                }
            }
            FillPiece::Proof { block } => {
                content::write_block_proof(fill.content.leaf_count(), &shared.tree, block, out);
            }
        }
        true
    }

    /// Writes received bytes; false for an unknown download or a range past its end.
    pub fn write(&mut self, write: &Write, bytes: &[u8]) -> bool {
        let Some(file) = self.downloads.get_mut(&write.request) else {
            self.write_errors += 1;
            return false;
        };
        let start = write.offset as usize;
        match file.bytes.get_mut(start..start + bytes.len()) {
            Some(out) => {
                out.copy_from_slice(bytes);
                true
            }
            None => {
                self.write_errors += 1;
                false
            }
        }
    }

    /// Marks leaf `leaf` of download `request` verified.
    pub fn verified(&mut self, request: RequestId, leaf: u32) {
        if let Some(file) = self.downloads.get_mut(&request) {
            if let (Some(done), Some(times)) =
                (file.verified.get_mut(leaf as usize), file.times_verified.get_mut(leaf as usize))
            {
                *done = true;
                *times += 1;
            }
        }
    }

    /// A new file to download `content` into, under `request`.
    pub fn start(&mut self, request: RequestId, content: ContentId) {
        let leaves = content.leaf_count() as usize;
        let file = DownloadFile {
            content,
            bytes: vec![0; content.size as usize],
            verified: vec![false; leaves],
            times_verified: vec![0; leaves],
        };
        self.downloads.insert(request, file);
    }
}
