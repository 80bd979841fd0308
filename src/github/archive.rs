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
        if raw
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(format!("the archive entry `{}` leaves its folder", raw.display()));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar.gz whose entries are written byte for byte (the tar crate refuses to build `..`).
    fn archive(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut header = tar::Header::new_old();
            let raw = &mut header.as_old_mut().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            if !link.is_empty() {
                header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    const FILE: tar::EntryType = tar::EntryType::Regular;

    #[test]
    fn a_plain_repository_unpacks_without_its_top_folder() {
        let dir = tempfile::tempdir().unwrap();
        let a = archive(&[
            ("o-r-abc/zboson.py", FILE, b"x = 1\n", ""),
            ("o-r-abc/data/a.csv", FILE, b"1\n", ""),
        ]);
        unpack(&a, dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("zboson.py")).unwrap(),
            "x = 1\n"
        );
        assert!(dir.path().join("data/a.csv").is_file());
    }

    #[test]
    fn escapes_links_devices_and_duplicates_are_refused_or_left_out() {
        let outside = tempfile::tempdir().unwrap();
        let dir = outside.path().join("dest");
        std::fs::create_dir(&dir).unwrap();
        for entries in [
            vec![("o-r-abc/../../evil", FILE, &b"x"[..], "")],
            vec![("/abs/evil", FILE, &b"x"[..], "")],
            vec![("o-r-abc/dev", tar::EntryType::Char, &b""[..], "")],
            vec![("o-r-abc/a", FILE, &b"1"[..], ""), ("o-r-abc/a", FILE, &b"2"[..], "")],
        ] {
            assert!(unpack(&archive(&entries), &dir).is_err(), "{:?}", entries[0].0);
        }
        assert!(!outside.path().join("evil").exists());
        // A link, and then a file written "through" it: the link is left out, so the file
        // lands in a real folder inside the destination.
        let fresh = tempfile::tempdir().unwrap();
        let a = archive(&[
            ("o-r-abc/link", tar::EntryType::Symlink, b"", "/etc"),
            ("o-r-abc/link/passwd", FILE, b"mine", ""),
        ]);
        unpack(&a, fresh.path()).unwrap();
        let meta = std::fs::symlink_metadata(fresh.path().join("link")).unwrap();
        assert!(meta.is_dir() && !meta.file_type().is_symlink());
        assert_eq!(
            std::fs::read_to_string(fresh.path().join("link/passwd")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn archive_bombs_stop_at_the_caps() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![0u8; (MAX_SUBMISSION_BYTES + 1) as usize];
        let err = unpack(&archive(&[("o-r-abc/zeros", FILE, &big, "")]), dir.path()).unwrap_err();
        assert!(err.contains("larger than 50 MiB"), "{err}");
        let deep = format!("o-r-abc/{}f", "d/".repeat(40));
        let err = unpack(&archive(&[(&deep, FILE, b"x", "")]), dir.path()).unwrap_err();
        assert!(err.contains("deep"), "{err}");
    }
}
