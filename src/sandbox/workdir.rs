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

/// Stops the quota watcher when dropped and waits for it.
pub struct QuotaWatch {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for QuotaWatch {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

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
        copy_tree(submission, &sub, &[".git"]).with_context(|| format!("copying {}", submission.display()))?;
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

    /// Bytes the run has added to its writable folders. Deleting files that came with the
    /// submission earns no credit in `/scratch`.
    pub fn written(&self) -> u64 {
        written(&self.submission(), &self.scratch(), self.baseline)
    }

    /// Starts a watcher that raises `flag` once the run has written more than `limit` bytes.
    /// The sandbox checks the flag at every epoch tick and stops the guest. Dropping the
    /// returned guard stops the watcher at once.
    pub fn watch_quota(&self, limit: u64, flag: Arc<AtomicBool>) -> QuotaWatch {
        let sub = self.submission();
        let scratch = self.scratch();
        let baseline = self.baseline;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            loop {
                if written(&sub, &scratch, baseline) > limit {
                    flag.store(true, Ordering::Relaxed);
                    return;
                }
                // Wakes early, with Disconnected, when the guard is dropped.
                match stopped.recv_timeout(Duration::from_millis(5)) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => return,
                }
            }
        });
        QuotaWatch {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Reads a file the run wrote, given its guest path, as untrusted data: no links are
    /// followed at any step, only regular files are read, and at most `cap` bytes.
    pub fn read_output(&self, guest_path: &str, cap: u64) -> Result<Vec<u8>, String> {
        self.read_back(guest_path, cap).map_err(|e| e.message(guest_path, cap))
    }

    fn read_back(&self, guest_path: &str, cap: u64) -> Result<Vec<u8>, ReadBackError> {
        let (base, rest) = if let Some(rest) = guest_path.strip_prefix("/scratch/") {
            (self.scratch(), rest)
        } else if let Some(rest) = guest_path.strip_prefix("/submission/") {
            (self.submission(), rest)
        } else if !guest_path.starts_with('/') {
            (self.submission(), guest_path)
        } else {
            return Err(ReadBackError::Outside);
        };
        let mut host = base;
        for part in Path::new(rest).components() {
            match part {
                Component::Normal(p) => host.push(p),
                _ => return Err(ReadBackError::NotPlain),
            }
            match std::fs::symlink_metadata(&host) {
                Ok(m) if m.file_type().is_symlink() => return Err(ReadBackError::Link),
                Ok(_) => {}
                Err(_) => return Err(ReadBackError::Missing),
            }
        }
        let meta = std::fs::symlink_metadata(&host).map_err(|_| ReadBackError::Missing)?;
        if !meta.file_type().is_file() {
            return Err(ReadBackError::NotFile);
        }
        if meta.len() > cap {
            return Err(ReadBackError::TooLarge);
        }
        let file = open_nofollow(&host).map_err(|_| ReadBackError::Unreadable)?;
        let mut buf = Vec::new();
        file.take(cap + 1)
            .read_to_end(&mut buf)
            .map_err(|_| ReadBackError::Unreadable)?;
        if buf.len() as u64 > cap {
            return Err(ReadBackError::TooLarge);
        }
        Ok(buf)
    }
}

/// Why a file the run should have written could not be read back. Both backends report these
/// (the container's supervisor by code), so students read the same message from either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBackError {
    Outside,
    NotPlain,
    Link,
    Missing,
    NotFile,
    TooLarge,
    Unreadable,
}

impl ReadBackError {
    /// The code the container supervisor (`sandbox/container/boot.py`) sends.
    pub fn from_code(code: &str) -> Option<ReadBackError> {
        Some(match code {
            "outside" => ReadBackError::Outside,
            "not_plain" => ReadBackError::NotPlain,
            "link" => ReadBackError::Link,
            "missing" => ReadBackError::Missing,
            "not_file" => ReadBackError::NotFile,
            "too_large" => ReadBackError::TooLarge,
            "unreadable" => ReadBackError::Unreadable,
            _ => return None,
        })
    }

