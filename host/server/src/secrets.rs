//! The embedded server's secrets, kept in the data directory (mode 0600): the key that signs
//! access tokens and the credentials that sign upload forms. Made on first start; tokens and
//! forms stay valid across restarts.

use std::io;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
pub struct Secrets {
    /// Base64 of 32 random bytes.
    pub token_key: String,
    pub upload_access_key_id: String,
    pub upload_secret_access_key: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("upload_access_key_id", &self.upload_access_key_id)
            .finish_non_exhaustive()
    }
}

fn random(bytes: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| io::Error::other(format!("the OS random source failed: {e}")))?;
    Ok(buf)
}

impl Secrets {
    pub fn generate() -> io::Result<Self> {
        let key_id: String = random(10)?.iter().map(|b| format!("{b:02X}")).collect();
        Ok(Self {
            token_key: STANDARD.encode(random(32)?),
            upload_access_key_id: format!("VP{key_id}"),
            upload_secret_access_key: STANDARD.encode(random(30)?),
        })
    }

    /// Reads `path`, or creates it with new secrets readable by this user only.
    pub fn load_or_create(path: &Path) -> io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let secrets = Self::generate()?;
                let tmp = path.with_extension("part");
                write_private(&tmp, &serde_json::to_vec_pretty(&secrets)?)?;
                std::fs::rename(&tmp, path)?;
                Ok(secrets)
            }
            Err(e) => Err(e),
        }
    }

    pub fn token_key_bytes(&self) -> io::Result<Vec<u8>> {
        STANDARD
            .decode(&self.token_key)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("token_key: {e}")))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    std::fs::write(path, bytes)
}
