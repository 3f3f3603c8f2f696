//! Identity keys: Ed25519 signatures and strict verifications per second,
//! over a 200-byte message (about what a signed record or STORE covers);
//! agreeing on a conversation key, and sealing and opening a 1 KiB chat
//! message (XChaCha20-Poly1305).
//!
//! Run: `cargo bench -p mmp2p-core --bench identity`.

use criterion::{Criterion, Throughput};
use mmp2p_core::conversation::{ConversationKey, Seal, SealKind};
use mmp2p_core::identity::Identity;
use std::hint::black_box;

fn identity(c: &mut Criterion) {
    let identity = Identity::from_seed([42; 32]);
    let public = identity.public_key();
    let message = [7u8; 200];
    let signature = identity.sign(&message);
    let mut group = c.benchmark_group("identity");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign", |b| b.iter(|| identity.sign(black_box(&message))));
    group.bench_function("verify", |b| b.iter(|| public.verify(black_box(&message), black_box(&signature))));
    group.bench_function("key from seed", |b| b.iter(|| Identity::from_seed(black_box([9; 32])).public_key()));
    group.finish();
}

fn conversation(c: &mut Criterion) {
    let (alice, bob) = (Identity::from_seed([1; 32]), Identity::from_seed([2; 32]));
    let to = bob.public_key();
    let at_alice = ConversationKey::agree(&alice, &to).expect("valid keys");
    let at_bob = ConversationKey::agree(&bob, &alice.public_key()).expect("valid keys");
    let mut group = c.benchmark_group("conversation");
    group.throughput(Throughput::Elements(1));
    group.bench_function("agree", |b| b.iter(|| ConversationKey::agree(black_box(&alice), black_box(&to))));
    group.throughput(Throughput::Bytes(1024));
    let mut message = [7u8; 1024];
    let seal = Seal { kind: SealKind::Chat, first: 1, second: 1 };
    group.bench_function("seal+open 1 KiB", |b| {
        b.iter(|| {
            let tag = at_alice.seal(seal, b"chat", black_box(&mut message));
            at_bob.open(seal, b"chat", black_box(&mut message), &tag).expect("opens")
        })
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    identity(&mut criterion);
    conversation(&mut criterion);
    criterion.final_summary();
}
