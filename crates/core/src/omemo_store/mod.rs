//! OMEMO's key store: this device's keys, the sessions with other
//! devices, the devices seen and the user's trust in them, and whether a
//! conversation is encrypted. Its own SQLite file in the data directory
//! (`omemo.sqlite3`), mode 0600, apart from the history: it holds secret
//! keys, the history does not.
//!
//! Keys and sessions are stored as confab-omemo serializes them (JSON).
//! A row that no longer parses is reported as [`Loaded::Corrupt`] and
//! deleted, so the session is rebuilt rather than the client stuck.
//!
//! Trust is blind trust before verification (BTBV): while none of a
//! contact's keys is verified, every key not distrusted is trusted; once one
//! is verified, new keys wait for the user's decision.

use std::path::Path;

use confab_omemo::Version;
use confab_omemo::device::{DeviceKeys, PREKEYS};
use confab_omemo::keys::IdentityKeyPair;
use confab_omemo::session::Session;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, thiserror::Error)]
pub enum OmemoStoreError {
    #[error("OMEMO key store {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("OMEMO key store {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("OMEMO key store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("OMEMO key store: this device's keys do not parse; remove {0} to start a new device")]
    CorruptOwnKeys(&'static str),
}

type Result<T> = std::result::Result<T, OmemoStoreError>;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS omemo_own (
    account TEXT NOT NULL,
    version TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    keys TEXT NOT NULL,
    PRIMARY KEY (account, version)
);
CREATE TABLE IF NOT EXISTS omemo_sessions (
    account TEXT NOT NULL,
    version TEXT NOT NULL,
    jid TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    session TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (account, version, jid, device_id)
);
CREATE TABLE IF NOT EXISTS omemo_devices (
    account TEXT NOT NULL,
    version TEXT NOT NULL,
    jid TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    identity BLOB,
    trust TEXT NOT NULL DEFAULT 'undecided',
    active INTEGER NOT NULL DEFAULT 1,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (account, version, jid, device_id)
);
CREATE TABLE IF NOT EXISTS omemo_conversations (
    account TEXT NOT NULL,
    conversation TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (account, conversation)
);
";

/// The most devices kept per contact and version (a device list is
/// hostile input too).
pub const MAX_DEVICES_PER_JID: usize = 100;

fn version_key(v: Version) -> &'static str {
    match v {
        Version::Legacy => "legacy",
        Version::V2 => "v2",
    }
}

/// This device: one device id and identity key, key material per version.
pub struct OwnDevice {
    pub device_id: u32,
    pub legacy: DeviceKeys,
    pub v2: DeviceKeys,
    /// Whether it was made just now (no keys were stored): the device
    /// list and bundles need publishing, and the user telling.
    pub created: bool,
}

impl OwnDevice {
    pub fn keys(&self, v: Version) -> &DeviceKeys {
        match v {
            Version::Legacy => &self.legacy,
            Version::V2 => &self.v2,
        }
    }
    pub fn keys_mut(&mut self, v: Version) -> &mut DeviceKeys {
        match v {
            Version::Legacy => &mut self.legacy,
            Version::V2 => &mut self.v2,
        }
    }
}

/// A stored session, or why there is none.
#[derive(Debug)]
pub enum Loaded {
    Found(Box<Session>),
    Missing,
    /// The row did not parse and was deleted; build a new session.
    Corrupt,
}

/// What the user decided about a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    Undecided,
    Verified,
    Distrusted,
}

impl Trust {
    fn as_str(self) -> &'static str {
        match self {
            Trust::Undecided => "undecided",
            Trust::Verified => "verified",
            Trust::Distrusted => "distrusted",
        }
    }
    fn parse(s: &str) -> Trust {
        match s {
            "verified" => Trust::Verified,
            "distrusted" => Trust::Distrusted,
            _ => Trust::Undecided,
        }
    }
}

