//! Real-browser tests: Debian's Chromium driven by `playwright-core` from
//! `tests/browser` (its `package.json` and lock file; no browser download).
//! [`run_browser_script`] makes sure both are installed, runs one script of
//! `tests/browser` with Node and returns the JSON line it prints last.
//!
//! Chromium is `$CHROMIUM` or `/usr/bin/chromium`; when neither exists it
//! is installed with `apt-get install chromium` (Debian's package; the
//! tests run as root on CI machines), so a fresh machine needs only `cargo
//! test`. Scripts take their launch flags from `tests/browser/launch.mjs`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use super::node::{FileLock, ensure_node_modules, test_dir};

/// The Chromium binary, installed from Debian's packages when missing.
pub fn ensure_chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    ensure_debian_package(&path, "chromium");
    path
}

/// Installs Debian's `package` with `apt-get` unless `binary` exists (one
/// test process at a time; `apt-get update` first when the install fails).
pub fn ensure_debian_package(binary: &Path, package: &str) {
    if binary.exists() {
        return;
    }
    let _lock = FileLock::acquire(&std::env::temp_dir().join("user-service-apt.lock"));
    if binary.exists() {
        return;
    }
    let apt = |args: &[&str]| {
        std::process::Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|status| status.success())
    };
    let install = [
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "-o",
        "DPkg::Lock::Timeout=600",
        package,
    ];
    if !apt(&install) {
        assert!(
            apt(&["update", "-q"]) && apt(&install),
            "{} is missing and `apt-get install {package}` failed: this test needs \
             Debian's {package} package (run as root)",
            binary.display()
        );
    }
    assert!(binary.exists(), "{} is still missing", binary.display());
}

/// Runs `tests/browser/<script>` with `env`, after installing Chromium and
/// the Node modules; the last line it prints on stdout, as JSON.
pub async fn run_browser_script(script: &str, env: &[(&str, String)]) -> Value {
    let chromium = tokio::task::spawn_blocking(|| {
        let chromium = ensure_chromium();
        ensure_node_modules(&test_dir("browser"));
        chromium
    })
    .await
    .expect("browser set-up");
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script)
        .current_dir(test_dir("browser"))
        .env("CHROMIUM", chromium)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("{script} ran for more than 120 s"))
        .unwrap_or_else(|error| panic!("node {script}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .unwrap_or_else(|| panic!("{script} printed no JSON ({:?}): {stdout}", output.status));
    serde_json::from_str(line).unwrap_or_else(|error| panic!("{script}: {error}: {line}"))
}
