//! Lowercase hexadecimal, for signatures and keys kept as text.

/// Called for every new visitor's page (its start token), so it writes
/// digits straight into one string rather than formatting each byte.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    text
}

/// `None` for anything but pairs of hex digits.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) || !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn decode_reads_what_encode_wrote_and_nothing_else() {
        let bytes = [0u8, 1, 0x7f, 0xab, 0xff];
        assert_eq!(encode(&bytes), "00017fabff");
        assert_eq!(decode(&encode(&bytes)).as_deref(), Some(&bytes[..]));
        assert_eq!(decode("ABff").as_deref(), Some(&[0xab, 0xff][..]));
        for bad in ["0", "0g", "+1", "é1", "0 "] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
