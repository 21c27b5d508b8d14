//! The listing's page cursor: KV's opaque cursor, wrapped with a check so that a cursor this
//! edge did not hand out is a 400 before KV sees it (KV answers a foreign cursor with an error
//! that is ours to hide, not the client's to read).
//!
//! Not a secret: the check catches typos and made-up values, not forgery, and a forged cursor
//! reaches nothing a client could not list anyway.

use crate::error::ApiError;

const CHECK_HEX: usize = 12;

fn check(kv: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"waferscope-list-cursor\0");
    h.update(kv.as_bytes());
    h.finalize().to_hex()[..CHECK_HEX].to_string()
}

/// The cursor a client gets for KV's `kv` cursor: its bytes in hex, a dot, a check.
pub fn encode(kv: &str) -> String {
    let mut s = String::with_capacity(kv.len() * 2 + CHECK_HEX + 1);
    for b in kv.bytes() {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('.');
    s.push_str(&check(kv));
    s
}

/// KV's cursor from a client's, or 400 `bad_cursor`.
pub fn decode(s: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "bad_cursor",
            "cursor: pass back the `cursor` value of the previous page unchanged",
        )
    };
    // KV cursors are a few hundred characters; a bound keeps the work small.
    if s.len() > 4096 {
        return Err(bad());
    }
    let (hex, sum) = s.split_once('.').ok_or_else(bad)?;
    if hex.is_empty() || hex.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    let kv = String::from_utf8(bytes).map_err(|_| bad())?;
    if check(&kv) != sum {
        return Err(bad());
    }
    Ok(kv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_made_up_ones_are_400() {
        let kv = "AAAAAEvp3ZV1o5-Pf-kiZ0hfsFn3_ABC==";
        assert_eq!(decode(&encode(kv)), Ok(kv.to_string()));
        let good = encode(kv);
        for bad in [
            "x",
            "",
            ".",
            "ab.",
            "zz.000000000000",
            &good.replacen('4', "5", 1),
            &format!("{good}0"),
            &"a".repeat(5000),
        ] {
            let e = decode(bad).unwrap_err();
            assert_eq!((e.status, e.error), (400, "bad_cursor"), "{bad}");
        }
    }
}
