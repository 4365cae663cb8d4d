//! Files: `/upload` (XEP-0363: the account server's upload service found
//! by disco and remembered, its limit checked before anything is sent,
//! a slot, the PUT by the session's `transfer.rs`, then the link sent
//! with XEP-0066 OOB; with OMEMO on, the file encrypted with a fresh key
//! and its `aesgcm://` link sent only inside OMEMO, `omemo/files.rs`), `/save` (a message's attachment or link,
//! `aesgcm://` decrypted), `/open` (the configured opener, never a
//! shell), `/cancel`. A transfer's command waits under its tag without a
//! deadline; progress comes as `upload` / `download` events.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jid::{BareJid, Jid};

use super::{App, Exec, IqStep, IqThen, Waiting, err_event, refuse};
use crate::command::MessageRef;
use crate::protocol::message::chat;
use crate::protocol::{muc, rooms, upload};
use crate::session::transfer::{AesGcmKey, Progress, TAG_LEN, TransferCmd, parse_aesgcm};
use crate::session::{SessionCmd, Tag};
use crate::store::attachments::{self, file_name, guess_type, sanitize_file_name};
use crate::store::{Event, JoinState, Kind, Message};
use confab_proto::ErrorInfo;

/// Where and how files are saved and opened (`[files]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesOptions {
    /// Where `/save` writes without a PATH.
    pub download_dir: PathBuf,
    /// The largest file `/save` takes.
    pub max_download: u64,
    /// The program (and its first arguments) `/open` runs with the URL
    /// as one more argument.
    pub opener: Vec<String>,
}

/// Default `[files] max_download_bytes`: 100 MB.
pub const DEFAULT_MAX_DOWNLOAD: u64 = 100 * 1000 * 1000;

impl FilesOptions {
    pub fn with_download_dir(download_dir: PathBuf) -> FilesOptions {
        FilesOptions {
            download_dir,
            max_download: DEFAULT_MAX_DOWNLOAD,
            opener: vec!["xdg-open".to_string()],
        }
    }
}

/// What the app knows of uploads and transfers.
#[derive(Debug, Default)]
pub(super) struct FilesState {
    /// Our server's upload service once found: its JID and limit.
    service: Option<(Jid, Option<u64>)>,
    running: HashMap<Tag, Transfer>,
}

#[derive(Debug, Clone)]
enum Transfer {
    Upload(UploadJob, String),
    Download { url: String, path: PathBuf },
}

/// A file to upload and where its link goes.
#[derive(Debug, Clone)]
struct UploadJob {
    to: BareJid,
    room: bool,
    path: PathBuf,
    size: u64,
    name: String,
    /// OMEMO is on here: the file goes up encrypted with this key
    /// (XEP-0454) and its `aesgcm://` link only inside an OMEMO message
    /// (`app/omemo/files.rs`).
    key: Option<AesGcmKey>,
}

impl UploadJob {
    /// What goes up (the slot's size): the ciphertext has the tag too.
    fn upload_size(&self) -> u64 {
        self.size + if self.key.is_some() { TAG_LEN } else { 0 }
    }
}

/// `~/x` → the home folder's `x`.
fn expand(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// A URL as shown: no fragment (an `aesgcm://` key lives there) and no
/// query (tokens).
fn shown(url: &str) -> String {
    url.split(['#', '?']).next().unwrap_or(url).to_string()
}

fn megabytes(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1e6)
}

