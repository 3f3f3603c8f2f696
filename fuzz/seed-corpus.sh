#!/usr/bin/env bash
# Builds the fuzz seed corpora from the test vectors in docs/wire.md.
#
# Every "### VECTOR NAME" section followed by a ```hex block of space-separated
# hex bytes becomes:
#   fuzz/corpus/wire/NAME   the datagram itself;
#   fuzz/corpus/node/NAME   the datagram wrapped as one "deliver datagram"
#                           operation of the node target (op 0, peer 0,
#                           big-endian u16 length, the bytes), for a desktop
#                           node, and as NAME.overlay-only for a node of the
#                           overlay alone (the input's first byte);
# plus a few hand-made node inputs that drive the node through its commands and
# the reply operation (see the table in fuzz/fuzz_targets/node.rs).
#
# Usage: fuzz/seed-corpus.sh [path/to/wire.md]   (run from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."

spec="${1:-docs/wire.md}"

python3 - "$spec" <<'PY'
import os
import re
import sys

spec = sys.argv[1]
wire_dir = "fuzz/corpus/wire"
node_dir = "fuzz/corpus/node"
os.makedirs(wire_dir, exist_ok=True)
os.makedirs(node_dir, exist_ok=True)

# Node target opcodes (fuzz/fuzz_targets/node.rs).
OP_DATAGRAM, OP_TICK, OP_JOIN, OP_LOOKUP, OP_ADD_FRIEND, OP_PING, OP_REPLY, OP_UPDATE = range(8)
OP_PEER_JOIN, OP_PEER_LOOKUP, OP_PEER_PING, OP_REMOVE_FRIEND = range(8, 12)
OP_CONFERENCE = 21


# The node target's first byte chooses the node's profile (modulo 3: 0 the
# desktop's, 1 the overlay's alone, 2 the barest).
DESKTOP = bytes([0])
OVERLAY_ONLY = bytes([1])
BARE = bytes([2])


def deliver(datagram, peer=0):
    return bytes([OP_DATAGRAM, peer]) + len(datagram).to_bytes(2, "big") + datagram


def write(directory, name, data):
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    with open(os.path.join(directory, safe), "wb") as f:
        f.write(data)


vectors = []
if os.path.exists(spec):
    with open(spec, encoding="utf-8") as f:
        text = f.read()
    heading = re.compile(r"^###[ \t]+VECTOR[ \t]+(\S+)[ \t]*$", re.M)
    fence = re.compile(r"```hex[ \t]*\n(.*?)^```", re.M | re.S)
    for m in heading.finditer(text):
        # The first ```hex block after the heading, before the next heading.
        nxt = heading.search(text, m.end())
        end = nxt.start() if nxt else len(text)
        block = fence.search(text, m.end(), end)
        if not block:
            print(f"seed-corpus: VECTOR {m.group(1)} has no hex block", file=sys.stderr)
            sys.exit(1)
        tokens = block.group(1).split()
        bad = [t for t in tokens if not re.fullmatch(r"[0-9A-Fa-f]{2}", t)]
        if bad:
            print(f"seed-corpus: VECTOR {m.group(1)}: not hex bytes: {bad[:5]}", file=sys.stderr)
            sys.exit(1)
        vectors.append((m.group(1), bytes(int(t, 16) for t in tokens)))
else:
    print(f"seed-corpus: {spec} not found; only hand-made node seeds written", file=sys.stderr)

for name, datagram in vectors:
    write(wire_dir, name, datagram)
    write(node_dir, name, DESKTOP + deliver(datagram))
    write(node_dir, name + ".overlay-only", OVERLAY_ONLY + deliver(datagram))

