//! A strict reader for evidence bundles' zip files.
//!
//! A zip names each member twice (in its local header and in the central
//! directory), and general readers resolve disagreements differently:
//! `unzip` takes the first of two members with one name, Rust's `zip` the
//! last. A verifier that checks one copy while the reader's tool extracts
//! another would call a tampered bundle valid. So this reader accepts only
//! archives that every reader sees alike:
//!
//! - one end-of-central-directory record, ending the file (its comment, if
//!   any, included); one disk; zip64 records where the sizes need them;
//! - the members tile the file: the first local header at byte 0, each
//!   member's header, data and optional data descriptor followed at once by
//!   the next, the last by the central directory, which is followed at once
//!   by the end records (no prefix, gap, overlap or trailing byte);
//! - every local header agrees with its central entry (name, method, flags);
//! - unique names of plain path segments (`[A-Za-z0-9._-]`, `/` between,
//!   no `.` or `..`), stored or deflated, never encrypted;
//! - bounded work: at most [`MAX_MEMBERS`] members, at most
//!   [`MAX_INFLATED`] bytes inflated in all, and no member of more than
//!   1 MiB inflating beyond [`MAX_RATIO`] times its compressed size.
//!
//! Members are read as streams: at most their declared size is inflated,
//! and their CRC-32 and size are checked at the end.

use std::collections::HashSet;
use std::io::{self, Read, Seek, SeekFrom};

/// More members than a bundle ever holds is refused before anything is read.
pub const MAX_MEMBERS: usize = 64;
/// The most all members may inflate to, together.
pub const MAX_INFLATED: u64 = 8 * 1024 * 1024 * 1024;
/// The highest inflated-to-compressed ratio of a member above [`RATIO_FLOOR`]
/// bytes (deflate can reach about 1,000; the portal's own CSV and NDJSON
/// members stay far below 50).
pub const MAX_RATIO: u64 = 200;
/// Members inflating to at most this many bytes are not held to [`MAX_RATIO`].
pub const RATIO_FLOOR: u64 = 1024 * 1024;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DESCRIPTOR: u16 = 1 << 3;

/// Why an archive is refused before any member is trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    /// Not a zip file that can be read at all.
    #[error("{0}")]
    Unreadable(String),
    /// Two members share a name: readers disagree on which one counts.
    #[error("two members are named {0}")]
    DuplicateMember(String),
    /// The bytes could be read in more than one way (prefix, gap, overlap,
    /// trailing data, local and central headers that disagree, odd names).
    #[error("{0}")]
    Ambiguous(String),
    /// Beyond what a bundle needs: too many members, too much to inflate,
    /// a suspicious ratio, encryption or an unknown compression method.
    #[error("{0}")]
    Unsafe(String),
}

/// One member, as its central directory entry describes it.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    method: u16,
    crc32: u32,
    compressed: u64,
    pub size: u64,
    data_offset: u64,
}

/// An archive that passed every check above; members can be read.
pub struct StrictZip<R> {
    reader: R,
    members: Vec<Member>,
}

fn unreadable(what: impl Into<String>) -> ArchiveError {
    ArchiveError::Unreadable(what.into())
}

fn ambiguous(what: impl Into<String>) -> ArchiveError {
    ArchiveError::Ambiguous(what.into())
}

fn io_error(e: io::Error) -> ArchiveError {
    unreadable(format!("reading the zip: {e}"))
}

/// Little-endian fields from a byte slice, refusing to read past its end.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Fields { bytes, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], ArchiveError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| unreadable("a zip record is cut short"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u16(&mut self) -> Result<u16, ArchiveError> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, ArchiveError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, ArchiveError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

fn read_at<R: Read + Seek>(
    reader: &mut R,
    offset: u64,
    len: usize,
) -> Result<Vec<u8>, ArchiveError> {
    reader.seek(SeekFrom::Start(offset)).map_err(io_error)?;
    let mut buf = vec![0u8; len];
    reader
        .read_exact(&mut buf)
        .map_err(|_| unreadable("a zip record lies past the end of the file"))?;
    Ok(buf)
}