/// A device of a contact (or of our own account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecord {
    pub device_id: u32,
    /// The identity key in the version's form, once a bundle or key
    /// exchange showed it.
    pub identity: Option<[u8; 32]>,
    pub trust: Trust,
    /// In the contact's current device list.
    pub active: bool,
}

/// What [`OmemoStore::identity_seen`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentitySeen {
    /// The first key of this device.
    New,
    Same,
    /// The device now shows another key: its trust was reset to undecided.
    Changed,
}

pub struct OmemoStore {
    conn: Connection,
    account: String,
}

impl OmemoStore {
    /// Opens (or creates) the store at `path` for `account`: the file is
    /// made (or put back to) mode 0600 before SQLite opens it; SQLite gives
    /// its journal files the same mode.
    pub fn open(path: &Path, account: &str) -> Result<OmemoStore> {
        let file_err = |source| OmemoStoreError::File {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(file_err)?;
        }
        private_file(path).map_err(file_err)?;
        let conn = Connection::open(path).map_err(|source| OmemoStoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(OmemoStore {
            conn,
            account: account.to_string(),
        })
    }

    /// A store in memory (tests).
    pub fn in_memory(account: &str) -> Result<OmemoStore> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(OmemoStore {
            conn,
            account: account.to_string(),
        })
    }

    /// This device's keys, made (one identity, one random device id, both
    /// versions) when none are stored.
    pub fn own_device(&mut self) -> Result<OwnDevice> {
        let load = |v: Version| -> Result<Option<(u32, String)>> {
            Ok(self
                .conn
                .query_row(
                    "SELECT device_id, keys FROM omemo_own WHERE account = ?1 AND version = ?2",
                    params![self.account, version_key(v)],
                    |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?)
        };
        if let (Some((id, legacy)), Some((_, v2))) = (load(Version::Legacy)?, load(Version::V2)?) {
            let parse = |s: &str| serde_json::from_str::<DeviceKeys>(s);
            return match (parse(&legacy), parse(&v2)) {
                (Ok(legacy), Ok(v2)) => Ok(OwnDevice {
                    device_id: id,
                    legacy,
                    v2,
                    created: false,
                }),
                _ => Err(OmemoStoreError::CorruptOwnKeys("omemo.sqlite3")),
            };
        }
        let identity = IdentityKeyPair::generate();
        let own = OwnDevice {
            device_id: random_device_id(),
            legacy: DeviceKeys::generate(Version::Legacy, identity.clone(), PREKEYS),
            v2: DeviceKeys::generate(Version::V2, identity, PREKEYS),
            created: true,
        };
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM omemo_own WHERE account = ?1",
            params![self.account],
        )?;
        for v in [Version::Legacy, Version::V2] {
            tx.execute(
                "INSERT INTO omemo_own (account, version, device_id, keys) VALUES (?1, ?2, ?3, ?4)",
                params![
                    self.account,
                    version_key(v),
                    own.device_id,
                    to_json(own.keys(v))
                ],
            )?;
        }
        tx.commit()?;
        Ok(own)
    }

    /// Stores this device's keys after a prekey was used, the prekeys
    /// replenished or the signed prekey rotated.
    pub fn save_own_keys(&mut self, keys: &DeviceKeys) -> Result<()> {
        self.conn.execute(
            "UPDATE omemo_own SET keys = ?3 WHERE account = ?1 AND version = ?2",
            params![self.account, version_key(keys.version()), to_json(keys)],
        )?;
        Ok(())
    }