# Hand-made node seeds (operands as documented in fuzz/fuzz_targets/node.rs).
seeds = {
    # Join via peer 2 (ID 0xa0..), which accepts from the address the JOIN went
    # to: left chain [us, peer 1, peer 0], right chain [peer 3, peer 0]
    # (both sorted); then 5 s pass.
    "join-accepted": bytes([
        OP_JOIN, 2,
        OP_REPLY, 0, 0x02, 0x02, 0, 0x82, 0x01, 0x00, 0x82, 0x03, 0x00,
        OP_TICK, 0x13, 0x88,
    ]),
    # The same join, then our right neighbour announces a node (ID 0x90..)
    # between us; we ACK it and tell our left neighbour; then a lookup of key
    # 0xe0.. that the reply op answers.
    "join-update-lookup": bytes([
        OP_JOIN, 2,
        OP_REPLY, 0, 0x02, 0x02, 0, 0x81, 0x01, 0x81, 0x03,
        OP_UPDATE, 1, 7, 0x81, 0x08, 0x48,
        OP_LOOKUP, 0x70,
        OP_REPLY, 0, 0x02, 0x03, 1,
    ]),
    # As the key node: peer 0 joins through us, then peer 1 between it and us;
    # the reply op answers our NEIGHBOUR_UPDATEs; a routed lookup, a ping, time.
    "key-node-joins": bytes([
        OP_PEER_JOIN, 0, 0x00, 64, 0,
        OP_PEER_JOIN, 1, 0x01, 64, 0,
        OP_REPLY, 0, 0, 0x80, OP_REPLY, 1, 0, 0x80, OP_REPLY, 2, 0, 0x80,
        OP_PEER_LOOKUP, 2, 0x02, 0x50, 64,
        OP_PEER_PING, 3, 9,
        OP_TICK, 0x27, 0x10,
    ]),
    # Pings (one answered), friends, a local lookup, timeouts until the other
    # ping fails, and a friend removed.
    "ping-friends-timeouts": bytes([
        OP_PING, 0, OP_PING, 3, OP_REPLY, 0, 0, 0x83,
        OP_ADD_FRIEND, 0x02, OP_ADD_FRIEND, 0x0b, 0x10, OP_LOOKUP, 0x10,
        OP_TICK, 0x03, 0xe8, OP_TICK, 0x07, 0xd0, OP_TICK, 0xff, 0xff,
        OP_REMOVE_FRIEND, 0x83,
    ]),
    # A regression: a refresh's STORE handed to a quiet friend once scheduled
    # that friend's probe at the very instant being handled.
    "store-to-quiet-friend": bytes.fromhex(
        "02020660029d9d9d9d9d9d9d9d8f8f8f8f8f8f000f8f8f8f8f8f8f8f8f8f00000000000f"
        "9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d820104820300019d9d9d9d9d9d9d"
    ),
    # The contact (peer 0) invites us; we join; the reply op admits us under
    # its certificate; our probe of the root learns its room, and it takes us
    # as its child (ID byte 0x99: peer 0's own); it says "hello".
    "conference-invited-admitted": bytes([
        OP_CONFERENCE, 0x08, 0, 1,
        OP_CONFERENCE, 0x82, 0,
        OP_REPLY, 0, 0x04, 0x00,
        OP_REPLY, 0, 0x00, 0x99, 0, 0, 4, 1,
        OP_REPLY, 0, 0x01, 0x99, 0, 0, 4, 1,
        OP_TICK, 0x00, 0x32,
        OP_CONFERENCE, 0x09, 0, 1, 5]) + b"hello" + bytes([1,
        OP_TICK, 0x03, 0xe8,
    ]),
    # We create a conference, take three children, invite the contact (its
    # ACK from the reply op), say something and stream 64 KiB to it.
    "conference-created-send": bytes([
        OP_CONFERENCE, 0x00, 0,
        OP_CONFERENCE, 0x07, 3,
        OP_CONFERENCE, 0x01, 0,
        OP_REPLY, 0, 0x00, 0x00,
        OP_CONFERENCE, 0x05, 0, 0x00, 0x05]) + b"hello" + bytes([
        OP_CONFERENCE, 0x86, 0, 0x10, 0x00, 4, 7, 0x01, 0x00,
        OP_TICK, 0x03, 0xe8, OP_TICK, 0x03, 0xe8,
    ]),
}
for name, data in seeds.items():
    write(node_dir, name, DESKTOP + data)
    write(node_dir, name + ".overlay-only", OVERLAY_ONLY + data)
    write(node_dir, name + ".bare", BARE + data)

# Transfer target (fuzz/fuzz_targets/transfer.rs): op 0 delivers the next
# datagram (fate 0), op 1 moves time; a clean run, a lossy one, and one with
# a fake owner's bad proof and bad chunks.
transfer_dir = "fuzz/corpus/transfer"
os.makedirs(transfer_dir, exist_ok=True)
transfer_seeds = {
    "clean": bytes([0, 0] * 200 + [1, 0x00, 0x64] + [0, 0] * 200),
    "lossy": bytes([0, 1, 0, 0, 0, 2, 0, 3, 0x00, 0x40, 0x01] * 40 + [1, 0x03, 0xe8] + [0, 0] * 100),
    "fake-owner": bytes([0, 0] * 8 + [2, 1, 2, 0x00, 0, 1, 1, 0, 0] + [2, 1, 2, 0x00, 0, 2, 5, 3, 3, 1, 2]
                        + [0, 0] * 100 + [1, 0x07, 0xd0] + [0, 0] * 100),
}
for name, data in transfer_seeds.items():
    write(transfer_dir, name, data)

print(f"seed-corpus: {len(vectors)} wire vectors, {len(vectors) + len(seeds)} node seeds, {len(transfer_seeds)} transfer seeds")
PY
