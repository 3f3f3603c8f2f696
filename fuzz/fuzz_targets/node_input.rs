//! The node fuzz target's input decoder: operands read from the fuzz input,
//! past its end as zeros, so every input decodes.

use super::*;

/// Reads operands; past the end every read yields zeros.
pub(crate) struct Reader<'a> {
    pub(crate) data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    pub(crate) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// One byte `b`:
    /// - `b < 0x80`: `b << 121`, one of 128 points spread around the ring;
    /// - `0x80..=0xbf`: a known ID (`KNOWN_IDS[(b & 7) % 6]`) plus `((b >> 3) & 7) - 3`;
    /// - `0xc0..`: the next 16 bytes, big-endian.
    pub(crate) fn id(&mut self) -> Id {
        let b = self.u8();
        match b {
            0x00..=0x7f => Id(u128::from(b) << 121),
            0x80..=0xbf => {
                let base = KNOWN_IDS[usize::from(b & 7) % KNOWN_IDS.len()];
                let offset = i128::from((b >> 3) & 7) - 3;
                Id(base.wrapping_add(offset as u128))
            }
            _ => {
                let mut raw = [0u8; 16];
                for byte in &mut raw {
                    *byte = self.u8();
                }
                Id(u128::from_be_bytes(raw))
            }
        }
    }

    /// One byte `b`: `0xf0..` is the node itself; otherwise the address is
    /// peer `b & 3`'s, with port 4001 instead of 4000 if bit 2 is set, and the
    /// ID that peer's own unless bit 3 is set, when an [`id`](Self::id) follows.
    pub(crate) fn locator(&mut self) -> ResourceLocator {
        let b = self.u8();
        if b >= 0xf0 {
            return me();
        }
        let mut addr = peer_addr(b & 3);
        if b & 4 != 0 {
            addr.set_port(PORT + 1);
        }
        let id = if b & 8 != 0 { self.id() } else { Id(PEER_IDS[usize::from(b & 3)]) };
        ResourceLocator::new(id, addr)
    }

    /// One byte `b`: `(b & 7) % (max + 1)` locators follow, after `first` if
    /// given; with bit 7 set the whole chain is sorted by distance from the
    /// node on `side`, as a plausible chain is.
    pub(crate) fn chain(&mut self, side: Side, first: Option<ResourceLocator>, max: usize) -> Chain {
        let b = self.u8();
        let mut entries: Vec<ResourceLocator> = first.into_iter().collect();
        let n = usize::from(b & 7) % (max + 1);
        for _ in 0..n {
            entries.push(self.locator());
        }
        if b & 0x80 != 0 {
            let me = Id(ME_ID);
            entries.sort_by_key(|c| match side {
                Side::Right => me.distance_to(c.id),
                Side::Left => c.id.distance_to(me),
            });
        }
        entries.into_iter().take(MAX_CHAIN).collect()
    }

    /// A file name (see the module documentation).
    pub(crate) fn file_name(&mut self) -> String {
        let b = self.u8();
        if b < 0xc0 {
            return short_name(b);
        }
        let len = usize::from(self.u8()) % 80;
        String::from_utf8_lossy(self.bytes(len)).into_owned()
    }

    /// A STORE entry: a file name and its MD5 (the name dropped if over
    /// `STORE_NAME_LEN` bytes), or for `0xff` an id with no name.
    pub(crate) fn file_entry(&mut self) -> FileEntry {
        if self.data.first() == Some(&0xff) {
            self.u8();
            return FileEntry { key: self.id(), name: Default::default(), signature: Signature([0; 64]) };
        }
        let name = self.file_name();
        let key = Id::from_file_name(&name);
        FileEntry { key, name: name.as_str().try_into().unwrap_or_default(), signature: Signature([0; 64]) }
    }

    /// Up to [`MAX_OWNERS_PER_REPLY`] locators: a count byte, then the locators.
    pub(crate) fn owners(&mut self) -> Vec<ResourceLocator> {
        let n = usize::from(self.u8()) % (MAX_OWNERS_PER_REPLY + 1);
        (0..n).map(|_| self.locator()).collect()
    }

    pub(crate) fn side(&mut self) -> Side {
        if self.u8() & 1 == 0 {
            Side::Left
        } else {
            Side::Right
        }
    }
}

/// One of the 64 short file names the ops share.
pub(crate) fn short_name(b: u8) -> String {
    format!("file-{:02x}.bin", b & 0x3f)
}