/// Where the central directory is, from the end records.
struct Directory {
    entries: u64,
    offset: u64,
    size: u64,
    /// Where the end records start: the directory must end exactly here.
    ends_at: u64,
}

fn find_directory<R: Read + Seek>(reader: &mut R, len: u64) -> Result<Directory, ArchiveError> {
    if len < 22 {
        return Err(unreadable("too short to be a zip file"));
    }
    // The end record is 22 bytes plus a comment of up to 65,535 bytes, and
    // must end the file exactly.
    let tail_len = len.min(22 + 65_535) as usize;
    let tail_start = len - tail_len as u64;
    let tail = read_at(reader, tail_start, tail_len)?;
    let found = (0..=tail_len - 22).rev().find(|&i| {
        tail[i..i + 4] == END_OF_DIRECTORY.to_le_bytes()
            && i + 22 + u16::from_le_bytes([tail[i + 20], tail[i + 21]]) as usize == tail_len
    });
    let at = found.ok_or_else(|| unreadable("no end-of-central-directory record ends the file"))?;
    let mut f = Fields::new(&tail[at + 4..]);
    let (disk, cd_disk) = (f.u16()?, f.u16()?);
    let (on_disk, total) = (f.u16()?, f.u16()?);
    let (size, offset) = (f.u32()?, f.u32()?);
    if disk != 0 || cd_disk != 0 || on_disk != total {
        return Err(ArchiveError::Unsafe(
            "archives split over several disks are not read".into(),
        ));
    }
    let eocd_at = tail_start + at as u64;
    // A zip64 locator, when present, sits right before the end record.
    let locator = if eocd_at >= 20 {
        let bytes = read_at(reader, eocd_at - 20, 20)?;
        (bytes[..4] == ZIP64_LOCATOR.to_le_bytes()).then_some(bytes)
    } else {
        None
    };
    let Some(locator) = locator else {
        if total == u16::MAX || size == u32::MAX || offset == u32::MAX {
            return Err(unreadable("zip64 sizes without a zip64 end record"));
        }
        return Ok(Directory {
            entries: total as u64,
            offset: offset as u64,
            size: size as u64,
            ends_at: eocd_at,
        });
    };
    let mut l = Fields::new(&locator[4..]);
    let (disk, end64_at, disks) = (l.u32()?, l.u64()?, l.u32()?);
    if disk != 0 || disks != 1 {
        return Err(ArchiveError::Unsafe(
            "archives split over several disks are not read".into(),
        ));
    }
    let locator_at = eocd_at - 20;
    if end64_at.checked_add(56) != Some(locator_at) {
        return Err(ambiguous(
            "the zip64 end record is not where its locator says, or data lies between them",
        ));
    }
    let record = read_at(reader, end64_at, 56)?;
    let mut z = Fields::new(&record);
    if z.u32()? != ZIP64_END || z.u64()? != 44 {
        return Err(ambiguous(
            "the zip64 end record is malformed or carries extra data",
        ));
    }
    let _versions = (z.u16()?, z.u16()?);
    let (disk, cd_disk, on_disk, total) = (z.u32()?, z.u32()?, z.u64()?, z.u64()?);
    let (size, offset) = (z.u64()?, z.u64()?);
    if disk != 0 || cd_disk != 0 || on_disk != total {
        return Err(ArchiveError::Unsafe(
            "archives split over several disks are not read".into(),
        ));
    }
    Ok(Directory {
        entries: total,
        offset,
        size,
        ends_at: end64_at,
    })
}

/// A member name every reader extracts to the same place.
fn plain_name(raw: &[u8]) -> Result<String, ArchiveError> {
    let name = std::str::from_utf8(raw).map_err(|_| ambiguous("a member name is not UTF-8"))?;
    let ok = !name.is_empty()
        && name.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if ok {
        Ok(name.to_string())
    } else {
        Err(ambiguous(format!(
            "the member name {name:?} is not a plain file name"
        )))
    }
}

