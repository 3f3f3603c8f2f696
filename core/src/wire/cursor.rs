//! Bounds-checked big-endian reading and writing over byte slices.

use super::error::WireError;
use super::fields::{Chain, Side};
use crate::id::{Id, ResourceLocator};
use core::net::{Ipv6Addr, SocketAddrV6};

/// Reads big-endian fields from a slice; every read checks the bounds.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    pub(crate) fn take<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let (head, rest) = self.bytes.split_first_chunk::<N>().ok_or(WireError::Truncated)?;
        self.bytes = rest;
        Ok(*head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        self.take::<1>().map(|[b]| b)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
        self.take().map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        self.take().map(u32::from_be_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, WireError> {
        self.take().map(u64::from_be_bytes)
    }

    pub(crate) fn id(&mut self) -> Result<Id, WireError> {
        self.take().map(Id::from_be_bytes)
    }

    /// A name: a one-byte length, then that many bytes of UTF-8, at most `N`.
    pub(crate) fn name<const N: usize>(&mut self) -> Result<heapless::String<N>, WireError> {
        let len = usize::from(self.u8()?);
        self.text(len)
    }

    /// A longer text: a two-byte length, then that many bytes of UTF-8, at most `N`.
    pub(crate) fn long_text<const N: usize>(&mut self) -> Result<heapless::String<N>, WireError> {
        let len = usize::from(self.u16()?);
        self.text(len)
    }

    /// `len` bytes of UTF-8, at most `N`.
    fn text<const N: usize>(&mut self, len: usize) -> Result<heapless::String<N>, WireError> {
        if len > N {
            return Err(WireError::CountTooLarge);
        }
        let text = core::str::from_utf8(self.bytes(len)?).map_err(|_| WireError::InvalidField)?;
        let mut name = heapless::String::new();
        // Cannot fail: len <= N was checked above.
        let _ = name.push_str(text);
        Ok(name)
    }

    /// The next `len` bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        let bytes = self.bytes.get(..len).ok_or(WireError::Truncated)?;
        self.bytes = &self.bytes[len..];
        Ok(bytes)
    }

    /// A locator; its address must be a usable unicast IPv6 address.
    pub(crate) fn locator(&mut self) -> Result<ResourceLocator, WireError> {
        let id = self.id()?;
        let ip = Ipv6Addr::from(self.take::<16>()?);
        let port = self.u16()?;
        let locator = ResourceLocator::new(id, SocketAddrV6::new(ip, port, 0, 0));
        if !locator.is_usable() {
            return Err(WireError::InvalidAddress);
        }
        Ok(locator)
    }

    /// A list: a one-byte count, then that many items; a count over `N` is
    /// [`WireError::CountTooLarge`].
    pub(crate) fn list<T, const N: usize>(
        &mut self,
        mut item: impl FnMut(&mut Reader<'a>) -> Result<T, WireError>,
    ) -> Result<heapless::Vec<T, N>, WireError> {
        let count = usize::from(self.u8()?);
        if count > N {
            return Err(WireError::CountTooLarge);
        }
        let mut list = heapless::Vec::new();
        for _ in 0..count {
            // Cannot overflow: count <= N was checked above.
            let _ = list.push(item(self)?);
        }
        Ok(list)
    }

    /// A side: 0 left, 1 right.
    /// A flag byte: 0 or 1.
    pub(crate) fn flag(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(WireError::InvalidField),
        }
    }

    /// A flag byte, then the item if it is 1.
    pub(crate) fn optional<T>(
        &mut self,
        item: impl FnOnce(&mut Reader<'a>) -> Result<T, WireError>,
    ) -> Result<Option<T>, WireError> {
        if self.flag()? {
            item(self).map(Some)
        } else {
            Ok(None)
        }
    }

    pub(crate) fn side(&mut self) -> Result<Side, WireError> {
        match self.u8()? {
            0 => Ok(Side::Left),
            1 => Ok(Side::Right),
            _ => Err(WireError::InvalidField),
        }
    }

    /// A neighbour chain: a list of locators.
    pub(crate) fn chain(&mut self) -> Result<Chain, WireError> {
        self.list(|r| r.locator())
    }

    /// Padding: `count` bytes that must all be zero.
    pub(crate) fn zeros(&mut self, count: usize) -> Result<(), WireError> {
        let padding = self.bytes.get(..count).ok_or(WireError::Truncated)?;
        if padding.iter().any(|&b| b != 0) {
            return Err(WireError::InvalidField);
        }
        self.bytes = &self.bytes[count..];
        Ok(())
    }

    /// Fails with [`WireError::TrailingBytes`] unless everything was read.
    pub(crate) fn finish(self) -> Result<(), WireError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes)
        }
    }
}

/// Writes big-endian fields into a slice the caller sized beforehand.
pub(crate) struct Writer<'a> {
    bytes: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// `bytes` must be exactly as long as what will be written.
    pub(crate) fn new(bytes: &'a mut [u8]) -> Self {
        Writer { bytes, pos: 0 }
    }

    pub(crate) fn put(&mut self, field: &[u8]) {
        let end = self.pos + field.len();
        self.bytes[self.pos..end].copy_from_slice(field);
        self.pos = end;
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.put(&[value]);
    }

    pub(crate) fn u16(&mut self, value: u16) {
        self.put(&value.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.put(&value.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.put(&value.to_be_bytes());
    }

    pub(crate) fn id(&mut self, id: Id) {
        self.put(&id.to_be_bytes());
    }

    /// A name no longer than 255 bytes (every name type's capacity is below that).
    pub(crate) fn name(&mut self, name: &str) {
        self.u8(name.len() as u8);
        self.put(name.as_bytes());
    }

    /// A text of up to 65 535 bytes, with a two-byte length.
    pub(crate) fn long_text(&mut self, text: &str) {
        self.u16(text.len() as u16);
        self.put(text.as_bytes());
    }

    pub(crate) fn locator(&mut self, locator: &ResourceLocator) {
        self.id(locator.id);
        self.put(&locator.addr.ip().octets());
        self.u16(locator.addr.port());
    }

    /// A list: the count, then each item. Every list's bound is below 256.
    /// A flag byte, then the item if there is one (as [`Reader::optional`] reads it).
    pub(crate) fn optional<T>(&mut self, value: Option<&T>, item: impl FnOnce(&mut Writer<'a>, &T)) {
        self.u8(u8::from(value.is_some()));
        if let Some(value) = value {
            item(self, value);
        }
    }

    pub(crate) fn list<T>(&mut self, items: &[T], mut item: impl FnMut(&mut Writer<'a>, &T)) {
        self.u8(items.len() as u8);
        for i in items {
            item(self, i);
        }
    }

    /// A neighbour chain: a list of locators.
    pub(crate) fn chain(&mut self, chain: &Chain) {
        self.list(chain, |w, c| w.locator(c));
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.pos
    }
}
