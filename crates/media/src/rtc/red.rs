//! RFC 2198 redundant audio (RED) payloads, as WebRTC uses them for Opus
//! (`a=rtpmap:63 red/48000/2`, `a=fmtp:63 111/111`): one RTP packet carries
//! the current Opus frame (the primary block, last) after full copies of
//! earlier ones (redundant blocks, oldest first), each named by its
//! timestamp offset back from the packet's.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |F|   block PT  |  timestamp offset         |   block length    |  F=1: 4 bytes
//! |0|   block PT  |                                                  last: 1 byte
//! ```
//!
//! [`parse`] takes a hostile payload: truncated headers, lengths past the
//! end, more than [`MAX_BLOCKS`] blocks are errors, never a panic.
//! [`build`] leaves out what the format cannot carry (a block over 1023
//! bytes, an offset of 2^14 ticks or more).

/// Most blocks (redundant and primary) a received packet may carry.
pub const MAX_BLOCKS: usize = 8;
/// Largest timestamp offset a header holds (14 bits).
pub const MAX_OFFSET: u32 = (1 << 14) - 1;
/// Largest block a header holds (10 bits).
pub const MAX_BLOCK_LEN: usize = (1 << 10) - 1;

/// One block of a RED payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// The payload type of the block's data (Opus').
    pub payload_type: u8,
    /// RTP ticks before the packet's timestamp (0 for the primary block).
    pub offset: u32,
    pub data: &'a [u8],
}

/// Why a RED payload was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RedError {
    #[error("RED: a block header is cut short")]
    Truncated,
    #[error("RED: a block's length runs past the packet")]
    PastEnd,
    #[error("RED: more than {MAX_BLOCKS} blocks")]
    TooManyBlocks,
}

/// The blocks of a RED payload, redundant ones first (as sent: oldest
/// first), the primary block last.
pub fn parse(payload: &[u8]) -> Result<Vec<Block<'_>>, RedError> {
    let mut headers: Vec<(u8, u32, Option<usize>)> = Vec::new();
    let mut at = 0;
    loop {
        if headers.len() == MAX_BLOCKS {
            return Err(RedError::TooManyBlocks);
        }
        let first = *payload.get(at).ok_or(RedError::Truncated)?;
        let pt = first & 0x7f;
        if first & 0x80 == 0 {
            headers.push((pt, 0, None));
            at += 1;
            break;
        }
        let h = payload.get(at..at + 4).ok_or(RedError::Truncated)?;
        let offset = (u32::from(h[1]) << 6) | (u32::from(h[2]) >> 2);
        let len = (usize::from(h[2] & 0x03) << 8) | usize::from(h[3]);
        headers.push((pt, offset, Some(len)));
        at += 4;
    }
    let mut blocks = Vec::with_capacity(headers.len());
    for (payload_type, offset, len) in headers {
        let len = len.unwrap_or(payload.len().saturating_sub(at));
        let data = payload.get(at..at + len).ok_or(RedError::PastEnd)?;
        at += len;
        blocks.push(Block {
            payload_type,
            offset,
            data,
        });
    }
    Ok(blocks)
}

/// A RED payload: `redundant` blocks (oldest first; any the format cannot
/// carry are left out), then the primary block.
pub fn build(primary: Block<'_>, redundant: &[Block<'_>]) -> Vec<u8> {
    let fits =
        |b: &&Block<'_>| b.offset > 0 && b.offset <= MAX_OFFSET && b.data.len() <= MAX_BLOCK_LEN;
    let carried: Vec<&Block<'_>> = redundant.iter().filter(fits).take(MAX_BLOCKS - 1).collect();
    let size = carried.iter().map(|b| 4 + b.data.len()).sum::<usize>() + 1 + primary.data.len();
    let mut out = Vec::with_capacity(size);
    for b in &carried {
        let len = b.data.len() as u32;
        out.push(0x80 | (b.payload_type & 0x7f));
        out.push((b.offset >> 6) as u8);
        out.push((((b.offset & 0x3f) << 2) | (len >> 8)) as u8);
        out.push((len & 0xff) as u8);
    }
    out.push(primary.payload_type & 0x7f);
    for b in &carried {
        out.extend_from_slice(b.data);
    }
    out.extend_from_slice(primary.data);
    out
}