/// A central directory entry, and what its local header must repeat.
struct Entry {
    member: Member,
    name_bytes: Vec<u8>,
    flags: u16,
    local_offset: u64,
    zip64_sizes: bool,
}

fn parse_central(f: &mut Fields<'_>) -> Result<Entry, ArchiveError> {
    if f.u32()? != CENTRAL_HEADER {
        return Err(unreadable("a central directory entry is malformed"));
    }
    let _made_by = f.u16()?;
    let _needed = f.u16()?;
    let flags = f.u16()?;
    let method = f.u16()?;
    let _time_date = f.u32()?;
    let crc32 = f.u32()?;
    let mut compressed = f.u32()? as u64;
    let mut size = f.u32()? as u64;
    let (name_len, extra_len, comment_len) = (f.u16()?, f.u16()?, f.u16()?);
    let disk = f.u16()?;
    let _attributes = (f.u16()?, f.u32()?);
    let mut local_offset = f.u32()? as u64;
    let name_bytes = f.take(name_len as usize)?.to_vec();
    let extra = f.take(extra_len as usize)?;
    f.take(comment_len as usize)?;
    let name = plain_name(&name_bytes)?;
    if disk != 0 {
        return Err(ArchiveError::Unsafe(
            "archives split over several disks are not read".into(),
        ));
    }
    if flags & FLAG_ENCRYPTED != 0 {
        return Err(ArchiveError::Unsafe(format!("{name} is encrypted")));
    }
    if method != 0 && method != 8 {
        return Err(ArchiveError::Unsafe(format!(
            "{name} uses compression method {method} (only stored and deflated are read)"
        )));
    }
    // Zip64 values replace the 0xFFFFFFFF fields, in this order.
    let zip64_sizes = size == u32::MAX as u64 || compressed == u32::MAX as u64;
    let mut x = Fields::new(extra);
    while x.at < extra.len() {
        let (id, len) = (x.u16()?, x.u16()?);
        let data = x.take(len as usize)?;
        if id == 0x0001 {
            let mut z = Fields::new(data);
            if size == u32::MAX as u64 {
                size = z.u64()?;
            }
            if compressed == u32::MAX as u64 {
                compressed = z.u64()?;
            }
            if local_offset == u32::MAX as u64 {
                local_offset = z.u64()?;
            }
        }
    }
    Ok(Entry {
        member: Member {
            name,
            method,
            crc32,
            compressed,
            size,
            data_offset: 0,
        },
        name_bytes,
        flags,
        local_offset,
        zip64_sizes,
    })
}

/// Checks `entry`'s local header at its offset; returns where its bytes end
/// (after the data descriptor, if it has one) and sets where its data starts.
fn check_local<R: Read + Seek>(
    reader: &mut R,
    entry: &mut Entry,
    file_len: u64,
) -> Result<u64, ArchiveError> {
    let name = entry.member.name.clone();
    let header = read_at(reader, entry.local_offset, 30)?;
    let mut f = Fields::new(&header);
    if f.u32()? != LOCAL_HEADER {
        return Err(ambiguous(format!(
            "{name}: no local header where the directory says"
        )));
    }
    let _needed = f.u16()?;
    let flags = f.u16()?;
    let method = f.u16()?;
    let _time_date = f.u32()?;
    let _crc_and_sizes = (f.u32()?, f.u32()?, f.u32()?);
    let (name_len, extra_len) = (f.u16()?, f.u16()?);
    let local_name = read_at(reader, entry.local_offset + 30, name_len as usize)?;
    if local_name != entry.name_bytes {
        return Err(ambiguous(format!(
            "{name}: the local header names another file ({:?})",
            String::from_utf8_lossy(&local_name)
        )));
    }
    if method != entry.member.method || flags != entry.flags {
        return Err(ambiguous(format!(
            "{name}: the local header disagrees with the directory on compression or flags"
        )));
    }
    let data_offset = entry.local_offset + 30 + name_len as u64 + extra_len as u64;
    let data_end = data_offset
        .checked_add(entry.member.compressed)
        .filter(|&e| e <= file_len)
        .ok_or_else(|| unreadable(format!("{name}: its data runs past the end of the file")))?;
    entry.member.data_offset = data_offset;
    if flags & FLAG_DESCRIPTOR == 0 {
        return Ok(data_end);
    }
    // A data descriptor: an optional signature, the CRC and both sizes
    // (8 bytes each for zip64 members).
    let sizes = if entry.zip64_sizes { 16 } else { 8 };
    let probe = read_at(reader, data_end, 4.min((file_len - data_end) as usize))?;
    let signed = probe == DATA_DESCRIPTOR.to_le_bytes();
    let len = if signed { 4 } else { 0 } + 4 + sizes;
    let descriptor = read_at(reader, data_end, len)?;
    let mut d = Fields::new(&descriptor[if signed { 4 } else { 0 }..]);
    let crc = d.u32()?;
    let (compressed, size) = if entry.zip64_sizes {
        (d.u64()?, d.u64()?)
    } else {
        (d.u32()? as u64, d.u32()? as u64)
    };
    if crc != entry.member.crc32
        || compressed != entry.member.compressed
        || size != entry.member.size
    {
        return Err(ambiguous(format!(
            "{name}: its data descriptor disagrees with the directory"
        )));
    }
    Ok(data_end + len as u64)
}

