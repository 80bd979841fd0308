//! Per-run folders on the host: a copy of the submission, the test's inputs, a scratch folder,
//! the scratch quota watcher, and reading back what the run wrote as untrusted data.

use anyhow::{Context, Result};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Every file or folder counts at least this much against the scratch quota, so a flood of
/// empty files is bounded too.
const ENTRY_COST: u64 = 512;

/// The folders of one run. Dropping it removes them.
pub struct RunDir {
    root: tempfile::TempDir,
    /// Bytes present before the run in the writable folders (the submission copy).
    baseline: u64,
}

impl RunDir {
    /// Makes the folders: `submission/` (a copy), `inputs/` (copies), `scratch/` (empty).
    pub fn create(base: &Path, submission: &Path, inputs: &[(String, PathBuf)]) -> Result<RunDir> {
        let root = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(base)
            .context("creating a run folder")?;
        let sub = root.path().join("submission");
        copy_tree(submission, &sub, 0).with_context(|| format!("copying {}", submission.display()))?;
        let inp = root.path().join("inputs");
        std::fs::create_dir(&inp)?;
        for (name, host) in inputs {
            std::fs::copy(host, inp.join(name)).with_context(|| format!("copying input {}", host.display()))?;
        }
        std::fs::create_dir(root.path().join("scratch"))?;
        let baseline = usage(&sub);
        Ok(RunDir { root, baseline })
    }

    pub fn submission(&self) -> PathBuf {
        self.root.path().join("submission")
    }
    pub fn inputs(&self) -> PathBuf {
        self.root.path().join("inputs")
    }
    pub fn scratch(&self) -> PathBuf {
        self.root.path().join("scratch")
    }

    /// Bytes the run has added to its writable folders.
    pub fn written(&self) -> u64 {
        (usage(&self.submission()) + usage(&self.scratch())).saturating_sub(self.baseline)
    }

    /// Starts a watcher that raises `flag` once the run has written more than `limit` bytes.
    /// The sandbox checks the flag at every epoch tick and stops the guest.
    pub fn watch_quota(&self, limit: u64, flag: Arc<AtomicBool>, done: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        let sub = self.submission();
        let scratch = self.scratch();
        let baseline = self.baseline;
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if (usage(&sub) + usage(&scratch)).saturating_sub(baseline) > limit {
                    flag.store(true, Ordering::Relaxed);
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    }

    /// Reads a file the run wrote, given its guest path, as untrusted data: no links are
    /// followed at any step, only regular files are read, and at most `cap` bytes.
    pub fn read_output(&self, guest_path: &str, cap: u64) -> Result<Vec<u8>, String> {
        let (base, rest) = if let Some(rest) = guest_path.strip_prefix("/scratch/") {
            (self.scratch(), rest)
        } else if let Some(rest) = guest_path.strip_prefix("/submission/") {
            (self.submission(), rest)
        } else if !guest_path.starts_with('/') {
            (self.submission(), guest_path)
        } else {
            return Err(format!("{guest_path} is outside the run's folders"));
        };
        let mut host = base;
        for part in Path::new(rest).components() {
            match part {
                Component::Normal(p) => host.push(p),
                _ => return Err(format!("{guest_path} is not a plain path")),
            }
            match std::fs::symlink_metadata(&host) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(format!("{guest_path} is a link; write a regular file"));
                }
                Ok(_) => {}
                Err(_) => return Err(format!("your program did not write {guest_path}")),
            }
        }
        let meta = std::fs::symlink_metadata(&host).map_err(|_| format!("your program did not write {guest_path}"))?;
        if !meta.file_type().is_file() {
            return Err(format!("{guest_path} is not a regular file"));
        }
        if meta.len() > cap {
            return Err(format!("{guest_path} is larger than the {cap}-byte limit"));
        }
        let file = open_nofollow(&host).map_err(|_| format!("{guest_path} could not be read"))?;
        let mut buf = Vec::new();
        file.take(cap + 1)
            .read_to_end(&mut buf)
            .map_err(|_| format!("{guest_path} could not be read"))?;
        if buf.len() as u64 > cap {
            return Err(format!("{guest_path} is larger than the {cap}-byte limit"));
        }
        Ok(buf)
    }
}

#[cfg(unix)]
fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_o_nofollow())
        .open(path)
}

#[cfg(unix)]
fn libc_o_nofollow() -> i32 {
    // O_NOFOLLOW on Linux (x86_64 and aarch64 share the value).
    0o400000
}

#[cfg(not(unix))]
fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Disk use of a folder: file lengths plus a fixed cost per entry. Links are not followed.
fn usage(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            total += ENTRY_COST;
            if let Ok(m) = entry.metadata() {
                if m.is_dir() {
                    stack.push(entry.path());
                } else {
                    total += m.len();
                }
            }
        }
    }
    total
}

/// Copies regular files and folders; links, devices and `.git` are left out.
fn copy_tree(from: &Path, to: &Path, depth: usize) -> Result<()> {
    if depth > 32 {
        anyhow::bail!("the submission is nested more than 32 folders deep");
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name), depth + 1)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}
