//! Unpacks a repository tarball safely: regular files and folders only, no absolute paths, no
//! `..`, no links, no devices; caps on bytes, files and depth. Errors are written for students.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::sandbox::workdir::{MAX_SUBMISSION_BYTES, MAX_SUBMISSION_DEPTH, MAX_SUBMISSION_FILES};

/// Unpacks `tar_gz` into `dest`, dropping GitHub's top-level `<owner>-<repo>-<sha>/` folder.
pub fn unpack(tar_gz: &[u8], dest: &Path) -> Result<(), String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tar_gz));
    let entries = archive
        .entries()
        .map_err(|_| "the repository archive could not be read".to_string())?;
    let (mut files, mut bytes) = (0usize, 0u64);
    for entry in entries {
        let mut entry = entry.map_err(|_| "the repository archive is damaged".to_string())?;
        let kind = entry.header().entry_type();
        let raw = entry
            .path()
            .map_err(|_| "an archive entry has an unreadable name".to_string())?
            .into_owned();
        let mut parts = raw.components();
        // GitHub's tarballs put everything under one top-level folder.
        parts.next();
        let mut rel = PathBuf::new();
        for part in parts {
            match part {
                Component::Normal(p) => rel.push(p),
                Component::CurDir => {}
                _ => return Err(format!("the archive entry `{}` leaves its folder", raw.display())),
            }
        }
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() {
            continue;
        }
        if rel.as_os_str().is_empty() {
            continue;
        }
        if rel.components().count() > MAX_SUBMISSION_DEPTH {
            return Err(format!(
                "your repository nests folders more than {MAX_SUBMISSION_DEPTH} deep"
            ));
        }
        let target = dest.join(&rel);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| format!("unpacking: {e}"))?;
            continue;
        }
        if kind.is_symlink() || kind.is_hard_link() {
            // Links are left out: nothing in a submission may point elsewhere.
            continue;
        }
        if !kind.is_file() {
            return Err(format!("the archive entry `{}` is not a regular file", raw.display()));
        }
        files += 1;
        bytes += entry.header().size().unwrap_or(u64::MAX);
        if files > MAX_SUBMISSION_FILES {
            return Err(format!("your repository holds more than {MAX_SUBMISSION_FILES} files"));
        }
        if bytes > MAX_SUBMISSION_BYTES {
            return Err(format!(
                "your repository is larger than {} MiB unpacked",
                MAX_SUBMISSION_BYTES >> 20
            ));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("unpacking: {e}"))?;
        }
        if std::fs::symlink_metadata(&target).is_ok() {
            return Err(format!("the archive holds `{}` twice", rel.display()));
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| format!("unpacking: {e}"))?;
        let mut limited = (&mut entry).take(MAX_SUBMISSION_BYTES + 1);
        std::io::copy(&mut limited, &mut out).map_err(|_| "the repository archive is damaged".to_string())?;
    }
    Ok(())
}