    /// The message for the student.
    pub fn message(self, guest_path: &str, cap: u64) -> String {
        match self {
            ReadBackError::Outside => format!("{guest_path} is outside the run's folders"),
            ReadBackError::NotPlain => format!("{guest_path} is not a plain path"),
            ReadBackError::Link => format!("{guest_path} is a link; write a regular file"),
            ReadBackError::Missing => format!("your program did not write {guest_path}"),
            ReadBackError::NotFile => format!("{guest_path} is not a regular file"),
            ReadBackError::TooLarge => format!("{guest_path} is larger than the {cap}-byte limit"),
            ReadBackError::Unreadable => format!("{guest_path} could not be read"),
        }
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

fn written(submission: &Path, scratch: &Path, baseline: u64) -> u64 {
    usage(submission)
        .saturating_sub(baseline)
        .saturating_add(usage(scratch))
}

/// Disk use of a folder: file lengths plus a fixed cost per entry. Walks with directory
/// handles (no host path grows with the tree, so depth cannot hide files behind a too-long
/// path), never follows links, and counts anything it cannot read or a tree deeper than
/// `MAX_WALK_DEPTH` as over any quota.
fn usage(dir: &Path) -> u64 {
    use cap_std::ambient_authority;
    use cap_std::fs::Dir;
    fn walk(dir: &Dir, depth: usize) -> Option<u64> {
        if depth > MAX_WALK_DEPTH {
            return None;
        }
        let mut total = 0u64;
        for entry in dir.entries().ok()? {
            let entry = entry.ok()?;
            total = total.saturating_add(ENTRY_COST);
            let kind = entry.file_type().ok()?;
            if kind.is_dir() {
                let sub = entry.open_dir().ok()?;
                total = total.saturating_add(walk(&sub, depth + 1)?);
            } else {
                total = total.saturating_add(entry.metadata().ok()?.len());
            }
        }
        Some(total)
    }
    match Dir::open_ambient_dir(dir, ambient_authority()) {
        Ok(d) => walk(&d, 0).unwrap_or(u64::MAX),
        Err(_) => u64::MAX,
    }
}

/// Deeper trees than this count as over quota.
const MAX_WALK_DEPTH: usize = 64;

/// Caps on what a submission may hold, checked once before any run.
pub const MAX_SUBMISSION_BYTES: u64 = 50 << 20;
pub const MAX_SUBMISSION_FILES: usize = 10_000;
pub const MAX_SUBMISSION_DEPTH: usize = 32;

/// Checks a submission folder against the caps; the message is written for the student.
pub fn check_submission(dir: &Path) -> Result<(), String> {
    fn walk(dir: &Path, depth: usize, files: &mut usize, bytes: &mut u64) -> Result<(), String> {
        if depth > MAX_SUBMISSION_DEPTH {
            return Err(format!(
                "your submission nests folders more than {MAX_SUBMISSION_DEPTH} deep; flatten it"
            ));
        }
        let entries =
            std::fs::read_dir(dir).map_err(|_| "a folder of your submission could not be read".to_string())?;
        for entry in entries {
            let entry = entry.map_err(|_| "a folder of your submission could not be read".to_string())?;
            let kind = entry
                .file_type()
                .map_err(|_| "a file of your submission could not be read".to_string())?;
            if entry.file_name() == ".git" {
                continue;
            }
            *files += 1;
            if *files > MAX_SUBMISSION_FILES {
                return Err(format!(
                    "your submission holds more than {MAX_SUBMISSION_FILES} files; remove generated files"
                ));
            }
            if kind.is_dir() {
                walk(&entry.path(), depth + 1, files, bytes)?;
            } else if kind.is_file() {
                *bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
                if *bytes > MAX_SUBMISSION_BYTES {
                    return Err(format!(
                        "your submission is larger than {} MiB; remove data files and outputs",
                        MAX_SUBMISSION_BYTES >> 20
                    ));
                }
            }
        }
        Ok(())
    }
    let (mut files, mut bytes) = (0, 0);
    walk(dir, 0, &mut files, &mut bytes)
}

/// Copies regular files and folders, leaving out links, devices and entries named in `skip`
/// (at any depth). Used for per-run submission copies and for spec snapshots.
pub fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    walk_tree(from, skip, &mut |rel, host, is_dir| {
        if is_dir {
            std::fs::create_dir(to.join(rel))
        } else {
            std::fs::copy(host, to.join(rel)).map(drop)
        }
    })
}

/// Visits the regular files and folders below `from` (folders before their contents), leaving
/// out links, devices and entries named in `skip` (at any depth), at most
/// `MAX_SUBMISSION_DEPTH` deep. `visit` gets the path relative to `from`, the host path and
/// whether it is a folder. What both backends use to take a submission.
pub fn walk_tree(
    from: &Path,
    skip: &[&str],
    visit: &mut dyn FnMut(&Path, &Path, bool) -> std::io::Result<()>,
) -> std::io::Result<()> {
    fn walk(
        dir: &Path,
        rel: &Path,
        skip: &[&str],
        depth: usize,
        visit: &mut dyn FnMut(&Path, &Path, bool) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if depth > MAX_SUBMISSION_DEPTH {
            return Err(std::io::Error::other(format!(
                "nested more than {MAX_SUBMISSION_DEPTH} folders deep"
            )));
        }
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = entry.file_name();
            if skip.iter().any(|s| name == *s) {
                continue;
            }
            let rel = rel.join(&name);
            if kind.is_dir() {
                visit(&rel, &entry.path(), true)?;
                walk(&entry.path(), &rel, skip, depth + 1, visit)?;
            } else if kind.is_file() {
                visit(&rel, &entry.path(), false)?;
            }
        }
        Ok(())
    }
    walk(from, Path::new(""), skip, 0, visit)
}