/// The Opus payload type a RED `a=fmtp` line (`111/111`: the payload type
/// of each block) names, if it is well formed and names one type only.
pub fn fmtp_payload_type(fmtp: &str) -> Option<u8> {
    let mut pts = fmtp.trim().split('/').map(|p| p.trim().parse::<u8>().ok());
    let first = pts.next()??;
    if first > 127 {
        return None;
    }
    let mut n = 1;
    for p in pts {
        if p? != first {
            return None;
        }
        n += 1;
    }
    (n <= MAX_BLOCKS).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(pt: u8, offset: u32, data: &[u8]) -> Block<'_> {
        Block {
            payload_type: pt,
            offset,
            data,
        }
    }

    #[test]
    fn blocks_round_trip_in_the_rfc_2198_layout() {
        let older = [1u8; 300];
        let old = [2u8; 5];
        let now = [3u8; 7];
        let red = build(
            block(111, 0, &now),
            &[block(111, 1920, &older), block(111, 960, &old)],
        );
        // Two 4-byte headers (F=1), one 1-byte header (F=0), the data.
        assert_eq!(red.len(), 4 + 4 + 1 + 300 + 5 + 7);
        assert_eq!(red[0], 0x80 | 111);
        // Offset 1920 = 0b00011110_000000, length 300 = 0b01_00101100.
        assert_eq!(&red[1..4], &[(1920 >> 6) as u8, 0b0000_0001, 0b0010_1100]);
        assert_eq!(red[8], 111, "the last header: F=0, PT only");
        let blocks = parse(&red).unwrap();
        assert_eq!(
            blocks,
            vec![
                block(111, 1920, &older),
                block(111, 960, &old),
                block(111, 0, &now)
            ]
        );
        // No redundancy: one byte of header.
        assert_eq!(
            build(block(111, 0, &now), &[]),
            [&[111u8][..], &now].concat()
        );
        assert_eq!(
            parse(&[111, 9, 9]).unwrap(),
            vec![block(111, 0, &[9, 9])],
            "a primary block only"
        );
        // The largest offset and block the headers hold.
        let big = [7u8; MAX_BLOCK_LEN];
        let red = build(block(111, 0, &now), &[block(111, MAX_OFFSET, &big)]);
        assert_eq!(parse(&red).unwrap()[0], block(111, MAX_OFFSET, &big));
    }

    #[test]
    fn what_the_format_cannot_carry_is_left_out() {
        let too_big = [0u8; MAX_BLOCK_LEN + 1];
        let now = [3u8; 2];
        let red = build(
            block(111, 0, &now),
            &[
                block(111, MAX_OFFSET + 1, &[1]),
                block(111, 960, &too_big),
                block(111, 0, &[1]),
            ],
        );
        assert_eq!(red, vec![111, 3, 3]);
    }

    #[test]
    fn hostile_payloads_are_errors_not_panics() {
        assert_eq!(parse(&[]), Err(RedError::Truncated));
        // A header with F=1 cut short, and no final header at all.
        assert_eq!(parse(&[0x80 | 111, 0, 0]), Err(RedError::Truncated));
        assert_eq!(parse(&[0x80 | 111, 0, 0, 1]), Err(RedError::Truncated));
        // A length past the end.
        assert_eq!(
            parse(&[0x80 | 111, 15, 0, 200, 111, 1, 2]),
            Err(RedError::PastEnd)
        );
        assert_eq!(
            parse(&[0x80 | 111, 15, 0x03, 0xff, 111]),
            Err(RedError::PastEnd)
        );
        // Too many blocks (all with F=1, or a long chain of empty ones).
        let many: Vec<u8> = (0..MAX_BLOCKS)
            .flat_map(|_| [0x80 | 111, 0, 0, 0])
            .chain([111])
            .collect();
        assert_eq!(parse(&many), Err(RedError::TooManyBlocks));
        let endless = [0xffu8; 4096];
        assert_eq!(parse(&endless), Err(RedError::TooManyBlocks));
        // Most blocks allowed, all empty: fine.
        let most: Vec<u8> = (0..MAX_BLOCKS - 1)
            .flat_map(|_| [0x80 | 111, 0, 4, 0])
            .chain([111])
            .collect();
        assert_eq!(parse(&most).unwrap().len(), MAX_BLOCKS);
        // Every short byte string: an answer, never a panic.
        for len in 0..12 {
            for seed in 0..=255u8 {
                let p: Vec<u8> = (0..len)
                    .map(|i| {
                        seed.wrapping_mul(31)
                            .wrapping_add((i as u8).wrapping_mul(77))
                    })
                    .collect();
                let _ = parse(&p);
            }
        }
    }

    #[test]
    fn the_fmtp_names_one_payload_type() {
        assert_eq!(fmtp_payload_type("111/111"), Some(111));
        assert_eq!(fmtp_payload_type("109/109/109"), Some(109));
        assert_eq!(fmtp_payload_type("111"), Some(111));
        for bad in [
            "",
            "111/0",
            "111/",
            "/111",
            "abc",
            "300/300",
            "128/128",
            "111;x=1",
            "-1/-1",
            "111/111/111/111/111/111/111/111/111",
        ] {
            assert_eq!(fmtp_payload_type(bad), None, "{bad:?}");
        }
    }
}
