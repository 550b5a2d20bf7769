//! QR codes as inline SVG.
//!
//! The `qrcode` crate encodes (byte mode, level M); the SVG is one path of horizontal runs,
//! scaled by CSS through its `viewBox`. Calling the crate's `Bits` directly instead of
//! `QrCode::new` leaves its segment optimiser and renderer out of the wasm (about 8 KB gzip).

use qrcode::{
    bits::Bits,
    types::{Color, Version},
    EcLevel, QrCode,
};

/// Modules of light border on each side, as the standard asks.
const QUIET: usize = 4;

/// The smallest code (version 1 to 40, level M) holding `text`.
fn encode(text: &str) -> Option<QrCode> {
    (1..=40).find_map(|v| {
        let mut bits = Bits::new(Version::Normal(v));
        bits.push_byte_data(text.as_bytes()).ok()?;
        bits.push_terminator(EcLevel::M).ok()?;
        QrCode::with_bits(bits, EcLevel::M).ok()
    })
}

/// `<svg>` markup of the QR code for `text`, or `None` if it is too long for one.
pub fn svg(text: &str) -> Option<String> {
    let code = encode(text)?;
    let w = code.width();
    let colors = code.to_colors();
    let size = (w + 2 * QUIET).to_string();
    let mut out = String::with_capacity(w * w);
    out.push_str(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 "#);
    out.push_str(&size);
    out.push(' ');
    out.push_str(&size);
    out.push_str(r##"" shape-rendering="crispEdges" aria-hidden="true"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d=""##);
    for (y, row) in colors.chunks(w).enumerate() {
        let mut x = 0;
        while x < w {
            if row[x] != Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < w && row[x] == Color::Dark {
                x += 1;
            }
            let run = (x - start).to_string();
            out.push('M');
            out.push_str(&(start + QUIET).to_string());
            out.push(' ');
            out.push_str(&(y + QUIET).to_string());
            out.push('h');
            out.push_str(&run);
            out.push_str("v1h-");
            out.push_str(&run);
            out.push('z');
        }
    }
    out.push_str(r#""/></svg>"#);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_fit_the_text_and_draw_every_dark_module() {
        let url = "https://verify.example.com/s/0123456789abcdef0123456789abcdef";
        let code = encode(url).unwrap();
        // 61 bytes at level M need version 4 (33 × 33 modules).
        assert_eq!(code.version(), Version::Normal(4));
        assert_eq!(code.width(), 33);
        let svg = svg(url).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"viewBox="0 0 41 41""#));
        let drawn: usize = svg
            .split('M')
            .skip(1)
            .map(|run| {
                let h = run.split('h').nth(1).unwrap();
                h.split('v').next().unwrap().parse::<usize>().unwrap()
            })
            .sum();
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        assert_eq!(drawn, dark);
        // The top-left finder pattern starts with a run of 7 at the quiet-zone corner.
        assert!(svg.contains(r#"d="M4 4h7v1h-7z"#));
    }

    #[test]
    fn too_much_text_has_no_code() {
        assert!(svg(&"x".repeat(3_000)).is_none());
        assert!(svg("").is_some());
    }
}
