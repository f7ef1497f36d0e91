//! Reading a scenario file: a regular file of bounded size, and nothing else.
//!
//! A path may name a FIFO (reading it waits for a writer, perhaps forever),
//! a device such as `/dev/zero` (endless), or a directory. Each is refused
//! at once, before the file is opened, with a message that says what it is;
//! so is a file larger than [`MAX_SOURCE_BYTES`]. The limit is checked
//! again while reading, in case the file grows meanwhile. A UTF-8 byte order
//! mark at the start is accepted and skipped, as editors on Windows write
//! one.

use std::io::{self, Read};
use std::path::Path;

/// The largest scenario file loopsim reads: 16 MiB, far more than any
/// hand-written or generated scenario (a million statement lines), small
/// enough that parsing it stays well under the run's memory bounds.
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// UTF-8's byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The bytes of the regular file at `path`. A path that is not a regular file, or a file over
/// [`MAX_SOURCE_BYTES`], is an error whose text says why (for
/// `cannot read `FILE`: …`).
pub fn read_source(path: &Path) -> io::Result<Vec<u8>> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(io::Error::other(format!(
            "it is {}, not a regular file",
            describe(&metadata.file_type())
        )));
    }
    if metadata.len() > MAX_SOURCE_BYTES {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    std::fs::File::open(path)?
        .take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// `bytes` without a leading UTF-8 byte order mark, if it has one: line and
/// column numbers then count from the first character the user sees.
pub fn strip_bom(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    bytes
}

fn too_large(len: u64) -> io::Error {
    io::Error::other(format!(
        "it is {len} bytes or more, over the limit of {MAX_SOURCE_BYTES} bytes (16 MiB) for a scenario file"
    ))
}

/// What a path that is not a regular file is, for the message.
fn describe(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "something other than a file"
}