impl App {
    /// `/upload`: checks, then the service (cached), then the slot.
    pub(super) fn start_upload(
        &mut self,
        text: &str,
        to: BareJid,
        path: &str,
    ) -> Result<Exec, Box<Event>> {
        let room = matches!(self.store.room(&to).map(|r| r.state), Some(s) if s != JoinState::Left);
        if room {
            self.in_room(&to, text)?;
        }
        let key = if self.omemo_enabled(&to) {
            self.omemo_can_send(text)?;
            Some(
                AesGcmKey::random()
                    .map_err(|e| refuse(text, &e.condition, e.text.unwrap_or_default()))?,
            )
        } else {
            None
        };
        let path = expand(path);
        let meta = std::fs::metadata(&path)
            .map_err(|e| refuse(text, "item-not-found", format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(refuse(
                text,
                "not-acceptable",
                format!("{} is not a file", path.display()),
            ));
        }
        let name = sanitize_file_name(
            &path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        let job = UploadJob {
            to,
            room,
            path,
            size: meta.len(),
            name,
            key,
        };
        Ok(match self.files.service.clone() {
            Some((service, limit)) => {
                over_limit(&job, limit).map_err(|e| refuse(text, "not-acceptable", e))?;
                let request =
                    upload::slot_request(&job.name, job.upload_size(), guess_type(&job.name));
                self.start_iq(text, Some(service), request, false, slot_then(job))
            }
            None => {
                let domain = Jid::from(BareJid::from_parts(None, self.opts.account.domain()));
                self.start_iq(
                    text,
                    Some(domain.clone()),
                    rooms::items_query(None, None),
                    false,
                    items_then(job, domain),
                )
            }
        })
    }

    /// The slot is ours: the PUT starts under the command's tag.
    fn begin_upload(
        &mut self,
        tag: Tag,
        command: String,
        job: UploadJob,
        slot: upload::Slot,
    ) -> Vec<Event> {
        self.wait_as(tag, &command, Waiting::Transfer, false);
        self.session.send(SessionCmd::Transfer(TransferCmd::Upload {
            tag,
            url: slot.put.clone(),
            headers: slot.headers.clone(),
            path: job.path.clone(),
            size: job.upload_size(),
            content_type: guess_type(&job.name).to_string(),
            key: job.key.clone(),
        }));
        let ev = upload_event(&job, "started", 0, None);
        self.files
            .running
            .insert(tag, Transfer::Upload(job, slot.get));
        vec![ev]
    }

    /// `/save`: the attachment (else first link) of the message.
    pub(super) fn start_save(
        &mut self,
        text: &str,
        of: &BareJid,
        r: &MessageRef,
        path: Option<&str>,
    ) -> Result<Exec, Box<Event>> {
        let url = self.message_url(text, of, r)?;
        let (fetch, key) = if url.starts_with("aesgcm://") {
            let (fetch, key) = parse_aesgcm(&url).ok_or_else(|| {
                refuse(text, "bad-request", "the aesgcm:// link has no valid key")
            })?;
            (fetch, Some(key))
        } else if url.starts_with("https://") {
            (url.clone(), None)
        } else {
            return Err(refuse(
                text,
                "not-acceptable",
                format!(
                    "{}: only https:// and aesgcm:// files are saved",
                    shown(&url)
                ),
            ));
        };
        let name = file_name(&url);
        let dest = match path.map(expand) {
            None => self.opts.files.download_dir.join(&name),
            Some(p) if p.is_dir() => p.join(&name),
            Some(p) => p,
        };
        if dest.exists() {
            return Err(refuse(
                text,
                "conflict",
                format!("{} exists already; name another PATH", dest.display()),
            ));
        }
        let tag = self.wait(text, Waiting::Transfer, false);
        self.session
            .send(SessionCmd::Transfer(TransferCmd::Download {
                tag,
                url: fetch,
                path: dest.clone(),
                max: self.opts.files.max_download,
                key,
            }));
        let url = shown(&url);
        let ev = download_event(&url, &dest, "started", 0, None);
        self.files
            .running
            .insert(tag, Transfer::Download { url, path: dest });
        Ok(Exec {
            events: vec![ev],
            pending: Some(tag),
        })
    }

    /// `/open`: the opener with the URL as its one last argument.
    pub(super) fn open_url(
        &mut self,
        text: &str,
        of: &BareJid,
        r: &MessageRef,
    ) -> Result<Exec, Box<Event>> {
        let url = self.message_url(text, of, r)?;
        let Some((program, args)) = self.opts.files.opener.split_first() else {
            return Err(refuse(text, "not-acceptable", "no opener is configured"));
        };
        std::process::Command::new(program)
            .args(args)
            .arg(&url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| refuse(text, "internal-server-error", format!("{program}: {e}")))?;
        Ok(Exec::done(vec![
            Event::Info {
                text: format!("opened {} with {program}", shown(&url)),
            },
            App::result(text, Ok(())),
        ]))
    }

    /// `/cancel`: every transfer under way.
    pub(super) fn cancel_transfers(&mut self, text: &str) -> Exec {
        if self.files.running.is_empty() {
            return Exec::done(vec![err_event(
                text,
                "item-not-found",
                "no transfer is under way",
            )]);
        }
        for tag in self.files.running.keys() {
            self.session
                .send(SessionCmd::Transfer(TransferCmd::Cancel { tag: *tag }));
        }
        Exec::done(vec![App::result(text, Ok(()))])
    }

    /// Whether a transfer runs (the TUI's Esc cancels then).
    pub fn transferring(&self) -> bool {
        !self.files.running.is_empty()
    }

    /// The URL of the message `r` names: its first attachment, else its
    /// first link (`@`: the newest message with one).
    fn message_url(&self, text: &str, of: &BareJid, r: &MessageRef) -> Result<String, Box<Event>> {
        let log = match self.store.room(of) {
            Some(rm) if rm.state != JoinState::Left => &rm.messages,
            _ => match self.store.conversations.get(of) {
                Some(c) => &c.messages,
                None => {
                    return Err(refuse(
                        text,
                        "item-not-found",
                        format!("no room or conversation with {of} is open"),
                    ));
                }
            },
        };
        let room = self.store.room(of).is_some();
        let has_url = |m: &&Message| {
            m.kind == Kind::Chat
                && m.meta.removed.is_none()
                && !attachments::urls(&m.body).is_empty()
        };
        let line = match r {
            MessageRef::Id(id) => log.find_ref(id, room).and_then(|i| log.get(i)),
            MessageRef::LastOf(None) => log.iter().rev().find(has_url),
            MessageRef::LastOf(Some(me)) if me == "me" => {
                log.iter().rev().filter(has_url).find(|m| m.own)
            }
            MessageRef::LastOf(Some(nick)) => log
                .iter()
                .rev()
                .filter(has_url)
                .find(|m| m.nick.as_deref() == Some(nick.as_str())),
        };
        let Some(line) = line else {
            return Err(refuse(
                text,
                "item-not-found",
                format!("no such message with a link in {of}"),
            ));
        };
        attachments::urls(&line.body)
            .into_iter()
            .next()
            .ok_or_else(|| refuse(text, "item-not-found", "the message has no file or link"))
    }

    pub(super) fn on_transfer_progress(&mut self, tag: Tag, p: Progress) -> Vec<Event> {
        match self.files.running.get(&tag) {
            Some(Transfer::Upload(job, _)) => {
                vec![upload_event(job, "progress", p.bytes.min(job.size), None)]
            }
            Some(Transfer::Download { url, path }) => {
                vec![download_event(url, path, "progress", p.bytes, p.total)]
            }
            None => Vec::new(),
        }
    }

    pub(super) fn on_transfer_done(
        &mut self,
        tag: Tag,
        result: Result<u64, ErrorInfo>,
    ) -> Vec<Event> {
        let Some(t) = self.files.running.remove(&tag) else {
            return Vec::new();
        };
        let Some(p) = self.pending.remove(&tag) else {
            return Vec::new();
        };
        let command = p.command;
        let failed = |e: &ErrorInfo| {
            if e.condition == "cancelled" {
                "cancelled"
            } else {
                "failed"
            }
        };
        match (t, result) {
            (Transfer::Upload(job, get), Ok(bytes)) => {
                let bytes = bytes.min(job.size);
                let mut events = vec![upload_event(&job, "done", bytes, Some(get.clone()))];
                events.extend(self.send_link(tag, command, &job, &get));
                events
            }
            (Transfer::Upload(job, _), Err(e)) => vec![
                upload_event(&job, failed(&e), 0, None),
                err_event(&command, &e.condition, e.text.unwrap_or_default()),
            ],
            (Transfer::Download { url, path }, Ok(bytes)) => vec![
                download_event(&url, &path, "done", bytes, Some(bytes)),
                App::result(&command, Ok(())),
            ],
            (Transfer::Download { url, path }, Err(e)) => vec![
                download_event(&url, &path, failed(&e), 0, None),
                err_event(&command, &e.condition, e.text.unwrap_or_default()),
            ],
        }
    }

    /// The uploaded file's link: in the body and as XEP-0066 OOB; the
    /// command ends like `/say` or `/msg`.
    fn send_link(&mut self, tag: Tag, command: String, job: &UploadJob, get: &str) -> Vec<Event> {
        if let Some(key) = &job.key {
            // Encrypted: the link and its key only inside OMEMO.
            let Some(link) = key.link(get) else {
                return vec![err_event(
                    &command,
                    "not-acceptable",
                    "the upload service's link is not https: not sent",
                )];
            };
            let step = self.omemo_link_step(&command, &job.to, job.room, link);
            return self.follow_step(tag, command, step);
        }
        let id = self.message_id();
        if job.room {
            let mut m = muc::groupchat(&job.to, get, &id);
            m.payloads.push(upload::oob(get));
            self.send_echoed_as(tag, &command, job.to.clone(), m, id);
            return Vec::new();
        }
        let to = Jid::from(job.to.clone());
        let mut m = chat(to.clone(), get, &id, false);
        m.payloads.push(upload::oob(get));
        self.wait_as(
            tag,
            &command,
            Waiting::SentChat {
                to,
                body: get.to_string(),
                id,
                private: false,
                reply: None,
                e2e: None,
            },
            false,
        );
        self.session.send(SessionCmd::Message {
            message: Box::new(m),
            room: None,
            tag,
        });
        Vec::new()
    }
}

fn upload_event(job: &UploadJob, state: &'static str, bytes: u64, url: Option<String>) -> Event {
    Event::Upload {
        to: job.to.clone(),
        name: job.name.clone(),
        state,
        bytes,
        total: job.size,
        url,
    }
}

fn download_event(
    url: &str,
    path: &Path,
    state: &'static str,
    bytes: u64,
    total: Option<u64>,
) -> Event {
    Event::Download {
        url: url.to_string(),
        path: path.display().to_string(),
        state,
        bytes,
        total,
    }
}

/// The service's limit, checked before anything is sent.
fn over_limit(job: &UploadJob, limit: Option<u64>) -> Result<(), String> {
    match limit {
        Some(max) if job.upload_size() > max => Err(format!(
            "{} is {} ({} bytes); the upload service takes at most {} ({max} bytes)",
            job.name,
            megabytes(job.size),
            job.size,
            megabytes(max)
        )),
        _ => Ok(()),
    }
}

/// The server's items: the domain itself first, then each item, asked
/// for its disco#info until one is an upload service.
fn items_then(job: UploadJob, domain: Jid) -> IqThen {
    IqThen::new(move |_, command, result| {
        let mut candidates = vec![domain.clone()];
        if let Ok(page) = rooms::parse_items(result.ok().flatten().as_ref()) {
            candidates.extend(
                page.items
                    .iter()
                    .filter_map(|i| Jid::new(&i.jid).ok())
                    .take(32),
            );
        }
        probe(job.clone(), candidates, command)
    })
}

fn probe(job: UploadJob, mut candidates: Vec<Jid>, command: &str) -> IqStep {
    if candidates.is_empty() {
        return IqStep::Done(vec![err_event(
            command,
            "feature-not-implemented",
            "your server offers no HTTP upload service (XEP-0363)",
        )]);
    }
    let next = candidates.remove(0);
    let asked = next.clone();
    IqStep::Next {
        events: Vec::new(),
        to: Some(next),
        payload: rooms::info_query(),
        set: false,
        then: IqThen::new(move |app, command, result| {
            let info = result.ok().flatten();
            let limit = rooms::parse_info(info.as_ref())
                .ok()
                .and_then(|i| upload::service_limit(&i));
            let Some(limit) = limit else {
                return probe(job.clone(), candidates.clone(), command);
            };
            app.files.service = Some((asked.clone(), limit));
            if let Err(e) = over_limit(&job, limit) {
                return IqStep::Done(vec![err_event(command, "not-acceptable", e)]);
            }
            IqStep::Next {
                events: Vec::new(),
                to: Some(asked.clone()),
                payload: upload::slot_request(&job.name, job.upload_size(), guess_type(&job.name)),
                set: false,
                then: slot_then(job.clone()),
            }
        }),
    }
}

fn slot_then(job: UploadJob) -> IqThen {
    IqThen::new(move |_, command, result| {
        let slot = match result.and_then(|p| upload::parse_slot(p.as_ref())) {
            Ok(s) => s,
            Err(e) => {
                return IqStep::Done(vec![err_event(
                    command,
                    &e.condition,
                    format!("no upload slot: {}", e.text.unwrap_or_default()),
                )]);
            }
        };
        let job = job.clone();
        IqStep::WithTag(Box::new(move |app: &mut App, tag, command| {
            app.begin_upload(tag, command, job, slot)
        }))
    })
}
