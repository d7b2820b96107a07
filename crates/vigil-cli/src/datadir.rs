//! The data directory: where a Vigil installation keeps its signing key and,
//! by default, its SQLite database.
//!
//! ```text
//! DIR/log-key.secret   Ed25519 secret key of the log (base64)
//! DIR/log-key.pub      the public key to hand to anyone who checks receipts
//! DIR/vigil.sqlite     the database, unless --database / VIGIL_DATABASE_URL names another
//!                      (with SQLite's -wal and -shm files beside it)
//! DIR/tree-head.json   the latest signed tree head, kept outside the database
//! DIR/front-door.json  optional: the out-of-hours service the referral form
//!                      and receipt show ({"out_of_hours": {"name", "phone"}})
//! ```
//!
//! The directory holds children's records and the log's signing key, so it
//! is private to the account Vigil runs as: the directory mode 0700, every
//! file 0600. `vigil init` makes it so (the process umask is 0077 from the
//! start, see `main`, so files SQLite creates later are private too), and
//! `vigil serve` warns when someone has widened it.

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use std::fs;
use std::path::{Path, PathBuf};
use vigil_ledger::{LogKey, LogSigner};
use vigil_store::head_file::TreeHeadFile;
use vigil_store::{DatabaseUrl, Store};

pub const SECRET_KEY_FILE: &str = "log-key.secret";
pub const PUBLIC_KEY_FILE: &str = "log-key.pub";
pub const DEFAULT_DB_FILE: &str = "vigil.sqlite";
pub const FRONT_DOOR_FILE: &str = "front-door.json";

pub struct DataDir {
    pub path: PathBuf,
}

impl DataDir {
    pub fn new(path: &Path) -> Self {
        DataDir {
            path: path.to_owned(),
        }
    }

    pub fn public_key_path(&self) -> PathBuf {
        self.path.join(PUBLIC_KEY_FILE)
    }

    /// Where the latest signed tree head is kept outside the database.
    pub fn tree_head_file(&self) -> TreeHeadFile {
        TreeHeadFile::in_dir(&self.path)
    }

    /// The database to use: the explicit URL if given, else the SQLite file in the directory.
    pub fn database_url(&self, explicit: Option<&str>) -> Result<DatabaseUrl> {
        match explicit {
            Some(u) => Ok(DatabaseUrl::parse(u)?),
            None => Ok(DatabaseUrl::Sqlite(self.path.join(DEFAULT_DB_FILE))),
        }
    }

    /// Creates the directory, a new signing key and the database.
    pub fn init(&self, database: Option<&str>) -> Result<(LogKey, DatabaseUrl)> {
        if self.path.join(SECRET_KEY_FILE).exists() {
            bail!(
                "{} is already a Vigil data directory (it has a signing key); choose another directory",
                self.path.display()
            );
        }
        fs::create_dir_all(&self.path)
            .with_context(|| format!("cannot create the data directory {}", self.path.display()))?;
        let signer = LogSigner::generate();
        write_secret(&self.path.join(SECRET_KEY_FILE), &signer)?;
        let key = signer.public_key();
        fs::write(self.public_key_path(), key.to_text())
            .with_context(|| format!("cannot write {}", self.public_key_path().display()))?;
        let url = self.database_url(database)?;
        drop(vigil_store::open_with_head_file(
            &url,
            signer,
            self.tree_head_file(),
        )?);
        self.make_private()?;
        Ok((key, url))
    }

    /// Mode 0700 for the directory and 0600 for every file in it, whatever
    /// the umask was when they were made.
    #[cfg(unix)]
    fn make_private(&self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let set = |p: &Path, mode: u32| {
            fs::set_permissions(p, fs::Permissions::from_mode(mode))
                .with_context(|| format!("cannot make {} private", p.display()))
        };
        set(&self.path, 0o700)?;
        for entry in fs::read_dir(&self.path)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                set(&entry.path(), 0o600)?;
            }
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn make_private(&self) -> Result<()> {
        Ok(())
    }