impl<R: Read + Seek> StrictZip<R> {
    /// Reads and checks the archive's structure; no member is inflated yet.
    pub fn open(mut reader: R) -> Result<Self, ArchiveError> {
        let len = reader.seek(SeekFrom::End(0)).map_err(io_error)?;
        let dir = find_directory(&mut reader, len)?;
        if dir.entries as usize > MAX_MEMBERS {
            return Err(ArchiveError::Unsafe(format!(
                "{} members (a bundle has at most {MAX_MEMBERS})",
                dir.entries
            )));
        }
        if dir.offset.checked_add(dir.size) != Some(dir.ends_at) {
            return Err(ambiguous(
                "the central directory does not end where the end record begins",
            ));
        }
        if dir.size > (MAX_MEMBERS as u64) * (46 + 3 * 65_535) {
            return Err(ArchiveError::Unsafe(
                "the central directory is too large".into(),
            ));
        }
        let bytes = read_at(&mut reader, dir.offset, dir.size as usize)?;
        let mut f = Fields::new(&bytes);
        let mut entries = Vec::with_capacity(dir.entries as usize);
        let mut names = HashSet::new();
        for _ in 0..dir.entries {
            let entry = parse_central(&mut f)?;
            if !names.insert(entry.member.name.clone()) {
                return Err(ArchiveError::DuplicateMember(entry.member.name));
            }
            entries.push(entry);
        }
        if f.at != bytes.len() {
            return Err(ambiguous(
                "the central directory holds more than its entries",
            ));
        }
        let mut inflated = 0u64;
        for e in &entries {
            let m = &e.member;
            inflated = inflated.saturating_add(m.size);
            if m.size > RATIO_FLOOR && m.size / m.compressed.max(1) > MAX_RATIO {
                return Err(ArchiveError::Unsafe(format!(
                    "{} would inflate {} bytes from {} (more than {MAX_RATIO} times)",
                    m.name, m.size, m.compressed
                )));
            }
            if m.method == 0 && m.size != m.compressed {
                return Err(ambiguous(format!(
                    "{}: stored, yet its two sizes differ",
                    m.name
                )));
            }
        }
        if inflated > MAX_INFLATED {
            return Err(ArchiveError::Unsafe(format!(
                "the members would inflate to {inflated} bytes (at most {MAX_INFLATED})"
            )));
        }
        // The members, in file order, must tile the file up to the directory.
        entries.sort_by_key(|e| e.local_offset);
        let mut next = 0u64;
        for e in &mut entries {
            if e.local_offset != next {
                return Err(ambiguous(if e.local_offset < next {
                    format!("{} overlaps the member before it", e.member.name)
                } else if next == 0 {
                    "data precedes the first member".to_string()
                } else {
                    format!("unlisted bytes lie before {}", e.member.name)
                }));
            }
            next = check_local(&mut reader, e, len)?;
        }
        if next != dir.offset {
            return Err(ambiguous("unlisted bytes lie before the central directory"));
        }
        Ok(StrictZip {
            reader,
            members: entries.into_iter().map(|e| e.member).collect(),
        })
    }

