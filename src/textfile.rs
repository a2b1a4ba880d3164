//! Reading the user's input files with a size cap, UTF-8 checked, in our own words.
//!
//! Every file the tool reads (profiles, allow lists, /meta documents, CA bundles, the runner's
//! files) goes through [`read_text`] or [`read_bytes`]: `/dev/zero` or a runaway file must end in
//! a clear error naming the file and the limit, never in gigabytes of memory. A FIFO, a socket
//! or a terminal is refused without waiting on it: it could keep the run waiting forever (issue
//! 22, row 9). Devices such as `/dev/zero` are read up to the cap.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Size caps per kind of input. Generous for real files, small enough that a hostile one
/// cannot exhaust memory.
pub mod limit {
    /// A profile: the built-in ones are about 20 KB.
    pub const PROFILE: u64 = 4 * 1024 * 1024;
    /// An allow list: 100,000 entries of typical length fit easily.
    pub const ALLOW_LIST: u64 = 16 * 1024 * 1024;
    /// A saved `/meta` document (GitHub's is about 200 KB; 200,000 domains fit).
    pub const META: u64 = 16 * 1024 * 1024;
    /// A PEM bundle (the Mozilla bundle is about 220 KB).
    pub const CA_BUNDLE: u64 = 16 * 1024 * 1024;
    /// All the files of one certificate folder (`SSL_CERT_DIR`) together: Debian's
    /// `/etc/ssl/certs` holds about 450 KB.
    pub const CA_FOLDER: u64 = 64 * 1024 * 1024;
    /// A saved report read back by `explain` or `fleet`.
    pub const REPORT: u64 = 64 * 1024 * 1024;
    /// The runner's own small files (`.env`, `.runner`, `.credentials`).
    pub const RUNNER_FILE: u64 = 1024 * 1024;
}

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("{}: cannot read: {}", path.display(), io_words(source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: larger than the limit of {} for {what}", path.display(), human_bytes(*limit))]
    TooLarge {
        path: PathBuf,
        limit: u64,
        what: &'static str,
    },
    #[error("{}: not UTF-8 text (invalid byte at offset {offset})", path.display())]
    NotUtf8 { path: PathBuf, offset: usize },
    /// A file that could keep the run waiting forever; refused before any byte is read.
    #[error("{}: {}: only a regular file is read", path.display(), kind.words())]
    NotRegular { path: PathBuf, kind: Special },
}

/// The kinds of file an input must not be: each can block a read for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Fifo,
    Socket,
    Terminal,
    /// A device other than a terminal: read up to the cap when named, skipped in a folder.
    Device,
}

impl Special {
    pub fn words(self) -> &'static str {
        match self {
            Special::Fifo => "a FIFO (named pipe)",
            Special::Socket => "a socket",
            Special::Terminal => "a terminal",
            Special::Device => "a device",
        }
    }

    /// What `file` is, when it is one of these.
    pub fn of(file: &std::fs::File) -> Option<Special> {
        #[cfg(unix)]
        {
            use std::io::IsTerminal;
            use std::os::unix::fs::FileTypeExt;
            let t = file.metadata().ok()?.file_type();
            if t.is_fifo() {
                return Some(Special::Fifo);
            }
            if t.is_socket() {
                return Some(Special::Socket);
            }
            if t.is_char_device() && file.is_terminal() {
                return Some(Special::Terminal);
            }
        }
        #[cfg(not(unix))]
        let _ = file;
        None
    }
}

impl ReadError {
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. }
            | ReadError::TooLarge { path, .. }
            | ReadError::NotUtf8 { path, .. }
            | ReadError::NotRegular { path, .. } => path,
        }
    }
}

fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        #[cfg(unix)]
        _ if e.raw_os_error() == Some(libc::ELOOP) => "a symbolic link that loops".into(),
        _ => {
            // The OS message without Rust's " (os error N)" suffix.
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// "4 MiB", "512 KiB", "100 bytes".
pub fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Open `path` for reading without waiting: opening a FIFO that has no writer blocks until one
/// comes, so it is opened non-blocking and then refused by [`Special::of`]. A directory is an
/// error too.
pub fn open_input(path: &Path) -> Result<std::fs::File, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(io(std::io::Error::from(std::io::ErrorKind::IsADirectory)));
    }
    if let Some(kind) = Special::of(&file) {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind,
        });
    }
    Ok(file)
}

