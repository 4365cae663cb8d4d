//! File transfers over HTTPS beside the XMPP stream: the XEP-0363 PUT of
//! an upload slot (streamed from disk) and the download of a shared file
//! (streamed to a temporary file beside the target, capped, renamed
//! without overwriting at the end; `aesgcm://` files (XEP-0454)
//! decrypted before). Each runs on its own task with the stream's TLS
//! (`http::client`); progress comes a few times a second, then one
//! [`SessionEvent::TransferDone`]. [`TransferCmd::Cancel`] aborts one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_rustls::rustls::ClientConfig;

use crate::{SessionEvent, Tag};
use confab_proto::ErrorInfo;

/// How often progress is reported while a transfer runs.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// The size of the reads from disk (and of the body's chunks).
const CHUNK: usize = 256 * 1024;

/// A transfer the app asks for.
#[derive(Debug, Clone)]
pub enum TransferCmd {
    /// PUT `path` (`size` bytes, as the slot was asked for) to `url` with
    /// these headers only (the slot's, already filtered). With `key`, the
    /// file is AES-256-GCM encrypted first (XEP-0454: `size` is then the
    /// file's length plus the 16-byte tag) and only the ciphertext leaves.
    Upload {
        tag: Tag,
        url: String,
        headers: Vec<(String, String)>,
        path: PathBuf,
        size: u64,
        content_type: String,
        key: Option<AesGcmKey>,
    },
    /// GET `url` (https) into `path` (never overwritten), at most `max`
    /// bytes; with `key`, AES-256-GCM (XEP-0454) decrypted first.
    Download {
        tag: Tag,
        url: String,
        path: PathBuf,
        max: u64,
        key: Option<AesGcmKey>,
    },
    /// Stop the transfer `tag` (it ends with an error `cancelled`).
    Cancel { tag: Tag },
}

/// The key and IV of an `aesgcm://` link (XEP-0454): IV of 12 or 16
/// bytes, then a 32-byte key, in the URL fragment as hex.
#[derive(Clone, PartialEq, Eq)]
pub struct AesGcmKey {
    pub iv: Vec<u8>,
    pub key: [u8; 32],
}

impl AesGcmKey {
    /// A fresh key and 12-byte IV from the operating system's generator.
    pub fn random() -> Result<AesGcmKey, ErrorInfo> {
        let mut iv = vec![0u8; 12];
        let mut key = [0u8; 32];
        getrandom::fill(&mut iv)
            .and_then(|_| getrandom::fill(&mut key))
            .map_err(|e| err("internal-server-error", format!("no random key: {e}")))?;
        Ok(AesGcmKey { iv, key })
    }

    /// The `aesgcm://` link of the file at the https URL `get` (its key
    /// in the fragment); `None` if `get` is not https.
    pub fn link(&self, get: &str) -> Option<String> {
        let rest = get.strip_prefix("https://")?;
        let hex: String = self
            .iv
            .iter()
            .chain(self.key.iter())
            .map(|b| format!("{b:02x}"))
            .collect();
        Some(format!(
            "aesgcm://{}#{hex}",
            rest.split('#').next().unwrap_or(rest)
        ))
    }
}

impl std::fmt::Debug for AesGcmKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesGcmKey(..)")
    }
}

/// How a transfer is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes: u64,
    pub total: Option<u64>,
}

/// The transfers under way (the session task's part: start, cancel).
pub(crate) struct Transfers {
    running: HashMap<Tag, AbortHandle>,
}

fn err(condition: &str, text: impl Into<String>) -> ErrorInfo {
    ErrorInfo::new(condition, Some(text.into()))
}

impl Transfers {
    pub(crate) fn new() -> Transfers {
        Transfers {
            running: HashMap::new(),
        }
    }

