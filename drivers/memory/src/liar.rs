//! Lying members, for tests: a node whose datagrams, in and out, a rule
//! rewrites or drops — a member that answers searches with owners it made up
//! and throws away what it should keep, as a node run by an attacker would.

/// Which way a datagram passes a lying node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// Arriving at it.
    In,
    /// Sent by it.
    Out,
}

/// What a lie makes of a datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// It passes unchanged.
    Pass,
    /// It vanishes (an arriving one never reaches the node).
    Drop,
    /// It passes as these bytes instead.
    Replace(Vec<u8>),
}

/// A lying node's rule: sees each datagram's way and bytes.
pub type Lie = Box<dyn FnMut(Way, &[u8]) -> Tamper>;
