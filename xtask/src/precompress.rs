//! The widget's files compressed once at build time, beside each file (`name.br`, `name.gz`):
//! the backend sends them to the HubSpot card's modal when the browser takes brotli or gzip
//! (`ServeDir::precompressed_br`), at the best ratio and with no work per request. The
//! Freshworks package leaves them out: its own host serves the app's files.

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};

/// The copies' suffixes: a file ending so is a copy, never compressed again nor packaged.
pub const SUFFIXES: [&str; 2] = [".br", ".gz"];

/// The kinds of file worth compressing (images are compressed already).
const KINDS: [&str; 4] = [".wasm", ".js", ".css", ".json"];

/// Brotli's best quality, and its largest window that every decoder takes.
const BROTLI_QUALITY: u32 = 11;
const BROTLI_WINDOW: u32 = 22;

/// Whether `name` is a compressed copy.
pub fn is_copy(name: &str) -> bool {
    SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Writes a brotli and a gzip copy beside every compressible file under `dir` (replacing
/// earlier copies); returns the files compressed.
pub fn beside(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut done = Vec::new();
    for path in files(dir)? {
        let data = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        fs::write(with_suffix(&path, ".br"), brotli(&data)?)?;
        fs::write(with_suffix(&path, ".gz"), gzip(&data)?)?;
        done.push(path);
    }
    Ok(done)
}

/// The compressible files under `dir`, copies left out.
fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() {
            out.extend(files(&path)?);
        } else if !is_copy(&name) && KINDS.iter().any(|k| name.ends_with(k)) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn brotli(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
        w.write_all(data)?;
    }
    Ok(out)
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    w.write_all(data)?;
    Ok(w.finish()?)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn each_compressible_file_gets_copies_that_read_back_as_the_file() {
        let dir = std::env::temp_dir().join(format!("idv-precompress-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("locales")).unwrap();
        let wasm = b"\0asm".repeat(500);
        fs::write(dir.join("w-0123456789abcdef_bg.wasm"), &wasm).unwrap();
        fs::write(dir.join("locales/de.json"), br#"{"a":"b"}"#).unwrap();
        fs::write(dir.join("icon.svg.png"), b"png").unwrap();

        let done = beside(&dir).unwrap();
        assert_eq!(done.len(), 2, "{done:?}");
        // Run again: the copies are replaced, never compressed themselves.
        assert_eq!(beside(&dir).unwrap().len(), 2);
        assert!(!dir.join("icon.svg.png.br").exists());
        assert!(!dir.join("w-0123456789abcdef_bg.wasm.br.br").exists());

        let br = fs::read(dir.join("w-0123456789abcdef_bg.wasm.br")).unwrap();
        let mut back = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, wasm);
        assert!(br.len() < wasm.len() / 10);
        let gz = fs::read(dir.join("locales/de.json.gz")).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, br#"{"a":"b"}"#);
        let _ = fs::remove_dir_all(&dir);
    }
}
