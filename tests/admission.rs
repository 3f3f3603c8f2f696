//! Admission: what a stranger can make the ring do with a JOIN it forges.
//!
//! A JOIN names a joiner's ID and address. Until the joiner echoes a cookie
//! of the responsible node — which only a host that receives at that
//! address can — the JOIN changes no chain and draws one reply no larger
//! than itself.

use mmp2p_core::wire::{Header, Message, Repr};
use mmp2p_core::{rng::Rng, Id, ResourceLocator};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{Fate, Network, NodeIndex};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Duration;

fn overlay(nodes: usize, seed: u64) -> Overlay {
    let spec = OverlaySpec { nodes, friends: 5, seed, ..OverlaySpec::default() };
    Overlay::build(&spec).expect("the overlay settles")
}

/// A JOIN for `joiner`, as a member relaying it would send it.
fn forged_join(sender: ResourceLocator, joiner: ResourceLocator, txid: u64) -> Vec<u8> {
    let repr = Repr {
        header: Header { flags: 0, hop_limit: 64, txid, sender },
        message: Message::Join { joiner, hops: 2, cookie: 0 },
    };
    let mut bytes = vec![0; repr.buffer_len()];
    repr.emit(&mut bytes).expect("fits");
    bytes
}

#[test]
fn forged_join_changes_nothing() {
    let mut overlay = overlay(60, 1300);
    let members: Vec<NodeIndex> = overlay.members().collect();
    let attacker = members[7];
    let sender = overlay.network.locator(attacker);
    // The victim: an address where no node listens, and a live node.
    let nowhere = SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0xdead, 1), 4000, 0, 0);
    let live = Network::addr(members[20]);
    overlay.network.set_tracing(true);
    let mut rng = Rng::new(1301);
    let mut sent_bytes = 0;
    for (i, victim) in [nowhere, live].into_iter().cycle().take(1000).enumerate() {
        // IDs anywhere, each JOIN straight to the node responsible for it.
        let id = Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()));
        let joiner = ResourceLocator::new(id, victim);
        let bytes = forged_join(sender, joiner, 0xf0_0000 + i as u64);
        sent_bytes += bytes.len();
        let target = overlay.responsible(id);
        overlay.network.inject(attacker, Network::addr(target), bytes);
        if i % 50 == 0 {
            overlay.network.run_for(Duration::from_millis(100));
        }
    }
    overlay.network.run_for(Duration::from_secs(30));
    // No chain names a forged joiner: the ring is what it was.
    overlay.check_ring().expect("every chain holds the true neighbours");
    for (_, node) in overlay.network.nodes() {
        assert!(
            node.neighbours()
                .contacts()
                .all(|c| c.addr != nowhere && (c.addr != live || c.id == overlay.network.locator(members[20]).id)),
            "a forged joiner sits in a chain"
        );
    }
    // Each victim got at most one reply per JOIN, none larger than it.
    for victim in [nowhere, live] {
        let to_victim: Vec<_> = overlay
            .network
            .trace()
            .iter()
            .filter(|t| t.to == victim && matches!(t.fate, Fate::Sent { duplicate: false }))
            .filter_map(|t| t.repr().ok().map(|r| (t.bytes.len(), r)))
            .filter(|(_, r)| matches!(r.message, Message::JoinReply { .. }))
            .collect();
        assert!(to_victim.len() <= 500, "{} replies for 500 JOINs", to_victim.len());
        let bytes: usize = to_victim.iter().map(|(len, _)| len).sum();
        assert!(bytes <= sent_bytes / 2, "{bytes} bytes to {victim} for {} bytes of JOINs", sent_bytes / 2);
    }
    // And the ring still works.
    let report = overlay.run_lookups(200);
    assert_eq!((report.failed, report.wrong), (0, 0));
}