/// `Ok` when `path` (its symbolic links followed) is a regular file: what a folder of inputs
/// (`fleet DIR`) is read for. Anything else is named: a FIFO, a device, a folder, a link that
/// loops or leads nowhere.
pub fn require_regular(path: &Path) -> Result<(), ReadError> {
    let m = std::fs::metadata(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if m.is_file() {
        return Ok(());
    }
    if m.is_dir() {
        return Err(ReadError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::IsADirectory),
        });
    }
    let kind = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            let t = m.file_type();
            if t.is_fifo() {
                Special::Fifo
            } else if t.is_socket() {
                Special::Socket
            } else {
                Special::Device
            }
        }
        #[cfg(not(unix))]
        Special::Device
    };
    Err(ReadError::NotRegular {
        path: path.to_path_buf(),
        kind,
    })
}

/// Read at most `limit` bytes of `path`; more is an error (the file is never read past it).
pub fn read_bytes(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = open_input(path)?;
    let mut buf = Vec::new();
    file.take(limit + 1).read_to_end(&mut buf).map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
            what,
        });
    }
    Ok(buf)
}

/// [`read_bytes`], then checked as UTF-8. A leading byte-order mark is kept: the parsers
/// strip it with [`strip_bom`] so that positions stay right.
pub fn read_text(path: &Path, limit: u64, what: &'static str) -> Result<String, ReadError> {
    let bytes = read_bytes(path, limit, what)?;
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// The text without a leading UTF-8 byte-order mark (editors on Windows write one).
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Lines split on CR LF, LF or a lone CR, as YAML (and so the profile parser) does. A final
/// line break does not start another, empty line.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let body = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix(['\n', '\r']))
        .unwrap_or(text);
    let mut rest = (!text.is_empty()).then_some(body);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(s)
            }
            Some(i) => {
                let skip = if s[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&s[i + skip..]);
                Some(&s[..i])
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_cap_is_an_error_naming_file_and_limit() {
        let e = read_text(Path::new("/dev/zero"), 1024, "a profile").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/dev/zero: larger than the limit of 1 KiB for a profile"
        );
    }

    #[test]
    fn invalid_utf8_names_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        std::fs::write(&p, b"ab\xffcd").unwrap();
        let e = read_text(&p, 100, "an allow list").unwrap_err();
        assert!(e
            .to_string()
            .ends_with("not UTF-8 text (invalid byte at offset 2)"));
    }

    #[test]
    fn missing_file_in_words() {
        let e = read_text(Path::new("/nonexistent/p.yaml"), 100, "a profile").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/nonexistent/p.yaml: cannot read: no such file"
        );
        let e = read_text(Path::new("/"), 100, "a profile").unwrap_err();
        assert_eq!(e.to_string(), "/: cannot read: it is a directory");
    }

    /// Issue 22, row 9: a FIFO with no writer used to block the open for ever.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let e = read_text(&p, 100, "a profile").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: a FIFO (named pipe): only a regular file is read",
                p.display()
            )
        );
        // A device is still read, up to the cap.
        assert_eq!(read_bytes(Path::new("/dev/null"), 10, "x").unwrap(), b"");
    }

    #[test]
    fn exactly_at_the_cap_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        std::fs::write(&p, "abcd").unwrap();
        assert_eq!(read_text(&p, 4, "x").unwrap(), "abcd");
        assert!(read_text(&p, 3, "x").is_err());
    }

    #[test]
    fn line_ends_and_bom() {
        let v: Vec<&str> = lines("a\r\nb\rc\nd\n").collect();
        assert_eq!(v, ["a", "b", "c", "d"]);
        let v: Vec<&str> = lines("a\n\nb").collect();
        assert_eq!(v, ["a", "", "b"]);
        assert_eq!(strip_bom("\u{feff}github.com"), "github.com");
        assert_eq!(human_bytes(4 * 1024 * 1024), "4 MiB");
        assert_eq!(human_bytes(100), "100 bytes");
    }
}