    /// One sentence for the directory and for each file in it that other
    /// users of this machine may read or change.
    #[cfg(unix)]
    pub fn permission_warnings(&self) -> Vec<String> {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| fs::metadata(p).ok().map(|m| m.permissions().mode() & 0o777);
        let mut out = Vec::new();
        if let Some(m) = mode(&self.path).filter(|m| m & 0o077 != 0) {
            out.push(format!(
                "the data directory {} is open to other users of this machine (mode {m:04o}); run `chmod 700 {}`",
                self.path.display(),
                self.path.display()
            ));
        }
        let mut wide: Vec<(String, u32)> = fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| Some((e.path(), mode(&e.path())?)))
            .filter(|(_, m)| m & 0o077 != 0)
            .map(|(p, m)| (p.display().to_string(), m))
            .collect();
        wide.sort();
        for (p, m) in wide {
            out.push(format!(
                "{p} can be read by other users of this machine (mode {m:04o}); run `chmod 600 {p}`"
            ));
        }
        out
    }

    #[cfg(not(unix))]
    pub fn permission_warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// The out-of-hours service from `front-door.json`, or the synthetic
    /// default when there is no such file; a file that cannot be read or
    /// says something else is an error, in one sentence.
    pub fn out_of_hours(&self) -> Result<vigil_web::OutOfHours> {
        let p = self.path.join(FRONT_DOOR_FILE);
        match fs::read_to_string(&p) {
            Ok(text) => vigil_web::OutOfHours::from_json(&text)
                .map_err(|e| anyhow!("{} cannot be used: {e}", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(vigil_web::OutOfHours::default())
            }
            Err(e) => bail!("cannot read {}: {e}", p.display()),
        }
    }

    /// Reads the signing key.
    pub fn signer(&self) -> Result<LogSigner> {
        let p = self.path.join(SECRET_KEY_FILE);
        if !self.path.is_dir() {
            bail!(
                "there is no data directory at {}; create one with `vigil --data {} init`",
                self.path.display(),
                self.path.display()
            );
        }
        let text = fs::read_to_string(&p).map_err(|_| {
            anyhow!(
                "{} is not a Vigil data directory (no {SECRET_KEY_FILE}); create one with `vigil --data DIR init`",
                self.path.display()
            )
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| anyhow!("the signing key {} is damaged", p.display()))?;
        Ok(LogSigner::from_secret_bytes(&bytes))
    }

    /// Opens the store with the directory's key.
    pub fn open(&self, database: Option<&str>) -> Result<Box<dyn Store>> {
        let signer = self.signer()?;
        let url = self.database_url(database)?;
        if let DatabaseUrl::Sqlite(p) = &url {
            if !p.exists() {
                bail!(
                    "the database {} does not exist; was the data directory initialised?",
                    p.display()
                );
            }
        }
        Ok(vigil_store::open_with_head_file(
            &url,
            signer,
            self.tree_head_file(),
        )?)
    }
}

/// Makes every file this process creates private to its owner (0600 files,
/// 0700 directories), including those SQLite makes later (the -wal and -shm
/// files). Called first thing in `main`.
pub fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file mode creation mask; it
    // cannot fail and touches no memory.
    unsafe {
        libc::umask(0o077);
    }
}

fn write_secret(path: &Path, signer: &LogSigner) -> Result<()> {
    let text = base64::engine::general_purpose::STANDARD.encode(signer.secret_bytes()) + "\n";
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    #[cfg(not(unix))]
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Reads a public key from a file (or, if no such file, from the argument itself).
pub fn read_public_key(arg: &str) -> Result<LogKey> {
    let text = match fs::read_to_string(arg) {
        Ok(t) => t,
        Err(_) if !Path::new(arg).exists() => arg.to_owned(),
        Err(e) => bail!("cannot read the key file {arg}: {e}"),
    };
    LogKey::from_text(&text).map_err(|e| anyhow!("{arg} does not hold a Vigil log public key: {e}"))
}
