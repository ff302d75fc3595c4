//! The copy itself: `VACUUM INTO` a new private file, then the checks of `backup verify`.

use std::io::Read;
use std::path::Path;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest, Sha256};

use super::verify::verify_file;
use crate::db::create_private_file;

/// Size in bytes and SHA-256 (hex) of a verified copy.
pub(super) type Copied = (u64, String);

/// Copies `db` into `output` and verifies the copy; the error says what failed, in words an
/// operator can act on.
///
/// `VACUUM INTO` reads one snapshot of the database in a read transaction: on a WAL database
/// it takes no write lock, so writers carry on during the copy-out and the copy holds each
/// transaction wholly or not at all. It runs on a pooled connection, never on the writer
/// connection. The file is created empty with mode 0600 before SQLite writes into it, so it is
/// never readable by others; a file that already exists is never touched.
pub(super) async fn copy_verified(
    db: &DatabaseConnection,
    output: &Path,
) -> Result<Copied, String> {
    if output.exists() {
        return Err(format!(
            "{} already exists; choose a new file",
            output.display()
        ));
    }
    if let Some(dir) = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        return Err(format!("directory {} does not exist", dir.display()));
    }
    create_private_file(output).map_err(|e| format!("cannot create {}: {e}", output.display()))?;
    let copied = copy_and_check(db, output).await;
    if copied.is_err() {
        // The file is ours (created above): a copy that failed must not pass for a backup.
        let _ = std::fs::remove_file(output);
    }
    copied
}

async fn copy_and_check(db: &DatabaseConnection, output: &Path) -> Result<Copied, String> {
    let target = output.to_string_lossy().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{target}'"))
        .await
        .map_err(|e| format!("the copy failed: {e}"))?;
    let report = verify_file(output).await;
    if !report.ok {
        return Err(format!(
            "the copy failed verification: {}",
            report.findings.join("; ")
        ));
    }
    let path = output.to_path_buf();
    tokio::task::spawn_blocking(move || digest(&path))
        .await
        .map_err(|e| format!("hashing the copy failed: {e}"))?
        .map_err(|e| format!("cannot read the copy back: {e}"))
}

/// The file's size and SHA-256, read in chunks.
fn digest(path: &Path) -> std::io::Result<Copied> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((size, hex::encode(hasher.finalize())))
}
