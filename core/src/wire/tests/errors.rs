//! Each parse error, from an input crafted to draw it.

use super::*;

#[test]
fn each_parse_error_comes_from_its_crafted_input() {
    let ping = encode(&samples()[0]);
    let join = encode(&join());
    let reply = encode(&join_reply());
    let update = encode(&neighbour_update());
    let reply_left_count = HEADER_LEN + 2;
    let reply_right_count = reply_left_count + 1 + 2 * LOC;
    let update_count = HEADER_LEN + 1;
    let store = encode(&store());
    let verify = encode(&verify());
    let verify_reply = encode(&verify_reply());
    let search = encode(&search());
    let search_page = encode(&search_page());
    let search_reply = encode(&search_reply());
    // STORE body: owner, hops, count, then per entry key, name length, name.
    let store_count = HEADER_LEN + LOC + 32 + 1;
    let first_name_len = store_count + 1 + Id::LEN;
    let verify_count = HEADER_LEN + Id::LEN;
    // SEARCH_REPLY body: key, hops, page, pages, owner count, owners.
    let reply_page = HEADER_LEN + Id::LEN + 1;
    let reply_owner_count = reply_page + 2;
    let mut cases: Vec<(&str, Vec<u8>, WireError)> = vec![
        ("1233 bytes", [ping.as_slice(), &[0; MAX_DATAGRAM + 1 - HEADER_LEN]].concat(), WireError::Oversized),
        ("empty", vec![], WireError::Truncated),
        ("one byte of magic", b"M".to_vec(), WireError::Truncated),
        ("header less one byte", ping[..HEADER_LEN - 1].to_vec(), WireError::Truncated),
        ("JOIN without hops", join[..join.len() - 1].to_vec(), WireError::Truncated),
        ("chain of 2 holding 1", update[..update.len() - LOC].to_vec(), WireError::Truncated),
        ("short garbage", b"GET / HTTP/1.1".to_vec(), WireError::BadMagic),
        ("magic MX", patched(&ping, 1, b"X"), WireError::BadMagic),
        ("version 0", patched(&ping, VERSION_AT, &[0]), WireError::UnsupportedVersion),
        ("version 2", patched(&ping, VERSION_AT, &[2]), WireError::UnsupportedVersion),
        ("type 0x00", patched(&ping, TYPE_AT, &[0x00]), WireError::UnknownType),
        ("type 0x05", patched(&ping, TYPE_AT, &[0x05]), WireError::UnknownType),
        ("type 0xff", patched(&ping, TYPE_AT, &[0xff]), WireError::UnknownType),
        ("NEIGHBOUR_UPDATE count 7", patched(&update, update_count, &[7]), WireError::CountTooLarge),
        ("JOIN_REPLY left count 7", patched(&reply, reply_left_count, &[7]), WireError::CountTooLarge),
        ("JOIN_REPLY right count 7", patched(&reply, reply_right_count, &[7]), WireError::CountTooLarge),
        ("PING plus one byte", [ping.as_slice(), &[0]].concat(), WireError::TrailingBytes),
        ("NEIGHBOUR_UPDATE plus one byte", [update.as_slice(), &[0]].concat(), WireError::TrailingBytes),
        ("side 2", patched(&update, HEADER_LEN, &[2]), WireError::InvalidField),
        ("join status 5", patched(&reply, HEADER_LEN, &[5]), WireError::InvalidField),
        ("JOIN proof flag 2", patched(&join, HEADER_LEN + LOC + 1 + 8, &[2]), WireError::InvalidField),
        ("JOIN proof flag 1 on padding", patched(&join, HEADER_LEN + LOC + 1 + 8, &[1]), WireError::Truncated),
        (
            "STABILISE padding not zero",
            patched(&encode(&samples()[7]), PADDED_REQUEST_LEN - 1, &[1]),
            WireError::InvalidField,
        ),
        ("JOIN padding not zero", patched(&join, join.len() - 1, &[1]), WireError::InvalidField),
        (
            "empty NEIGHBOUR_UPDATE chain",
            patched(&update[..update_count + 1], update_count, &[0]),
            WireError::InvalidField,
        ),
        // The locator DHT's messages.
        ("STORE count 14", patched(&store, store_count, &[MAX_STORE_BATCH as u8 + 1]), WireError::CountTooLarge),
        ("STORE count 255", patched(&store, store_count, &[255]), WireError::CountTooLarge),
        ("STORE count 3 holding 2", patched(&store, store_count, &[3]), WireError::Truncated),
        ("STORE count 1 holding 2", patched(&store, store_count, &[1]), WireError::TrailingBytes),
        ("name of 33 bytes", patched(&store, first_name_len, &[33]), WireError::CountTooLarge),
        ("name of 255 bytes", patched(&store, first_name_len, &[255]), WireError::CountTooLarge),
        ("name not UTF-8", patched(&store, first_name_len + 1, &[0xff]), WireError::InvalidField),
        ("name cut in a UTF-8 sequence", patched(&store, first_name_len + 1, &[0xc3]), WireError::InvalidField),
        ("name cut short", store[..store.len() - 1].to_vec(), WireError::Truncated),
        ("name longer than its length", [store.as_slice(), b"!"].concat(), WireError::TrailingBytes),
        ("VERIFY count 33", patched(&verify, verify_count, &[33]), WireError::CountTooLarge),
        ("VERIFY count 3 holding 2", patched(&verify, verify_count, &[3]), WireError::Truncated),
        ("VERIFY_REPLY count 33", patched(&verify_reply, HEADER_LEN, &[33]), WireError::CountTooLarge),
        ("VERIFY_REPLY without mask", verify_reply[..verify_reply.len() - 4].to_vec(), WireError::Truncated),
        ("SEARCH_REPLY page 1 of 1", patched(&search_reply, reply_page, &[1]), WireError::InvalidField),
        ("SEARCH_REPLY page 7 of 3", patched(&search_reply, reply_page, &[7, 3]), WireError::InvalidField),
        ("SEARCH_REPLY page 255 of 255", patched(&search_reply, reply_page, &[255, 255]), WireError::InvalidField),
        ("SEARCH_REPLY pages 0", patched(&search_reply, reply_page, &[0, 0]), WireError::InvalidField),
        ("SEARCH_REPLY count 13", patched(&search_reply, reply_owner_count, &[13]), WireError::CountTooLarge),
        ("SEARCH_REPLY count 0 holding 1", patched(&search_reply, reply_owner_count, &[0]), WireError::TrailingBytes),
        ("SEARCH padding not zero", patched(&search, PADDED_REQUEST_LEN - 1, &[1]), WireError::InvalidField),
        (
            "SEARCH first padding byte",
            patched(&search, HEADER_LEN + LOC + Id::LEN + 1, &[0x80]),
            WireError::InvalidField,
        ),
        ("SEARCH_PAGE padding not zero", patched(&search_page, PADDED_REQUEST_LEN - 1, &[1]), WireError::InvalidField),
        ("SEARCH one byte short", search[..PADDED_REQUEST_LEN - 1].to_vec(), WireError::Truncated),
        ("SEARCH_PAGE one byte short", search_page[..PADDED_REQUEST_LEN - 1].to_vec(), WireError::Truncated),
        ("SEARCH plus one byte", [search.as_slice(), &[0]].concat(), WireError::TrailingBytes),
        ("SEARCH_PAGE plus one byte", [search_page.as_slice(), &[0]].concat(), WireError::TrailingBytes),
    ];
    // A bad address wherever a locator sits: the header's sender and each kind of body locator.
    for ip in bad_addresses() {
        let at_joiner = HEADER_LEN + ADDR_IN_LOCATOR;
        let at_chain = reply_left_count + 1 + LOC + ADDR_IN_LOCATOR;
        let at_owner = HEADER_LEN + ADDR_IN_LOCATOR;
        let at_found = reply_owner_count + 1 + ADDR_IN_LOCATOR;
        for (bytes, at) in [
            (&ping, SENDER_ADDR_AT),
            (&join, at_joiner),
            (&reply, at_chain),
            (&store, at_owner),
            (&search, at_owner),
            (&search_reply, at_found),
        ] {
            cases.push(("bad address", patched(bytes, at, &ip.octets()), WireError::InvalidAddress));
        }
    }
    for (what, bytes, expected) in cases {
        assert_eq!(Repr::parse_bytes(&bytes), Err(expected), "{what}: {bytes:02x?}");
    }
}

#[test]
fn a_chat_fragment_out_of_bounds_is_refused() {
    let [_, _, _, _, chat, ..] = super::messenger::samples(repr, node);
    let Message::Chat(fragment) = chat.message.clone() else { unreachable!() };
    let bad = [
        ChatFragment { seq: 0, ..fragment.clone() },
        ChatFragment { fragments: 0, ..fragment.clone() },
        ChatFragment { fragment: 1, ..fragment.clone() },
        ChatFragment { fragments: MAX_FRAGMENTS + 1, ..fragment.clone() },
        ChatFragment { fragments: 2, ..fragment.clone() },
    ];
    for fragment in bad {
        let bytes = encode(&Repr { message: Message::Chat(fragment.clone()), ..chat.clone() });
        assert_eq!(Repr::parse_bytes(&bytes), Err(WireError::InvalidField), "{fragment:?}");
    }
}