    pub fn session(&mut self, v: Version, jid: &str, device_id: u32) -> Result<Loaded> {
        let row: Option<String> = self
            .conn
            .query_row(
                "SELECT session FROM omemo_sessions
                 WHERE account = ?1 AND version = ?2 AND jid = ?3 AND device_id = ?4",
                params![self.account, version_key(v), jid, device_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(json) = row else {
            return Ok(Loaded::Missing);
        };
        match serde_json::from_str::<Session>(&json) {
            Ok(s) if s.version() == v => Ok(Loaded::Found(Box::new(s))),
            _ => {
                self.delete_session(v, jid, device_id)?;
                Ok(Loaded::Corrupt)
            }
        }
    }

    /// Stores a session after every message it encrypted or decrypted
    /// (the ratchet moved; a stale copy would repeat message keys).
    pub fn save_session(
        &mut self,
        jid: &str,
        device_id: u32,
        session: &Session,
        now_ms: i64,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO omemo_sessions (account, version, jid, device_id, session, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (account, version, jid, device_id)
             DO UPDATE SET session = excluded.session, updated_ms = excluded.updated_ms",
            params![
                self.account,
                version_key(session.version()),
                jid,
                device_id,
                to_json(session),
                now_ms
            ],
        )?;
        Ok(())
    }

    pub fn delete_session(&mut self, v: Version, jid: &str, device_id: u32) -> Result<()> {
        self.conn.execute(
            "DELETE FROM omemo_sessions
             WHERE account = ?1 AND version = ?2 AND jid = ?3 AND device_id = ?4",
            params![self.account, version_key(v), jid, device_id],
        )?;
        Ok(())
    }

    /// Takes a contact's device list: listed devices are active (new ones
    /// added, at most [`MAX_DEVICES_PER_JID`]), the others inactive.
    /// Returns the device ids that are new.
    pub fn set_device_list(
        &mut self,
        v: Version,
        jid: &str,
        ids: &[u32],
        now_ms: i64,
    ) -> Result<Vec<u32>> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE omemo_devices SET active = 0 WHERE account = ?1 AND version = ?2 AND jid = ?3",
            params![self.account, version_key(v), jid],
        )?;
        let mut new = Vec::new();
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for id in ids.iter().take(MAX_DEVICES_PER_JID) {
            let updated = tx.execute(
                "UPDATE omemo_devices SET active = 1, last_seen_ms = ?5
                 WHERE account = ?1 AND version = ?2 AND jid = ?3 AND device_id = ?4",
                params![self.account, version_key(v), jid, id, now_ms],
            )?;
            if updated == 0 {
                tx.execute(
                    "INSERT INTO omemo_devices
                     (account, version, jid, device_id, first_seen_ms, last_seen_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![self.account, version_key(v), jid, id, now_ms],
                )?;
                new.push(*id);
            }
        }
        prune(&tx, &self.account, v, jid)?;
        tx.commit()?;
        Ok(new)
    }

    /// Records the identity key a bundle or key exchange showed for a
    /// device. A different key than before resets the trust.
    pub fn identity_seen(
        &mut self,
        v: Version,
        jid: &str,
        device_id: u32,
        identity: &[u8; 32],
        now_ms: i64,
    ) -> Result<IdentitySeen> {
        let before: Option<Option<Vec<u8>>> = self
            .conn
            .query_row(
                "SELECT identity FROM omemo_devices
                 WHERE account = ?1 AND version = ?2 AND jid = ?3 AND device_id = ?4",
                params![self.account, version_key(v), jid, device_id],
                |r| r.get(0),
            )
            .optional()?;
        let seen = match &before {
            Some(Some(old)) if old == identity => IdentitySeen::Same,
            Some(Some(_)) => IdentitySeen::Changed,
            _ => IdentitySeen::New,
        };
        match (seen, before.is_some()) {
            (IdentitySeen::Same, _) => {}
            (_, true) => {
                self.conn.execute(
                    "UPDATE omemo_devices SET identity = ?5, trust = 'undecided', last_seen_ms = ?6
                     WHERE account = ?1 AND version = ?2 AND jid = ?3 AND device_id = ?4",
                    params![
                        self.account,
                        version_key(v),
                        jid,
                        device_id,
                        &identity[..],
                        now_ms
                    ],
                )?;
            }
            (_, false) => {
                self.conn.execute(
                    "INSERT INTO omemo_devices
                     (account, version, jid, device_id, identity, active, first_seen_ms, last_seen_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6)",
                    params![
                        self.account,
                        version_key(v),
                        jid,
                        device_id,
                        &identity[..],
                        now_ms
                    ],
                )?;
                prune(&self.conn, &self.account, v, jid)?;
            }
        }
        Ok(seen)
    }

    /// A contact's devices, active first.
    pub fn devices(&self, v: Version, jid: &str) -> Result<Vec<DeviceRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT device_id, identity, trust, active FROM omemo_devices
             WHERE account = ?1 AND version = ?2 AND jid = ?3
             ORDER BY active DESC, device_id LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![
                self.account,
                version_key(v),
                jid,
                2 * MAX_DEVICES_PER_JID as i64
            ],
            |r| {
                let identity: Option<Vec<u8>> = r.get(1)?;
                Ok(DeviceRecord {
                    device_id: r.get(0)?,
                    identity: identity.and_then(|i| i.try_into().ok()),
                    trust: Trust::parse(&r.get::<_, String>(2)?),
                    active: r.get(3)?,
                })
            },
        )?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Sets the trust in every device of `jid` showing `identity` (the
    /// user names a fingerprint, not a device id). Returns how many.
    pub fn set_trust(
        &mut self,
        v: Version,
        jid: &str,
        identity: &[u8; 32],
        trust: Trust,
    ) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE omemo_devices SET trust = ?5
             WHERE account = ?1 AND version = ?2 AND jid = ?3 AND identity = ?4",
            params![
                self.account,
                version_key(v),
                jid,
                &identity[..],
                trust.as_str()
            ],
        )?)
    }

    /// Whether to encrypt to and show messages of this device as trusted,
    /// by BTBV. A device whose key is unknown is not trusted.
    pub fn trusted(&self, v: Version, jid: &str, device_id: u32) -> Result<bool> {
        let devices = self.devices(v, jid)?;
        let Some(d) = devices.iter().find(|d| d.device_id == device_id) else {
            return Ok(false);
        };
        if d.identity.is_none() {
            return Ok(false);
        }
        Ok(match d.trust {
            Trust::Verified => true,
            Trust::Distrusted => false,
            Trust::Undecided => !devices.iter().any(|o| o.trust == Trust::Verified),
        })
    }

    /// Whether the user turned OMEMO on or off for a conversation (None:
    /// never said).
    pub fn encryption(&self, conversation: &str) -> Result<Option<bool>> {
        Ok(self
            .conn
            .query_row(
                "SELECT enabled FROM omemo_conversations WHERE account = ?1 AND conversation = ?2",
                params![self.account, conversation],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_encryption(&mut self, conversation: &str, enabled: bool) -> Result<()> {
        self.conn.execute(
            "INSERT INTO omemo_conversations (account, conversation, enabled) VALUES (?1, ?2, ?3)
             ON CONFLICT (account, conversation) DO UPDATE SET enabled = excluded.enabled",
            params![self.account, conversation, enabled],
        )?;
        Ok(())
    }
}

/// Keeps at most [`MAX_DEVICES_PER_JID`] devices of `jid`: inactive ones
/// beyond go, least recently seen first.
fn prune(conn: &Connection, account: &str, v: Version, jid: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM omemo_devices WHERE rowid IN (
             SELECT rowid FROM omemo_devices
             WHERE account = ?1 AND version = ?2 AND jid = ?3 AND active = 0
             ORDER BY last_seen_ms DESC, rowid DESC
             LIMIT -1 OFFSET max(0, ?4 - (SELECT count(*) FROM omemo_devices
                 WHERE account = ?1 AND version = ?2 AND jid = ?3 AND active = 1)))",
        params![account, version_key(v), jid, MAX_DEVICES_PER_JID as i64],
    )?;
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("keys and sessions serialize")
}

/// A device id: random, 1 ..= 2^31 - 1 (what Conversations picks from).
fn random_device_id() -> u32 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the operating system's random generator failed");
    (u32::from_le_bytes(b) & 0x7fff_ffff).max(1)
}

/// Creates `path` with mode 0600, or puts an existing file back to it.
fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests;