    pub(crate) fn handle(
        &mut self,
        cmd: TransferCmd,
        tls: &Arc<ClientConfig>,
        events: &mpsc::UnboundedSender<SessionEvent>,
    ) {
        self.running.retain(|_, h| !h.is_finished());
        let (tag, work) = match cmd {
            TransferCmd::Cancel { tag } => {
                if let Some(h) = self.running.remove(&tag) {
                    h.abort();
                    let _ = events.send(SessionEvent::TransferDone {
                        tag,
                        result: Err(err("cancelled", "stopped by /cancel")),
                    });
                }
                return;
            }
            TransferCmd::Upload { tag, .. } | TransferCmd::Download { tag, .. } => (tag, cmd),
        };
        let client = match crate::http::client(tls) {
            Ok(c) => c,
            Err(e) => {
                let _ = events.send(SessionEvent::TransferDone {
                    tag,
                    result: Err(e),
                });
                return;
            }
        };
        let events = events.clone();
        let task = tokio::spawn(async move {
            let count = Arc::new(AtomicU64::new(0));
            let total = Arc::new(AtomicU64::new(u64::MAX));
            let run = run(client, work, count.clone(), total.clone());
            tokio::pin!(run);
            let mut every = tokio::time::interval(PROGRESS_EVERY);
            every.tick().await;
            let mut last = 0;
            let result = loop {
                tokio::select! {
                    r = &mut run => break r,
                    _ = every.tick() => {
                        let bytes = count.load(Ordering::Relaxed);
                        if bytes != last {
                            last = bytes;
                            let t = total.load(Ordering::Relaxed);
                            let progress = Progress { bytes, total: (t != u64::MAX).then_some(t) };
                            let _ = events.send(SessionEvent::TransferProgress { tag, progress });
                        }
                    }
                }
            };
            let _ = events.send(SessionEvent::TransferDone { tag, result });
        });
        self.running.insert(tag, task.abort_handle());
    }
}

async fn run(
    client: reqwest::Client,
    cmd: TransferCmd,
    count: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
) -> Result<u64, ErrorInfo> {
    match cmd {
        TransferCmd::Upload {
            url,
            headers,
            path,
            size,
            content_type,
            key,
            ..
        } => {
            total.store(size, Ordering::Relaxed);
            let body = match key {
                None => Body::File { path, size },
                Some(key) => Body::Sealed(sealed(path, size, key).await?),
            };
            upload(client, &url, headers, body, size, &content_type, count).await
        }
        TransferCmd::Download {
            url,
            path,
            max,
            key,
            ..
        } => download(client, &url, path, max, key, count, total).await,
        TransferCmd::Cancel { .. } => Ok(0),
    }
}

/// What a PUT sends: a file read in chunks as the body goes out, or the
/// ciphertext of one (XEP-0454), held in memory.
enum Body {
    File { path: PathBuf, size: u64 },
    Sealed(Vec<u8>),
}

/// The file at `path` encrypted with `key`; `size` is what the slot was
/// asked for (the file's length and the tag).
async fn sealed(path: PathBuf, size: u64, key: AesGcmKey) -> Result<Vec<u8>, ErrorInfo> {
    let shown = path.display().to_string();
    let plain = tokio::fs::read(&path)
        .await
        .map_err(|e| err("item-not-found", format!("{shown}: {e}")))?;
    let now = plain.len() as u64 + TAG_LEN;
    if now != size {
        return Err(err(
            "conflict",
            format!(
                "{shown} changed size ({} → {} bytes) before the upload",
                size.saturating_sub(TAG_LEN),
                plain.len()
            ),
        ));
    }
    tokio::task::spawn_blocking(move || encrypt(&key, &plain))
        .await
        .map_err(|e| err("internal-server-error", format!("encrypting {shown}: {e}")))
}

/// The AES-GCM tag XEP-0454 appends to the file.
pub const TAG_LEN: u64 = 16;

