//! Everything the tool writes: standard output (a failed write is an error, a closed pipe is
//! not), files (atomically: a temporary file in the same folder, fsync, rename), and the checks
//! on output paths made before any work.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::model::text::defuse_lines;

/// A write that failed after the work was done.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {what} to standard output: {}", io_words(.source))]
    Stdout {
        what: &'static str,
        source: io::Error,
    },
    #[error("{flag} {}: cannot write it: {}; nothing was replaced", .path.display(), io_words(.source))]
    File {
        flag: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A JSON report larger than `explain` and `fleet` read back: not written (issue 22 row 4).
    #[error("{flag}: the JSON report is {}, more than the {} `explain` and `fleet` read back; it was not written: probe fewer names or ports (--capability, --max-names)", crate::textfile::human_bytes(*.bytes), crate::textfile::human_bytes(crate::textfile::limit::REPORT))]
    TooLargeToReadBack { flag: &'static str, bytes: u64 },
}

/// A JSON report must be one the tool can read back (`explain`, `fleet`): refused, before
/// anything is written, when it is larger than their cap.
pub fn readable_report(flag: &'static str, text: &str) -> Result<(), WriteError> {
    let bytes = text.len() as u64;
    if bytes > crate::textfile::limit::REPORT {
        return Err(WriteError::TooLargeToReadBack { flag, bytes });
    }
    Ok(())
}

/// An I/O error in our words, without Rust's " (os error N)".
pub fn io_words(e: &io::Error) -> String {
    use io::ErrorKind as K;
    match e.kind() {
        K::StorageFull => "no space left on device".into(),
        K::FileTooLarge => "file too large (a file size limit, e.g. ulimit -f)".into(),
        K::QuotaExceeded => "disk quota exceeded".into(),
        K::ReadOnlyFilesystem => "read-only file system".into(),
        K::PermissionDenied => "permission denied".into(),
        K::NotFound => "no such file or folder".into(),
        K::IsADirectory => "it is a directory".into(),
        K::NotADirectory => "a part of the path is not a folder".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// Write `text` to standard output. A reader that went away (`| head`) is not an error. No line
/// of it can start a GitHub Actions workflow command ([`defuse_lines`]): the runner reads them
/// from stdout and stderr, and only [`stdout_commands`] writes ours.
pub fn stdout(what: &'static str, text: &str) -> Result<(), WriteError> {
    stdout_commands(what, &defuse_lines(text))
}

/// [`stdout`] without the guard: for the workflow commands we write ourselves (each escaped
/// by `render::annotations`, one per line).
pub fn stdout_commands(what: &'static str, text: &str) -> Result<(), WriteError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(WriteError::Stdout { what, source: e })
        }
        _ => Ok(()),
    }
}

/// A line on standard error. A closed or full stderr must not turn into a panic. Our messages
/// hold no control character but line feeds and tabs, so any other one came from outside (a
/// path, a variable, a flag's value) and is shown as an escape; no line can start a workflow
/// command.
pub fn say(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{}", stderr_safe(line));
}

fn stderr_safe(text: &str) -> String {
    text.split('\n')
        .map(|l| {
            let kept: String = l
                .split('\t')
                .map(crate::model::text::printable)
                .collect::<Vec<_>>()
                .join("\t");
            defuse_lines(&kept).into_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Write `bytes` to `path` so that a reader sees the old file or the whole new one, never a part:
/// a temporary file in the same folder, fsync, rename. A symbolic link is followed (the file it
/// names is replaced); a device or FIFO (`/dev/stdout`, `/dev/null`) is written in place.
pub fn write_file(flag: &'static str, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let err = |source| WriteError::File {
        flag,
        path: path.to_path_buf(),
        source,
    };
    let existing = fs::metadata(path).ok();
    if let Some(m) = &existing {
        if !m.is_file() {
            let mut f = OpenOptions::new().write(true).open(path).map_err(err)?;
            return f.write_all(bytes).and_then(|()| f.flush()).map_err(err);
        }
    }
    let target = match &existing {
        Some(_) => fs::canonicalize(path).map_err(err)?,
        None => path.to_path_buf(),
    };
    let dir = folder_of(&target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut tmp = temp_builder(&prefix).tempfile_in(dir).map_err(err)?;
    if let Some(m) = &existing {
        // The new file keeps the old one's mode.
        tmp.as_file()
            .set_permissions(m.permissions())
            .map_err(err)?;
    }
    tmp.write_all(bytes)
        .and_then(|()| tmp.flush())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(err)?;
    tmp.persist(&target).map_err(|e| err(e.error))?;
    // Make the rename itself durable; a folder that cannot be opened is no reason to fail.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn temp_builder(prefix: &str) -> tempfile::Builder<'_, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // What `File::create` gives a new file: 0666 less the umask.
        b.permissions(fs::Permissions::from_mode(0o666));
    }
    b
}

/// The folder a file is (or will be) in; `.` for a bare file name.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The path a file has or will have with every symbolic link and `..` resolved: the file itself
/// when it exists, else its folder's canonical path joined with its name.
pub fn identity(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = fs::canonicalize(path) {
        return Some(p);
    }
    let name = path.file_name()?;
    fs::canonicalize(folder_of(path)).ok().map(|d| d.join(name))
}

/// Before any work: every output can be written, no two outputs are one file, and no output is
/// one of the command's input files. `outputs` and `inputs` are `(flag, path)`.
pub fn validate(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<(), InputError> {
    let inputs: Vec<(&str, &Path, PathBuf)> = inputs
        .iter()
        .filter_map(|(f, p)| fs::canonicalize(p).ok().map(|c| (*f, *p, c)))
        .collect();
    let mut seen: Vec<(&str, PathBuf)> = Vec::new();
    for (flag, path) in outputs {
        if path.is_dir() {
            return Err(InputError::usage(format!(
                "{flag} {}: is a directory",
                path.display()
            )));
        }
        let id = identity(path);
        if let Some(id) = &id {
            if let Some((other, _)) = seen.iter().find(|(_, p)| p == id) {
                return Err(InputError::usage(format!(
                    "{other} and {flag} name the same file {}",
                    path.display()
                )));
            }
            if let Some((input_flag, input, _)) = inputs.iter().find(|(_, _, c)| c == id) {
                return Err(InputError::usage(format!(
                    "{flag} {} is the {input_flag} input file{}: refusing to overwrite an input",
                    path.display(),
                    if input == path {
                        String::new()
                    } else {
                        format!(" {}", input.display())
                    }
                )));
            }
            seen.push((flag, id.clone()));
        }
        if let Some(p) = unwritable(path) {
            return Err(InputError::usage(format!("{flag} {}: {p}", path.display())));
        }
    }
    Ok(())
}

/// Why `path` cannot be written, found without leaving anything behind.
fn unwritable(path: &Path) -> Option<String> {
    match fs::metadata(path) {
        // A device or FIFO is written in place.
        Ok(m) if !m.is_file() => OpenOptions::new()
            .append(true)
            .open(path)
            .err()
            .map(|e| io_words(&e)),
        existing => {
            let target = match existing {
                Ok(_) => fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
                Err(_) => path.to_path_buf(),
            };
            let dir = folder_of(&target);
            if !dir.is_dir() {
                return Some(format!("the folder {} does not exist", dir.display()));
            }
            // The replacement is created next to it: try that now (it is removed at once).
            tempfile::Builder::new()
                .prefix(".runner-preflight-check.")
                .tempfile_in(dir)
                .err()
                .map(|e| {
                    format!(
                        "cannot create a file in the folder {}: {}",
                        dir.display(),
                        io_words(&e)
                    )
                })
        }
    }
}

#[cfg(test)]
mod report_size_tests {
    /// Issue 22 row 4: a JSON report `explain` and `fleet` would refuse is never written.
    #[test]
    fn a_json_report_over_the_read_cap_is_refused_before_writing() {
        let cap = crate::textfile::limit::REPORT as usize;
        assert!(super::readable_report("--output-json", &"x".repeat(cap)).is_ok());
        let e = super::readable_report("--output-json", &"x".repeat(cap + 1)).unwrap_err();
        let words = e.to_string();
        assert!(
            words.starts_with("--output-json: the JSON report is")
                && words.contains("64 MiB")
                && words.contains("not written"),
            "{words}"
        );
    }
}
