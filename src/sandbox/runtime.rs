//! Set-up of the Python runtime: fetches the pinned componentize-py wheel from PyPI, checks its
//! SHA-256, and builds our harness into a pre-initialised CPython component, once per machine.
//!
//! Only the project's own artefacts come out of here; nothing a student supplies is ever built
//! or deserialized by this module.

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Set-up tools talk on our standard error: standard output carries the report.
fn to_stderr() -> Stdio {
    use std::os::fd::AsFd;
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => Stdio::from(fd),
        Err(_) => Stdio::null(),
    }
}

pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";
const WHEEL_FILE: &str = "componentize_py-0.25.1-cp39-abi3-manylinux_2_28_x86_64.whl";
const WHEEL_SHA256: &str = "8623cd8cab8453cb0cd8bf03f3c7103420d06f2f3d360186a280a70a1ca5e89f";
pub const HARNESS_PY: &str = include_str!("../../sandbox/python/harness/grader_harness.py");
pub const HARNESS_WIT: &str = include_str!("../../sandbox/python/wit/harness.wit");

/// Identifies a harness build: changes whenever the harness, its interface or the tool changes.
pub fn build_id() -> String {
    let mut h = Sha256::new();
    h.update(COMPONENTIZE_PY_VERSION);
    h.update([0]);
    h.update(HARNESS_PY);
    h.update([0]);
    h.update(HARNESS_WIT);
    hex::encode(&h.finalize()[..8])
}

/// Where runtimes and compiled artefacts live: `$AUTOGRADER_HOME`, else
/// `$XDG_CACHE_HOME/autograder`, else `~/.cache/autograder`.
pub fn home() -> PathBuf {
    if let Some(dir) = std::env::var_os("AUTOGRADER_HOME") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("autograder");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("autograder"),
        None => std::env::temp_dir().join("autograder"),
    }
}

/// The harness component for this build, building it first when it is missing.
pub fn ensure_component() -> Result<PathBuf> {
    let dir = home().join("python");
    let target = dir.join(format!("harness-{}.wasm", build_id()));
    if target.is_file() {
        return Ok(target);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // One builder at a time: tests and graders may start together on a fresh machine.
    let lock = std::fs::File::create(dir.join(".setup.lock"))?;
    lock.lock().context("locking the runtime set-up")?;
    if target.is_file() {
        return Ok(target);
    }
    eprintln!(
        "autograder: setting up the Python runtime (once): componentize-py {COMPONENTIZE_PY_VERSION} from PyPI -> {}",
        target.display()
    );
    let tool = install_componentize_py(&dir)?;
    let work = tempfile::tempdir_in(&dir)?;
    let wit = work.path().join("wit");
    let app = work.path().join("app");
    std::fs::create_dir_all(&wit)?;
    std::fs::create_dir_all(&app)?;
    std::fs::write(wit.join("harness.wit"), HARNESS_WIT)?;
    std::fs::write(app.join("grader_harness.py"), HARNESS_PY)?;
    let out = work.path().join("harness.wasm");
    let status = Command::new(&tool)
        .arg("-d")
        .arg(&wit)
        .args(["-w", "harness", "componentize", "-p"])
        .arg(&app)
        .arg("grader_harness")
        .arg("-o")
        .arg(&out)
        .env_remove("VIRTUAL_ENV")
        .current_dir(work.path())
        .stdout(to_stderr())
        .status()
        .with_context(|| format!("running {}", tool.display()))?;
    if !status.success() {
        bail!("componentize-py failed ({status}) building the Python harness");
    }
    std::fs::rename(&out, &target)?;
    Ok(target)
}

fn install_componentize_py(dir: &Path) -> Result<PathBuf> {
    let venv = dir.join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}"));
    let tool = venv.join("bin").join("componentize-py");
    if tool.is_file() {
        return Ok(tool);
    }
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        bail!(
            "the pinned componentize-py wheel is for x86_64 Linux; build the harness there and copy {}",
            dir.display()
        );
    }
    let python = std::env::var("AUTOGRADER_PYTHON").unwrap_or_else(|_| "python3".into());
    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads)?;
    let wheel = downloads.join(WHEEL_FILE);
    if !wheel.is_file() {
        let status = Command::new(&python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
            ])
            .args(["--platform", "manylinux_2_28_x86_64", "-d"])
            .arg(&downloads)
            .arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}"))
            .stdout(to_stderr())
            .status()
            .with_context(|| format!("running `{python} -m pip download` (is Python 3 with pip installed?)"))?;
        if !status.success() || !wheel.is_file() {
            bail!("pip could not download {WHEEL_FILE} from PyPI");
        }
    }
    let sum = hex::encode(Sha256::digest(std::fs::read(&wheel)?));
    if sum != WHEEL_SHA256 {
        std::fs::remove_file(&wheel).ok();
        bail!("{WHEEL_FILE} has SHA-256 {sum}, expected {WHEEL_SHA256}; removed it, refusing to use it");
    }
    let status = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .stdout(to_stderr())
        .status()?;
    if !status.success() {
        bail!("`{python} -m venv` failed; install Python's venv module");
    }
    let status = Command::new(venv.join("bin").join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
        ])
        .arg(&wheel)
        .stdout(to_stderr())
        .status()?;
    if !status.success() || !tool.is_file() {
        bail!("installing {WHEEL_FILE} into {} failed", venv.display());
    }
    Ok(tool)
}
