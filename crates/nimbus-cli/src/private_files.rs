//! Files only the server can read. The data directory holds the catalog (API secrets in
//! plain text, in the database file and its WAL), private and authenticated originals, and
//! staged uploads: other local users of the machine must not read any of it, whatever the
//! umask of the shell that started Nimbus.
//!
//! The process's umask becomes `077` before the catalog or any blob is opened, so every file
//! Nimbus creates (SQLite's WAL and shared-memory files, blobs, staged parts) is `0600` and
//! every directory `0700`. What an earlier version left with wider modes is narrowed at start:
//! the data directory itself (which closes everything below it), its direct subdirectories and
//! the SQLite catalog's files.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::Path;

/// Mode bits masked from every file and directory Nimbus creates.
const UMASK: u32 = 0o077;
pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Sets the umask, then creates (or narrows) `data_dir` and what is already in it.
pub fn restrict(data_dir: &Path) -> io::Result<()> {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(UMASK));
    fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(data_dir)?;
    narrow(data_dir, DIR_MODE)?;
    for entry in fs::read_dir(data_dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            narrow(&entry.path(), DIR_MODE)?;
        } else if kind.is_file() {
            narrow(&entry.path(), FILE_MODE)?;
        }
    }
    Ok(())
}

/// Removes group and other bits beyond `max` (never widens).
fn narrow(path: &Path, max: u32) -> io::Result<()> {
    let mode = fs::metadata(path)?.permissions().mode() & 0o7777;
    if mode & !max != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(mode & max))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    // nextest runs each test in a process of its own, so the umask set here stays here.
    #[test]
    fn files_created_after_are_private_and_old_ones_narrowed() {
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
        let tmp = std::env::temp_dir().join(format!("nimbus-private-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        let data = tmp.join("data");
        fs::create_dir_all(data.join("blobs")).unwrap();
        fs::write(data.join("catalog.db-wal"), b"secrets").unwrap();
        assert_eq!((mode(&data), mode(&data.join("catalog.db-wal"))), (0o755, 0o644));

        restrict(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("blobs")), 0o700);
        assert_eq!(mode(&data.join("catalog.db-wal")), 0o600);
        fs::write(data.join("blobs/new"), b"x").unwrap();
        fs::create_dir(data.join("staging")).unwrap();
        assert_eq!((mode(&data.join("blobs/new")), mode(&data.join("staging"))), (0o600, 0o700));
        fs::remove_dir_all(&tmp).unwrap();
    }
}
