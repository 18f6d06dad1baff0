//! Turns an HR file's bytes into text: UTF-8 with or without a byte-order mark, and the UTF-16 (LE or BE, with a
//! byte-order mark) that Excel's "Unicode text" export writes. The encoding is detected by the BOM only; guessing
//! legacy code pages silently corrupts names, so such files are rejected with advice instead.

use crate::Error;

/// Decodes `bytes` as the text of HR file `file`, without its byte-order mark.
pub(crate) fn decode(file: &str, bytes: &[u8]) -> Result<String, Error> {
    let encoding_error = |detail: String| Error::Encoding { file: file.to_string(), detail };
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(rest).map_err(encoding_error);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes, "UTF-16 LE").map_err(encoding_error);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes, "UTF-16 BE").map_err(encoding_error);
    }
    utf8(bytes).map_err(encoding_error)
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|error| {
        let valid = &bytes[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|byte| **byte == b'\n').count() + 1;
        format!(
            "invalid UTF-8 on line {line}; export the file as \"CSV UTF-8\" or \"Unicode text\" \
             (legacy code pages such as Windows-1252 are not supported)"
        )
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16, name: &str) -> Result<String, String> {
    let pairs = bytes.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(format!("the file starts with a {name} byte-order mark but has an odd number of bytes"));
    }
    let units = pairs.map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|error| format!("invalid {name}: unpaired surrogate {:#06x}", error.unpaired_surrogate()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_encodings_by_byte_order_mark() {
        let text = "Müller,Ćosić\n";
        let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
        utf8_bom.extend_from_slice(text.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        for bytes in [text.as_bytes().to_vec(), utf8_bom, le, be] {
            assert_eq!(decode("hr.csv", &bytes).expect("decodes"), text);
        }
    }

    #[test]
    fn rejects_legacy_code_pages_with_advice() {
        let error = decode("hr.csv", b"id,name\n1,M\xfcller\n").expect_err("Windows-1252 is not UTF-8");
        assert_eq!(
            error.to_string(),
            "HR file hr.csv is not readable text: invalid UTF-8 on line 2; export the file as \"CSV UTF-8\" or \
             \"Unicode text\" (legacy code pages such as Windows-1252 are not supported)"
        );
    }

    #[test]
    fn rejects_truncated_utf16() {
        let error = decode("hr.csv", &[0xFF, 0xFE, b'a']).expect_err("odd length");
        assert!(error.to_string().contains("odd number of bytes"), "{error}");
    }
}
