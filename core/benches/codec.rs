//! Codec throughput: MMP2P's own wire format against postcard (serde), per
//! message type.
//!
//! The datagrams are the test vectors of `docs/wire.md`. For each type,
//! `parse+emit/<NAME>` parses the datagram and emits it again, and
//! `postcard/<NAME>` serializes the same [`Repr`] with postcard and
//! deserializes it: one decode and one encode each. Criterion reports
//! elements/s, i.e. messages/s.
//!
//! Under `cargo bench` (which passes `--bench`) a compact table follows
//! criterion's report, from a plain timed loop over the same two operations,
//! so both figures for every type appear side by side in one run.
//!
//! Run: `cargo bench -p mmp2p-core --features serde --bench codec`.

// The vector reader of the integration test; its `#[test]` functions, and so
// the imports only they use, are compiled out here.
#[path = "../tests/wire_vectors.rs"]
#[allow(unused_imports)]
mod wire_vectors;

use criterion::{Criterion, Throughput};
use mmp2p_core::wire::{Repr, MAX_DATAGRAM};
use std::hint::black_box;
use std::time::Instant;

/// Iterations of each timed loop behind the summary table.
const TABLE_ITERATIONS: u32 = 200_000;

/// One message type's datagram and its representation.
struct Case {
    name: String,
    bytes: Vec<u8>,
    repr: Repr,
}

fn cases() -> Vec<Case> {
    wire_vectors::spec_vectors()
        .into_iter()
        .map(|vector| Case { repr: vector.repr(), name: vector.name, bytes: vector.bytes })
        .collect()
}

/// Parses a datagram and emits it into `out`; returns the emitted length.
fn parse_emit(bytes: &[u8], out: &mut [u8]) -> usize {
    let repr = Repr::parse_bytes(bytes).expect("spec vectors parse");
    repr.emit(out).expect("spec vectors fit")
}

/// Serializes `repr` with postcard into `out` and deserializes it again.
fn postcard_round_trip(repr: &Repr, out: &mut [u8]) -> Repr {
    let used = postcard::to_slice(repr, out).expect("postcard encoding fits");
    postcard::from_bytes(used).expect("postcard decodes what it encoded")
}

/// A codec under test: its name and one round over a case.
type Codec = (&'static str, fn(&Case, &mut [u8]));

const CODECS: [Codec; 2] = [
    ("parse+emit", |case, out| {
        black_box(parse_emit(black_box(&case.bytes), out));
    }),
    ("postcard", |case, out| {
        black_box(postcard_round_trip(black_box(&case.repr), out));
    }),
];

fn criterion_benches(c: &mut Criterion, cases: &[Case]) {
    let mut out = [0u8; MAX_DATAGRAM];
    for (codec, round) in CODECS {
        let mut group = c.benchmark_group(codec);
        group.throughput(Throughput::Elements(1));
        for case in cases {
            group.bench_function(case.name.as_str(), |b| b.iter(|| round(case, &mut out)));
        }
        group.finish();
    }
}

/// Messages per second of `round` over `case`, from a plain timed loop.
fn messages_per_second(round: fn(&Case, &mut [u8]), case: &Case) -> f64 {
    let mut out = [0u8; MAX_DATAGRAM];
    for _ in 0..TABLE_ITERATIONS / 10 {
        round(case, &mut out);
    }
    let start = Instant::now();
    for _ in 0..TABLE_ITERATIONS {
        round(case, &mut out);
    }
    f64::from(TABLE_ITERATIONS) / start.elapsed().as_secs_f64()
}

fn print_table(cases: &[Case]) {
    let mut out = [0u8; MAX_DATAGRAM];
    println!();
    println!("messages/s, {TABLE_ITERATIONS} iterations each (wire and postcard sizes in bytes)");
    println!(
        "{:<16} {:>5} {:>8} {:>14} {:>14} {:>7}",
        "message", "wire", "postcard", CODECS[0].0, CODECS[1].0, "ratio"
    );
    for case in cases {
        let postcard_len = postcard::to_slice(&case.repr, &mut out).expect("fits").len();
        let [ours, theirs] = CODECS.map(|(_, round)| messages_per_second(round, case));
        println!(
            "{:<16} {:>5} {:>8} {:>14.0} {:>14.0} {:>6.2}x",
            case.name,
            case.bytes.len(),
            postcard_len,
            ours,
            theirs,
            ours / theirs
        );
    }
}

fn main() {
    let cases = cases();
    let mut criterion = Criterion::default().configure_from_args();
    criterion_benches(&mut criterion, &cases);
    criterion.final_summary();
    if std::env::args().any(|arg| arg == "--bench") {
        print_table(&cases);
    }
}
