//! The widget: its transfer size and its first status paint in headless Chromium.

use super::*;

pub(crate) fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

/// What a sidebar fetches: the widget's files (a page in English), and the heaviest language
/// catalogue a page in another language fetches besides.
pub(crate) struct Transfer {
    pub raw: usize,
    pub gz: usize,
    pub br: usize,
    /// The heaviest catalogue: its name and its gzip and brotli sizes.
    pub heaviest: (String, usize, usize),
    /// One line per file.
    pub files: Vec<String>,
}

/// gzip -9 and brotli -q 11 sizes of the widget's files and catalogues.
pub(crate) fn transfer_size(app: &Path) -> Result<Transfer> {
    let mut files = Vec::new();
    let mut sizes = |name: &str, data: &[u8]| -> Result<(usize, usize)> {
        let g = idv_e2e::gzip_size(data)?;
        let mut b = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut b, 4096, 11, 22);
            w.write_all(data)?;
        }
        files.push(format!(
            "{name}: {} raw, {} gzip, {} brotli",
            kb(data.len()),
            kb(g),
            kb(b.len())
        ));
        Ok((g, b.len()))
    };
    let (mut raw, mut gz, mut br) = (0, 0, 0);
    for (name, data) in idv_e2e::widget_files(app)? {
        let (g, b) = sizes(&name, &data)?;
        raw += data.len();
        gz += g;
        br += b;
    }
    let mut heaviest = (String::new(), 0, 0);
    for (name, data) in idv_e2e::widget_catalogues(app)? {
        let (g, b) = sizes(&name, &data)?;
        if g > heaviest.1 {
            heaviest = (name, g, b);
        }
    }
    files.sort();
    Ok(Transfer {
        raw,
        gz,
        br,
        heaviest,
        files,
    })
}

/// The bytes the backend sends a HubSpot card's modal for the widget's script, wasm and style
/// sheet (`ASSETS`, asked with a browser's `Accept-Encoding`), and the files' own bytes.
pub(crate) async fn served_size(backend: &str, app: &Path) -> Result<(usize, usize)> {
    let http = reqwest::Client::new();
    let (mut sent, mut raw) = (0, 0);
    for (name, data) in idv_e2e::widget_files(app)? {
        if name == "index.html" {
            continue;
        }
        let res = http
            .get(format!(
                "{backend}{}/{name}",
                idv_server::http::hubspot::widget::ASSETS
            ))
            .header("accept-encoding", "gzip, deflate, br, zstd")
            .send()
            .await?
            .error_for_status()?;
        sent += res.bytes().await?.len();
        raw += data.len();
    }
    Ok((sent, raw))
}

/// Median ms from navigation start until `selector` shows `text`, for each of `urls`, over
/// `runs` loads of each, taken in turn (one of each, then again), so that each page's loads
/// meet the machine as the others' do.
pub(crate) async fn paint_ms(
    browser: &idv_e2e::Browser,
    urls: &[&str],
    selector: &str,
    text: &str,
    runs: usize,
) -> Result<Vec<f64>> {
    let script = r#"
        const [sel, want, done] = arguments;
        (function poll() {
            const e = document.querySelector(sel);
            if (e && e.textContent.trim() === want) { done(performance.now()); }
            else { requestAnimationFrame(poll); }
        })();"#;
    let mut times = vec![Vec::new(); urls.len()];
    for _ in 0..runs {
        for (url, times) in urls.iter().zip(&mut times) {
            browser.client.goto("about:blank").await?;
            browser.client.goto(url).await?;
            let v = browser
                .client
                .execute_async(script, vec![json!(selector), json!(text)])
                .await?;
            times.push(v.as_f64().context("a time")?);
        }
    }
    Ok(times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect())
}
