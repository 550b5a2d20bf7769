//! Shared fixtures for the end-to-end tests: the demo on port 0 with a fresh SQLite file, and
//! real headless Chromium driven over WebDriver (Debian's chromium + chromium-driver).

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use idv_server::{demo, Config};

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
    demo::start(config, demo::DemoProvider::Kosmos).await
}

/// A ChromeDriver process and a WebDriver session on headless Chromium.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    pub async fn start(width: u32, height: u32) -> Result<Self> {
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
        let profile = std::env::temp_dir().join(format!("idv-chrome-{port}"));
        let caps = serde_json::json!({
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
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("opening a WebDriver session")?;
        Ok(Self { client, driver })
    }

    /// Saves a PNG screenshot under target/e2e/.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let path = shots_dir().join(name);
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub async fn close(mut self) -> Result<()> {
        let r = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        r.map_err(Into::into)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
