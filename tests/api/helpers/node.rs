//! Node.js test tools installed from committed lock files: [`ensure_node_modules`]
//! runs `npm ci` in a test directory (`tests/federation`, `tests/browser`)
//! when its `node_modules` is missing or older than its lock file, one test
//! process at a time ([`FileLock`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// `tests/<name>` in the repository.
pub fn test_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// Runs `npm ci` in `dir` when `node_modules` is missing or older than the
/// lock file. Panics, naming what is missing, without Node.
pub fn ensure_node_modules(dir: &Path) {
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|output| output.status.success()),
        "this test needs Node.js 20+ on PATH (`node` not found: {node:?}); \
         install Node and npm, then re-run `cargo test`"
    );
    if node_modules_fresh(dir) {
        return;
    }
    // Serialise installs between test processes.
    let _lock = FileLock::acquire(&dir.join(".npm-ci.lock"));
    if node_modules_fresh(dir) {
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status();
    assert!(
        status.as_ref().is_ok_and(|status| status.success()),
        "`npm ci` in {} failed ({status:?}): this test needs npm and the npm registry",
        dir.display()
    );
}

/// Whether `node_modules` was installed from the current lock file.
fn node_modules_fresh(dir: &Path) -> bool {
    let modified = |path: PathBuf| std::fs::metadata(path).and_then(|meta| meta.modified());
    match (
        modified(dir.join("node_modules/.package-lock.json")),
        modified(dir.join("package-lock.json")),
    ) {
        (Ok(installed), Ok(locked)) => installed >= locked,
        _ => false,
    }
}

/// A crude cross-process lock: a file created exclusively, removed on drop.
pub struct FileLock(PathBuf);

impl FileLock {
    pub fn acquire(path: &Path) -> Self {
        // A lock left by a killed run is stale after 10 minutes.
        let stale = std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > Duration::from_secs(600)));
        if stale {
            let _ = std::fs::remove_file(path);
        }
        for _ in 0..1200 {
            if std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .is_ok()
            {
                return Self(path.to_owned());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("{} stayed locked for 10 minutes", path.display());
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