    /// Members in file order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    /// Streams a member's inflated bytes into `sink`, never more than its
    /// declared size; fails when its size or CRC-32 differ from the directory.
    pub fn read_member(&mut self, member: &Member, mut sink: impl FnMut(&[u8])) -> io::Result<()> {
        read_member_buffers(&mut self.reader, member, |buffer, filled| {
            sink(&buffer[..filled]);
            buffer
        })
    }

    /// [`read_member_buffers`] on this archive's reader.
    pub fn read_member_buffers(
        &mut self,
        member: &Member,
        pass: impl FnMut(Vec<u8>, usize) -> Vec<u8>,
    ) -> io::Result<()> {
        read_member_buffers(&mut self.reader, member, pass)
    }

    /// A small member whole (the manifest and its signature), up to `limit` bytes.
    pub fn read_small(&mut self, member: &Member, limit: u64) -> io::Result<Vec<u8>> {
        if member.size > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is larger than {limit} bytes", member.name),
            ));
        }
        let mut out = Vec::with_capacity(member.size as usize);
        self.read_member(member, |chunk| out.extend_from_slice(chunk))?;
        Ok(out)
    }
}

/// How much of a member is inflated at a time.
const MEMBER_CHUNK: usize = 128 * 1024;

/// [`StrictZip::read_member`] through any reader of the same archive (one
/// of its own, so that members can be read side by side), each buffer
/// handed over as it is filled (with how much of it is); reading goes on
/// in the buffer `pass` returns (an empty one is sized here): a chunk goes
/// to another thread without a copy, and buffers come back to be filled.
pub fn read_member_buffers<R: Read + Seek>(
    reader: &mut R,
    member: &Member,
    mut pass: impl FnMut(Vec<u8>, usize) -> Vec<u8>,
) -> io::Result<()> {
    reader.seek(SeekFrom::Start(member.data_offset))?;
    let raw = reader.take(member.compressed);
    let mut inflated: Box<dyn Read + '_> = match member.method {
        0 => Box::new(raw),
        _ => Box::new(flate2::read::DeflateDecoder::new(raw)),
    };
    let mut crc = crc32fast::Hasher::new();
    let mut buf = Vec::new();
    let mut total = 0u64;
    loop {
        if buf.len() < MEMBER_CHUNK {
            buf.resize(MEMBER_CHUNK, 0);
        }
        let want = buf.len().min((member.size + 1 - total) as usize);
        if want == 0 {
            break;
        }
        let n = inflated.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > member.size {
            break;
        }
        crc.update(&buf[..n]);
        buf = pass(buf, n);
    }
    if total != member.size || crc.finalize() != member.crc32 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: its content does not match its size and CRC-32",
                member.name
            ),
        ));
    }
    Ok(())
}

/// Reads one open file at a position of its own (`pread`), so several
/// readers, on several threads, read the same file at once: the same file
/// the archive's structure was checked in, not whatever its path names now.
#[cfg(unix)]
pub struct FileAt<'f> {
    file: &'f std::fs::File,
    position: u64,
}

#[cfg(unix)]
impl<'f> FileAt<'f> {
    pub fn new(file: &'f std::fs::File) -> Self {
        FileAt { file, position: 0 }
    }
}

#[cfg(unix)]
impl Read for FileAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = std::os::unix::fs::FileExt::read_at(self.file, buf, self.position)?;
        self.position += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
impl Seek for FileAt<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let (base, offset) = match to {
            SeekFrom::Start(n) => (0, n as i128),
            SeekFrom::Current(d) => (self.position, d as i128),
            SeekFrom::End(d) => (self.file.metadata()?.len(), d as i128),
        };
        let target = base as i128 + offset;
        self.position = u64::try_from(target).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek before the file's start")
        })?;
        Ok(self.position)
    }
}
