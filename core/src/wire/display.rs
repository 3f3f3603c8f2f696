//! One line of text per message: the type's name, then its fields.

use super::fields::Chain;
use super::message::Message;
use crate::id::Id;
use core::fmt;

/// A list of IDs as `[a, b, c]`, each as [`Id::short`] prints it.
fn ids(f: &mut fmt::Formatter<'_>, ids: impl IntoIterator<Item = Id>) -> fmt::Result {
    f.write_str("[")?;
    for (i, id) in ids.into_iter().enumerate() {
        let comma = if i > 0 { ", " } else { "" };
        write!(f, "{comma}{}", id.short())?;
    }
    f.write_str("]")
}

fn chain(f: &mut fmt::Formatter<'_>, chain: &Chain) -> fmt::Result {
    ids(f, chain.iter().map(|c| c.id))
}

/// A join cookie, if there is one.
fn cookie_field(f: &mut fmt::Formatter<'_>, cookie: u64) -> fmt::Result {
    if cookie == 0 {
        return Ok(());
    }
    write!(f, " cookie={cookie:016x}")
}

/// A proof of identity's key and sequence number, if there is one.
fn proof_field(f: &mut fmt::Formatter<'_>, proof: Option<&super::fields::IdentityProof>) -> fmt::Result {
    match proof {
        Some(proof) => write!(f, " key={} seq={}", proof.key.short(), proof.seq),
        None => Ok(()),
    }
}

