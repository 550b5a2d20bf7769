//! Shared fixtures for the end-to-end tests: the demo on port 0 with a fresh SQLite file, and
//! real headless Chromium driven over WebDriver (Debian's chromium + chromium-driver).

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use idv_server::{demo, Config};

/// The files a sidebar fetches of the built widget in `app` (`index.html`, the script, the wasm
/// and the style sheet), by name, with their bytes: what the bench and the weight budget count.
pub fn widget_files(app: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    files_in(app, "", |name| {
        name == "index.html" || [".js", ".wasm", ".css"].iter().any(|e| name.ends_with(e))
    })
}

/// The language catalogues beside the built widget in `app` (`locales/<code>.json`), by name,
/// with their bytes: a page whose rep reads another language than English fetches one of them.
pub fn widget_catalogues(app: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    files_in(&app.join("locales"), "locales/", |name| {
        name.ends_with(".json")
    })
}

/// The files of `dir` whose names `keep`, named `prefix` + name, with their bytes, by name.
fn files_in(
    dir: &Path,
    prefix: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if path.is_file() && keep(&name) {
            files.push((format!("{prefix}{name}"), std::fs::read(&path)?));
        }
    }
    files.sort();
    Ok(files)
}

/// The size of `data` gzipped at the highest level (`gzip -9`).
pub fn gzip_size(data: &[u8]) -> Result<usize> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data)?;
    Ok(e.finish()?.len())
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// End-to-end tests run when `IDV_E2E=1` (as `cargo xtask test` sets, after building the
/// widget); a plain `cargo test` skips them with a note.
pub fn enabled() -> bool {
    if std::env::var("IDV_E2E").as_deref() == Ok("1") {
        return true;
    }
    eprintln!(
        "SKIPPED: end-to-end tests need the built widget and Chromium; run `cargo xtask test`"
    );
    false
}

/// Where screenshots go (look at them).
pub fn shots_dir() -> PathBuf {
    let dir = root().join("target/e2e");
    std::fs::create_dir_all(&dir).expect("creating target/e2e");
    dir
}

/// Starts the demo on 127.0.0.1:0 with a fresh SQLite database and the built `app/`.
pub async fn start_demo() -> Result<demo::RunningDemo> {
    let app_dir = root().join("app");
    if !app_dir.join("index.html").exists() {
        bail!("app/index.html is missing: build the widget (cargo xtask build-widget)");
    }
    let db = std::env::temp_dir().join(format!("idv-e2e-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let mut config = Config::for_database(format!("sqlite://{}?mode=rwc", db.display()));
    config.app_dir = app_dir;
    config.hubspot_host_dir = root().join("target/hubspot-host");
    demo::start(config, demo::DemoProvider::Kosmos).await
}

/// A ChromeDriver process and a WebDriver session on headless Chromium.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    /// Headless Chromium at this window size. A browser that exits while starting (it happens
    /// on a loaded machine) is started once more, with a fresh profile.
    pub async fn start(width: u32, height: u32) -> Result<Self> {
        match Self::launch(width, height).await {
            Ok(b) => Ok(b),
            Err(first) => {
                eprintln!("Chromium did not start ({first:#}); starting it again");
                Self::launch(width, height).await
            }
        }
    }

    async fn launch(width: u32, height: u32) -> Result<Self> {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {driver_path}"))?;
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not start listening");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // A profile of its own, never one an earlier run left behind.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let profile = std::env::temp_dir().join(format!(
            "idv-chrome-{}-{port}-{nanos:x}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&profile);
        let mut caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={width},{height}"),
                ]
            }
        });
        // Headless Chromium keeps windows at least 500 px wide: a narrower viewport (a CRM's
        // sidebar) is emulated, at the same size, as a desktop screen (no touch, no mobile UA).
        if width < 500 {
            caps["goog:chromeOptions"]["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": {
                    "width": width, "height": height, "pixelRatio": 1.0,
                    "mobile": false, "touch": false,
                }
            });
        }
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let mut driver = driver;
        let client = match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                let _ = std::fs::remove_dir_all(&profile);
                return Err(anyhow::Error::new(e).context("opening a WebDriver session"));
            }
        };
        Ok(Self {
            client,
            driver,
            profile,
        })
    }

    /// Saves a PNG screenshot under target/e2e/.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let path = shots_dir().join(name);
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// What is wider than the viewport or sticks out of it sideways (one line each, naming the
    /// element and its span); empty when the page fits its width.
    pub async fn overflowing(&self) -> Result<Vec<String>> {
        let found = self
            .client
            .execute(
                r#"
                const w = document.documentElement.clientWidth;
                const out = [];
                const doc = document.documentElement.scrollWidth;
                if (doc > w) out.push(`the page scrolls sideways: ${doc} > ${w}`);
                for (const e of document.body.querySelectorAll('*')) {
                    const r = e.getBoundingClientRect();
                    if (r.width === 0 || r.height === 0) continue;
                    const s = getComputedStyle(e);
                    if (s.visibility === 'hidden' || s.clip === 'rect(0px, 0px, 0px, 0px)') continue;
                    // A form field scrolls its own text; everything else must show its content.
                    const field = e.tagName === 'INPUT' || e.tagName === 'TEXTAREA';
                    const clipped = !field && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0
                        && s.overflowX !== 'auto' && s.overflowX !== 'scroll'
                        && s.textOverflow !== 'ellipsis';
                    if (r.left < -0.5 || r.right > w + 0.5 || clipped) {
                        out.push(`${e.tagName.toLowerCase()}${[...e.classList].map(c => '.' + c).join('')}`
                            + ` spans ${Math.round(r.left)}..${Math.round(r.right)}, content ${e.scrollWidth} in ${e.clientWidth}`);
                    }
                }
                return out;
                "#,
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(found)?)
    }

    /// The width of the page's viewport, in CSS pixels.
    pub async fn viewport_width(&self) -> Result<u64> {
        let w = self
            .client
            .execute("return document.documentElement.clientWidth;", vec![])
            .await?;
        w.as_u64().context("clientWidth is a number")
    }

    pub async fn close(mut self) -> Result<()> {
        let r = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
        r.map_err(Into::into)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// The text of the QR code an element shows, read from a screenshot of the element as a phone's
/// camera would read it; the screenshot is kept under target/e2e/ as `name`.
pub async fn read_qr(element: &fantoccini::elements::Element, name: &str) -> Result<String> {
    // Whole, in the middle of its frame: a screenshot holds only what is in view.
    element
        .clone()
        .client()
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(element)?],
        )
        .await?;
    let png = element.screenshot().await?;
    std::fs::write(shots_dir().join(name), &png)?;
    let gray = image::load_from_memory(&png)
        .context("the element's screenshot is not an image")?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(gray);
    let grids = prepared.detect_grids();
    let grid = grids
        .first()
        .context("no QR code in the element's screenshot")?;
    let (_, text) = grid.decode().context("the QR code does not decode")?;
    Ok(text)
}
