mod common;
use common::befriend;
use mmp2p_core::Config;
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use std::time::Duration;
#[test]
fn debug() {
    let config = Config { tree_children: 3, ..Config::default() };
    let spec = OverlaySpec { nodes: 8, friends: 0, seed: 5, config, ..OverlaySpec::default() };
    let mut overlay = Overlay::build(&spec).unwrap();
    let m: Vec<_> = overlay.members().collect();
    befriend(&mut overlay, m[1], m[2]);
    let session = overlay.network.command(m[1], |n, now| n.create_conference(now, "x")).unwrap();
    let id = overlay.network.locator(m[2]).id;
    overlay.network.command(m[1], |n, now| n.invite_to_conference(now, session, id)).unwrap();
    overlay.network.run_for(Duration::from_secs(3));
    overlay.network.command(m[2], |n, now| n.answer_invitation(now, session, true)).unwrap();
    overlay.network.run_for(Duration::from_secs(5));
    for &n in &m[1..3] {
        let c = overlay.network.node(n).conferences().get(session).unwrap();
        eprintln!(
            "{n:?} parent {:?} children {:?}",
            c.tree.parent.map(|p| (p.locator.id, p.proven)),
            c.tree.children.iter().map(|l| (l.locator.id, l.proven)).collect::<Vec<_>>()
        );
    }
    overlay.network.set_tracing(true);
    let bytes: Vec<u8> = (0..40000u32).map(|i| i as u8).collect();
    let t = overlay.network.conference_send(m[1], session, ("a", bytes), 100_000, false).unwrap();
    overlay.network.run_for(Duration::from_secs(3));
    eprintln!("transfer {t:x}");
    for tr in overlay.network.trace().iter().take(30) {
        eprintln!("{:?} -> {:?} {:?} {:?}", tr.from, tr.to, tr.fate, tr.repr().map(|r| r.to_string()));
    }
    for e in overlay.network.events().iter().rev().take(10) {
        eprintln!("{e:?}");
    }
    eprintln!("{:?}", overlay.network.node(m[2]).stats().drops().filter(|(_, n)| *n > 0).collect::<Vec<_>>());
}