/// One line of text: the type's name from the table, then the fields.
/// IDs print as [`Id::short`] does; locators as their ID.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message_type().name())?;
        match self {
            Message::Ping | Message::Pong | Message::Ack | Message::HopAck => Ok(()),
            Message::Stabilise { identify } => match identify {
                true => f.write_str(" identify"),
                false => Ok(()),
            },
            Message::Join { joiner, hops, cookie, proof } => {
                write!(f, " joiner={} hops={hops}", joiner.id.short())?;
                cookie_field(f, *cookie)?;
                proof_field(f, proof.as_ref())
            }
            Message::JoinReply { status, hops, left, right, cookie, seq } => {
                write!(f, " {status:?} hops={hops} left=")?;
                chain(f, left)?;
                f.write_str(" right=")?;
                chain(f, right)?;
                cookie_field(f, *cookie)?;
                match seq {
                    0 => Ok(()),
                    seq => write!(f, " seq={seq}"),
                }
            }
            Message::NeighbourUpdate { side, chain: c } | Message::Leave { side, chain: c } => {
                write!(f, " {side:?} ")?;
                chain(f, c)
            }
            Message::StabiliseReply { left, right, proof } => {
                f.write_str(" left=")?;
                chain(f, left)?;
                f.write_str(" right=")?;
                chain(f, right)?;
                proof_field(f, proof.as_ref())
            }
            Message::RegistryGet { origin, id, hops } => {
                write!(f, " origin={} id={} hops={hops}", origin.id.short(), id.short())
            }
            Message::RegistryRecord { id, record } => {
                write!(f, " id={}", id.short())?;
                match record {
                    Some(record) => write!(f, " key={} seq={}", record.key.short(), record.seq),
                    None => f.write_str(" none"),
                }
            }
            Message::FriendDigest { ids: list } => {
                f.write_str(" ")?;
                ids(f, list.iter().copied())
            }
            Message::RegistryCopy { records } => {
                f.write_str(" ")?;
                ids(f, records.iter().map(|r| r.id))
            }
            Message::Lookup { origin, key, hops } | Message::Search { origin, key, hops } => {
                write!(f, " origin={} key={} hops={hops}", origin.id.short(), key.short())
            }
            Message::LookupReply { key, hops } => write!(f, " key={} hops={hops}", key.short()),
            Message::Store { owner, key, hops, entries } => {
                write!(f, " owner={} key={} hops={hops} keys=", owner.id.short(), key.short())?;
                ids(f, entries.iter().map(|e| e.key))
            }
            Message::Verify { owner, keys } => {
                write!(f, " owner={} keys=", owner.short())?;
                ids(f, keys.iter().copied())
            }
            Message::VerifyReply { keys, mask } => {
                f.write_str(" keys=")?;
                ids(f, keys.iter().copied())?;
                write!(f, " mask={mask:#x}")
            }
            Message::SearchPage { key, page } => write!(f, " key={} page={page}", key.short()),
            Message::SearchReply { key, hops, page, pages, owners } => {
                write!(f, " key={} hops={hops} page={page}/{pages} owners=", key.short())?;
                ids(f, owners.iter().map(|o| o.owner.id))
            }
            Message::Replicate { entries } => {
                f.write_str(" keys=")?;
                ids(f, entries.iter().map(|e| e.key))
            }
            Message::ListFiles { page } => write!(f, " page={page}"),
            Message::FileList { page, pages, names } => {
                write!(f, " page={page}/{pages} names=[")?;
                for (i, name) in names.iter().enumerate() {
                    let comma = if i > 0 { ", " } else { "" };
                    write!(f, "{comma}{name:?}")?;
                }
                f.write_str("]")
            }
            Message::FriendRequest(r) => {
                write!(f, " to={} key={} nonce={:016x} text={:?}", r.to.short(), r.key.short(), r.nonce, r.text)
            }
            Message::FriendAnswer(a) => {
                let answer = if a.accept { "accept" } else { "decline" };
                write!(f, " {answer} nonce={:016x} key={}", a.nonce, a.key.short())
            }
            Message::Unfriend(u) => write!(f, " since={:016x}", u.since),
            Message::Presence(p) => write!(f, " {:?} version={} text={:?}", p.status, p.version, p.text),
            Message::Chat(c) => {
                let (seq, fragment, fragments, len) = (c.seq, c.fragment + 1, c.fragments, c.sealed.len());
                write!(f, " seq={seq} fragment={fragment}/{fragments} bytes={len} epoch={:016x}", c.epoch)
            }
            Message::ChatAck(a) => {
                write!(f, " delivered={} seq={} fragment={} room={}", a.delivered, a.seq, a.fragment + 1, a.room)
            }
            Message::MailStore(m) | Message::MailCopy(m) | Message::Mail(m) => {
                let (recipient, sender, c) = (m.recipient.short(), m.sender.id.short(), &m.chat);
                write!(f, " to={recipient} from={sender} seq={} fragment={}/{}", c.seq, c.fragment + 1, c.fragments)?;
                write!(f, " lifetime={}s", m.lifetime_secs)
            }
            Message::MailAck(a) => {
                write!(f, " to={} from={} delivered={}", a.recipient.short(), a.sender.short(), a.delivered)
            }
            Message::Get(g) => {
                write!(
                    f,
                    " root={} size={} seq={} cookie={:016x} ranges=",
                    short_hash(&g.content.root),
                    g.content.size,
                    g.seq,
                    g.cookie
                )?;
                for (i, range) in g.ranges.iter().enumerate() {
                    let proofs = if range.proofs { "p" } else { "" };
                    write!(f, "{}{}+{}{proofs}", if i > 0 { "," } else { "" }, range.first, range.count)?;
                }
                Ok(())
            }
            Message::BlockProof(p) => {
                write!(f, " pn={} block={} values={} siblings={}", p.pn, p.block, p.values.len(), p.siblings.len())
            }
            Message::Data(d) => write!(f, " pn={} leaf={} chunk={} bytes={}", d.pn, d.leaf, d.chunk, d.bytes.len()),
            Message::DataAck(a) => {
                write!(f, " delay={}us ranges=", a.delay_us)?;
                write_list(f, a.ranges.iter().copied(), "-")
            }
            Message::Refuse(r) => write!(f, " {} cookie={:016x}", r.reason.as_str(), r.cookie),
            Message::ContentQuery { key } => write!(f, " key={}", key.short()),
            Message::ContentInfo(info) => match info.content {
                None => write!(f, " key={} none", info.key.short()),
                Some((content, friends_only)) => {
                    let who = if friends_only { "friends" } else { "anyone" };
                    write!(
                        f,
                        " key={} root={} size={} {who}",
                        info.key.short(),
                        short_hash(&content.root),
                        content.size
                    )
                }
            },
            Message::ConfInvite(i) => {
                write!(f, " session={} name={:?} nonce={:016x}", session(&i.session), i.name.as_str(), i.nonce)
            }
            Message::ConfAnswer(a) => {
                write!(f, " session={} {}", session(&a.session), if a.join { "join" } else { "decline" })
            }
            Message::ConfAdmit(a) => match a.certificate {
                Some(c) => {
                    write!(f, " session={} member={} key={}", session(&a.session), c.member.short(), c.key.short())
                }
                None => write!(f, " session={} none", session(&a.session)),
            },
            Message::ConfLeave(l) => {
                let how = if l.removed { "removed" } else { "leaves" };
                write!(f, " session={} member={} {how}", session(&l.session), l.member.short())
            }
            Message::TreeJoin(j) => {
                let how = match j.mode {
                    super::TreeMode::Probe => "probe",
                    super::TreeMode::Attach => "attach",
                    super::TreeMode::Detach => "detach",
                };
                write!(f, " session={} {how} capacity={} delay={}us", session(&j.session), j.capacity, j.delay_us)?;
                match j.certificate {
                    Some(c) => write!(f, " member={}", c.member.short()),
                    None => Ok(()),
                }
            }
            Message::TreeState(t) => {
                write!(
                    f,
                    " session={} {} delay={}us spare={} weakest={} ({}us) path=",
                    session(&t.session),
                    match t.status {
                        super::TreeStatus::Info => "info",
                        super::TreeStatus::Child => "child",
                        super::TreeStatus::Refused => "refused",
                    },
                    t.root_delay_us,
                    t.spare,
                    t.weakest,
                    t.weakest_delay_us
                )?;
                ids(f, t.path.iter().copied())?;
                f.write_str(" candidates=")?;
                ids(f, t.candidates.iter().map(|c| c.id))
            }
            Message::ConfProof(p) => {
                let a = &p.announcement;
                let kind = if a.stream { "stream" } else { "file" };
                write!(
                    f,
                    " session={} transfer={:016x} sender={} {kind} root={} size={} rate={} name={:?} pn={} block={}",
                    session(&p.session),
                    p.transfer,
                    a.sender.short(),
                    short_hash(&a.content.root),
                    a.content.size,
                    a.rate,
                    a.name.as_str(),
                    p.proof.pn,
                    p.proof.block
                )
            }
            Message::ConfData(d) => write!(
                f,
                " session={} transfer={:016x} pn={} leaf={} chunk={} bytes={}",
                session(&d.session),
                d.transfer,
                d.data.pn,
                d.data.leaf,
                d.data.chunk,
                d.data.bytes.len()
            ),
            Message::ConfPull(p) => {
                write!(f, " session={} transfer={:016x} pieces=", session(&p.session), p.transfer)?;
                write_list(f, p.ranges.iter().map(|&(first, count)| (first, u32::from(count))), "+")
            }
            Message::ConfChat(c) => {
                write!(
                    f,
                    " session={} sender={} seq={} text={:?}",
                    session(&c.session),
                    c.sender.short(),
                    c.seq,
                    c.text.as_str()
                )
            }
        }
    }
}

/// A conference session's first four bytes, in hex.
fn session(session: &crate::conference::SessionId) -> impl fmt::Display + '_ {
    short_hash_of(&session.0)
}

/// The first four bytes of a hash, in hex.
fn short_hash(hash: &[u8; 32]) -> impl fmt::Display + '_ {
    short_hash_of(hash)
}

/// The first four bytes of any byte string, in hex.
fn short_hash_of(bytes: &[u8]) -> impl fmt::Display + '_ {
    struct Short<'a>(&'a [u8]);
    impl fmt::Display for Short<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.iter().take(4).try_for_each(|b| write!(f, "{b:02x}"))
        }
    }
    Short(bytes)
}

/// Pairs as `a<sep>b`, comma-separated.
fn write_list(f: &mut fmt::Formatter<'_>, pairs: impl Iterator<Item = (u32, u32)>, sep: &str) -> fmt::Result {
    for (i, (a, b)) in pairs.enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{a}{sep}{b}")?;
    }
    Ok(())
}