/// The PUT, the body streamed in chunks as it goes out.
async fn upload(
    client: reqwest::Client,
    url: &str,
    headers: Vec<(String, String)>,
    body: Body,
    size: u64,
    content_type: &str,
    count: Arc<AtomicU64>,
) -> Result<u64, ErrorInfo> {
    let body = match body {
        Body::File { path, size } => {
            let shown = path.display().to_string();
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| err("item-not-found", format!("{shown}: {e}")))?;
            let now = file
                .metadata()
                .await
                .map_err(|e| err("item-not-found", format!("{shown}: {e}")))?
                .len();
            if now != size {
                return Err(err(
                    "conflict",
                    format!("{shown} changed size ({size} → {now} bytes) before the upload"),
                ));
            }
            let count = count.clone();
            reqwest::Body::wrap_stream(futures::stream::unfold(
                (file, 0u64),
                move |(mut file, sent)| {
                    let count = count.clone();
                    async move {
                        if sent >= size {
                            return None;
                        }
                        let want = CHUNK.min((size - sent) as usize);
                        let mut buf = vec![0u8; want];
                        match file.read_exact(&mut buf).await {
                            Ok(_) => {
                                count.fetch_add(want as u64, Ordering::Relaxed);
                                Some((Ok::<_, std::io::Error>(buf), (file, sent + want as u64)))
                            }
                            Err(e) => Some((Err(e), (file, size))),
                        }
                    }
                },
            ))
        }
        Body::Sealed(data) => {
            let count = count.clone();
            let chunks: Vec<Vec<u8>> = data.chunks(CHUNK).map(<[u8]>::to_vec).collect();
            reqwest::Body::wrap_stream(futures::stream::iter(chunks.into_iter().map(move |c| {
                count.fetch_add(c.len() as u64, Ordering::Relaxed);
                Ok::<_, std::io::Error>(c)
            })))
        }
    };
    let mut request = client
        .put(url)
        .header(reqwest::header::CONTENT_LENGTH, size)
        .header(reqwest::header::CONTENT_TYPE, content_type);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|e| crate::http::describe(url_for_errors(url), e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(err(
            "undefined-condition",
            format!("the upload service answered {status}"),
        ));
    }
    Ok(size)
}

/// A URL as shown in errors: without its query (tokens live there).
fn url_for_errors(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

async fn download(
    client: reqwest::Client,
    url: &str,
    path: PathBuf,
    max: u64,
    key: Option<AesGcmKey>,
    count: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
) -> Result<u64, ErrorInfo> {
    let shown = url_for_errors(url);
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| crate::http::describe(shown, e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(err(
            "item-not-found",
            format!("{shown}: the server answered {status}"),
        ));
    }
    if let Some(len) = response.content_length() {
        if len > max {
            return Err(err(
                "not-acceptable",
                format!("{shown}: {len} bytes, more than the limit of {max}"),
            ));
        }
        total.store(len, Ordering::Relaxed);
    }
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let local =
        |e: std::io::Error| err("internal-server-error", format!("{}: {e}", path.display()));
    tokio::fs::create_dir_all(dir).await.map_err(local)?;
    let part = tempfile::Builder::new()
        .prefix(".confab-download-")
        .tempfile_in(dir)
        .map_err(local)?;
    let mut out = tokio::fs::File::from_std(part.reopen().map_err(local)?);
    let mut got = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| crate::http::describe(shown, e))?
    {
        got += chunk.len() as u64;
        if got > max {
            return Err(err(
                "not-acceptable",
                format!("{shown}: more than the limit of {max} bytes"),
            ));
        }
        out.write_all(&chunk).await.map_err(local)?;
        count.store(got, Ordering::Relaxed);
    }
    out.flush().await.map_err(local)?;
    drop(out);
    if let Some(key) = key {
        let data = tokio::fs::read(part.path()).await.map_err(local)?;
        let plain = decrypt(&key, &data)?;
        tokio::fs::write(part.path(), &plain).await.map_err(local)?;
        got = plain.len() as u64;
    }
    part.persist_noclobber(&path).map_err(|e| local(e.error))?;
    Ok(got)
}

