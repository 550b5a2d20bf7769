fn qr(text: &str) -> Option<String> {
    use qrcode::{
        bits::Bits,
        types::{Color, Version},
        EcLevel, QrCode,
    };
    let code = (1..=25).find_map(|v| {
        let mut bits = Bits::new(Version::Normal(v));
        bits.push_byte_data(text.as_bytes()).ok()?;
        bits.push_terminator(EcLevel::M).ok()?;
        QrCode::with_bits(bits, EcLevel::M).ok()
    })?;
    let w = code.width();
    let mut d = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == Color::Dark {
            d.push_str("M");
            d.push_str(&(i % w).to_string());
            d.push(' ');
            d.push_str(&(i / w).to_string());
            d.push_str("h1v1h-1z");
        }
    }
    Some(d)
}
fn main() {
    leptos::mount::mount_to_body(|| {
        use leptos::prelude::*;
        let s = RwSignal::new(String::new());
        view! { <p on:click=move |_| {
            let t = s.get_untracked();
            s.set(qr(&t).unwrap_or_default());
        }>{move || s.get()}</p> }
    });
}