/// XEP-0454: AES-256-GCM, the tag the last 16 bytes of the file.
pub fn decrypt(key: &AesGcmKey, data: &[u8]) -> Result<Vec<u8>, ErrorInfo> {
    use aes_gcm::aead::consts::{U12, U16};
    use aes_gcm::aead::generic_array::GenericArray;
    use aes_gcm::aead::{Aead, KeyInit};
    use aes_gcm::aes::Aes256;
    let refused = || {
        err(
            "not-acceptable",
            "the file does not decrypt with the link's key (damaged or tampered with)",
        )
    };
    match key.iv.len() {
        12 => aes_gcm::AesGcm::<Aes256, U12>::new(GenericArray::from_slice(&key.key))
            .decrypt(GenericArray::from_slice(&key.iv), data)
            .map_err(|_| refused()),
        16 => aes_gcm::AesGcm::<Aes256, U16>::new(GenericArray::from_slice(&key.key))
            .decrypt(GenericArray::from_slice(&key.iv), data)
            .map_err(|_| refused()),
        _ => Err(refused()),
    }
}

/// XEP-0454 encryption (`/upload` in an OMEMO conversation; tests).
pub fn encrypt(key: &AesGcmKey, data: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::consts::U12;
    use aes_gcm::aead::generic_array::GenericArray;
    use aes_gcm::aead::{Aead, KeyInit};
    use aes_gcm::aes::Aes256;
    aes_gcm::AesGcm::<Aes256, U12>::new(GenericArray::from_slice(&key.key))
        .encrypt(GenericArray::from_slice(&key.iv[..12]), data)
        .expect("AES-GCM encrypts any length we have")
}

/// Parses `aesgcm://host/path#HEX`: the https URL to fetch and the key.
pub fn parse_aesgcm(url: &str) -> Option<(String, AesGcmKey)> {
    let rest = url.strip_prefix("aesgcm://")?;
    let (location, fragment) = rest.rsplit_once('#')?;
    if !(fragment.len() == 88 || fragment.len() == 96) || !fragment.is_ascii() {
        return None;
    }
    let bytes = (0..fragment.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&fragment[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let iv_len = bytes.len() - 32;
    let key: [u8; 32] = bytes[iv_len..].try_into().ok()?;
    Some((
        format!("https://{location}"),
        AesGcmKey {
            iv: bytes[..iv_len].to_vec(),
            key,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aesgcm_links_and_tampering() {
        let hex: String = (0..44u8).map(|b| format!("{b:02x}")).collect();
        let (url, key) = parse_aesgcm(&format!("aesgcm://h.example/f/x.jpg#{hex}")).unwrap();
        assert_eq!(url, "https://h.example/f/x.jpg");
        assert_eq!(key.iv, (0..12u8).collect::<Vec<_>>());
        let data = encrypt(&key, b"hello");
        assert_eq!(data.len(), 5 + 16);
        assert_eq!(decrypt(&key, &data).unwrap(), b"hello");
        let mut bad = data.clone();
        bad[0] ^= 1;
        assert!(decrypt(&key, &bad).is_err());
        assert!(parse_aesgcm("aesgcm://h/x#00").is_none());
        assert!(parse_aesgcm("https://h/x").is_none());
        let hex16: String = (0..48u8).map(|b| format!("{b:02x}")).collect();
        let (_, k16) = parse_aesgcm(&format!("aesgcm://h/x#{hex16}")).unwrap();
        assert_eq!(k16.iv.len(), 16);
    }

    #[test]
    fn random_keys_make_links_that_parse_back() {
        let a = AesGcmKey::random().unwrap();
        let b = AesGcmKey::random().unwrap();
        assert_ne!(a.key, b.key);
        assert_eq!(a.iv.len(), 12);
        let link = a.link("https://up.example/s/x.png").unwrap();
        assert!(link.starts_with("aesgcm://up.example/s/x.png#"));
        let (url, back) = parse_aesgcm(&link).unwrap();
        assert_eq!(url, "https://up.example/s/x.png");
        assert_eq!(back, a);
        assert!(a.link("http://up.example/x").is_none());
        // The key never shows in debug output.
        assert_eq!(format!("{a:?}"), "AesGcmKey(..)");
    }
}
