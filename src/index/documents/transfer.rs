//! Attached files' bytes: downloaded in chunks as readers need them, kept in the local
//! store (or, without one, in a temporary file), and read back from there, so no file is
//! ever whole in memory and a read at an offset fetches from that offset only.
//!
//! A read of chunk `k` that is not kept yet either waits for a download already running
//! that will reach `k` soon (it is at most [`AHEAD_CHUNKS`] before it), or starts one at
//! `k` with an HTTP range. A download runs to the end of the file, stopping early when the
//! next chunk is already kept or when no open file wants the document any more; so `cat`
//! costs one request, and readers of one document share every download. A chunk is kept
//! only once it is whole and where the document says it is; a download that ends short,
//! or fails, fails the reads waiting on it with the cause (EIO), and nothing partial is
//! ever served.

use crate::sync::lock;
use std::collections::HashMap;
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Instant, SystemTime};

use super::Document;
use crate::index::{Index, IndexError, Shared, SourceError};

/// Bytes per chunk: the unit kept, evicted and fetched. Every chunk in flight is a buffer
/// (the one being filled, the last one finished, each reader's copy of the one it reads),
/// so the chunk sets what a download adds to the mount's memory: with 1 MiB chunks a
/// 500 MB `cat` raised the peak by 16 MiB, with 256 KiB by 3 (scripts/bench-files).
/// A 2 GB file is then 8,192 store rows, which SQLite indexes without effort.
pub const DOCUMENT_CHUNK: u64 = 256 << 10;

/// A read this many chunks ahead of a running download waits for it rather than opening
/// another: 16 MiB arrives in about the time a new request takes to start on a slow line,
/// and it is more than kernel read-ahead runs ahead of a sequential reader.
const AHEAD_CHUNKS: u64 = (16 << 20) / DOCUMENT_CHUNK;

/// Downloads one read may start for its chunk before it gives up (a chunk evicted at once
/// by a tiny bound, or a store that cannot keep it): a bound on API calls per read.
const STARTS_PER_READ: u32 = 3;

/// Ended downloads remembered (for readers that have not yet seen how theirs ended).
const ENDED_KEPT: usize = 8;

/// The transfers of documents some open file holds, by ContentVersion Id.
#[derive(Default)]
pub(in crate::index) struct Downloads {
    transfers: HashMap<Arc<str>, Weak<Transfer>>,
}

/// An open attached file: its document and, from the first read, its transfer.
pub struct OpenDocument {
    pub document: Arc<Document>,
    /// The object folder whose status records a failed download.
    folder: usize,
    transfer: OnceLock<Arc<Transfer>>,
    /// The chunk last read through this handle: sequential reads of 128 KiB take eight
    /// reads from each chunk, and only the first goes to the store.
    last: Mutex<Option<(u64, Arc<[u8]>)>>,
}

/// One document version's bytes while some open file holds it.
struct Transfer {
    version_id: Arc<str>,
    size: u64,
    /// Without a store: the unlinked temporary file the chunks are written to.
    temp: Option<std::fs::File>,
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    /// Chunks written (for the store a hint: its bound may have evicted one since).
    have: Vec<bool>,
    /// The chunk a download finished last, for the readers right behind it.
    recent: Option<(u64, Arc<[u8]>)>,
    downloads: Vec<Download>,
    next_id: u64,
}

struct Download {
    id: u64,
    /// The chunk it is filling.
    next_chunk: u64,
    end: Option<Result<(), IndexError>>,
}

impl Transfer {
    fn chunks(&self) -> u64 {
        self.size.div_ceil(DOCUMENT_CHUNK)
    }

    fn chunk_len(&self, chunk: u64) -> usize {
        (self.size - chunk * DOCUMENT_CHUNK).min(DOCUMENT_CHUNK) as usize
    }

    /// Chunk `chunk` if it is kept, checked for its length.
    fn kept(&self, shared: &Shared, chunk: u64, have: bool) -> Option<Arc<[u8]>> {
        let bytes = match &self.temp {
            Some(file) if have => {
                let mut bytes = vec![0; self.chunk_len(chunk)];
                file.read_exact_at(&mut bytes, chunk * DOCUMENT_CHUNK)
                    .ok()?;
                bytes
            }
            Some(_) => return None,
            None => shared.store.document_chunk(&self.version_id, chunk)?,
        };
        (bytes.len() == self.chunk_len(chunk)).then(|| bytes.into())
    }

    /// Writes a whole chunk where it is kept; false if it could not be.
    fn keep(&self, shared: &Shared, chunk: u64, bytes: &[u8]) -> bool {
        match &self.temp {
            Some(file) => match file.write_all_at(bytes, chunk * DOCUMENT_CHUNK) {
                Ok(()) => true,
                Err(error) => {
                    tracing::warn!(%error, "cannot write an attached file's temporary copy");
                    false
                }
            },
            None => shared
                .store
                .put_document_chunk(&self.version_id, chunk, bytes),
        }
    }
}

impl Index {
    /// An open attached file; nothing is fetched until it is read.
    pub fn open_document(&self, folder: usize, document: Arc<Document>) -> OpenDocument {
        OpenDocument {
            document,
            folder,
            transfer: OnceLock::new(),
            last: Mutex::new(None),
        }
    }

    /// Up to `size` bytes of an open attached file from `offset`: the bytes (one chunk, or
    /// a copy when the range crosses chunks) and the range of them to send. Exactly what
    /// the file holds there, or an error, which the folder's status then shows.
    pub fn read_document(
        &self,
        open: &OpenDocument,
        offset: u64,
        size: u32,
    ) -> Result<(Arc<[u8]>, usize, usize), IndexError> {
        let total = open.document.size;
        if offset >= total || size == 0 {
            return Ok((Arc::from(Vec::new()), 0, 0));
        }
        let end = total.min(offset + u64::from(size));
        let first = offset / DOCUMENT_CHUNK;
        let last = (end - 1) / DOCUMENT_CHUNK;
        let result = (|| {
            let base = first * DOCUMENT_CHUNK;
            let bytes = self.chunk_of(open, first)?;
            if first == last {
                return Ok((bytes, (offset - base) as usize, (end - base) as usize));
            }
            // A read across chunks: the kernel takes a short read for the end of the file.
            let mut joined = Vec::with_capacity((end - offset) as usize);
            joined.extend_from_slice(&bytes[(offset - base) as usize..]);
            for chunk in first + 1..=last {
                let bytes = self.chunk_of(open, chunk)?;
                let want = (end - chunk * DOCUMENT_CHUNK).min(bytes.len() as u64) as usize;
                joined.extend_from_slice(&bytes[..want]);
            }
            let len = joined.len();
            Ok((Arc::from(joined), 0, len))
        })();
        self.note_download(open, &result);
        result
    }

    /// Records a failed read in the folder's status, and clears it after one that works.
    fn note_download<T>(&self, open: &OpenDocument, result: &Result<T, IndexError>) {
        let Ok(folder) = self.folder(open.folder) else {
            return;
        };
        let mut status = lock(&folder.status);
        match result {
            Ok(_) if status.download_failure.is_some() => status.download_failure = None,
            Ok(_) => {}
            Err(error) => {
                status.download_failure = Some((
                    format!("{}: {error}", open.document.name),
                    SystemTime::now(),
                ))
            }
        }
    }

    fn chunk_of(&self, open: &OpenDocument, chunk: u64) -> Result<Arc<[u8]>, IndexError> {
        if let Some((k, bytes)) = lock(&open.last).as_ref() {
            if *k == chunk {
                return Ok(bytes.clone());
            }
        }
        let transfer = match open.transfer.get() {
            Some(transfer) => transfer.clone(),
            None => {
                let transfer = self.transfer(&open.document)?;
                open.transfer.get_or_init(|| transfer).clone()
            }
        };
        let bytes = self.wait_for_chunk(&transfer, chunk)?;
        *lock(&open.last) = Some((chunk, bytes.clone()));
        Ok(bytes)
    }

    /// The transfer of `document`'s version, shared by every open file of it.
    fn transfer(&self, document: &Document) -> Result<Arc<Transfer>, IndexError> {
        let mut downloads = lock(&self.shared.downloads);
        if let Some(transfer) = downloads
            .transfers
            .get(&document.version_id)
            .and_then(Weak::upgrade)
        {
            return Ok(transfer);
        }
        let temp = if self.shared.store.keeps_documents() {
            None
        } else {
            Some(temporary_file().map_err(|error| {
                IndexError::Source(SourceError::Other(format!(
                    "cannot make a temporary file for an attached file in {}: {error}",
                    std::env::temp_dir().display()
                )))
            })?)
        };
        let chunks = document.size.div_ceil(DOCUMENT_CHUNK) as usize;
        let transfer = Arc::new(Transfer {
            version_id: document.version_id.clone(),
            size: document.size,
            temp,
            state: Mutex::new(State {
                have: vec![false; chunks],
                recent: None,
                downloads: Vec::new(),
                next_id: 0,
            }),
            changed: Condvar::new(),
        });
        downloads.transfers.retain(|_, w| w.strong_count() > 0);
        downloads
            .transfers
            .insert(document.version_id.clone(), Arc::downgrade(&transfer));
        Ok(transfer)
    }

    /// Chunk `chunk`, from where it is kept or from the download that brings it, within
    /// the operation deadline.
    fn wait_for_chunk(
        &self,
        transfer: &Arc<Transfer>,
        chunk: u64,
    ) -> Result<Arc<[u8]>, IndexError> {
        let deadline_length = self.shared.config.operation_deadline;
        let deadline = Instant::now() + deadline_length;
        let timed_out = || IndexError::Deadline {
            object: "ContentVersion".into(),
            seconds: deadline_length.as_secs(),
        };
        let mut attached: Option<u64> = None;
        let mut starts = 0;
        loop {
            let had = lock(&transfer.state).have[chunk as usize];
            if let Some(bytes) = transfer.kept(&self.shared, chunk, had) {
                return Ok(bytes);
            }
            let mut state = lock(&transfer.state);
            if let Some((k, bytes)) = &state.recent {
                if *k == chunk {
                    return Ok(bytes.clone());
                }
            }
            let k = chunk as usize;
            if state.have[k] != had {
                continue; // written meanwhile
            }
            if had {
                state.have[k] = false; // evicted since
            }
            if let Some(id) = attached {
                match state.downloads.iter().find(|d| d.id == id) {
                    Some(Download { end: None, .. }) => {}
                    Some(Download {
                        end: Some(Err(error)),
                        ..
                    }) => return Err(error.clone()),
                    _ => attached = None,
                }
            }
            if attached.is_none() {
                attached = state
                    .downloads
                    .iter()
                    .find(|d| {
                        d.end.is_none()
                            && d.next_chunk <= chunk
                            && chunk < d.next_chunk + AHEAD_CHUNKS
                    })
                    .map(|d| d.id);
            }
            if attached.is_none() {
                starts += 1;
                if starts > STARTS_PER_READ {
                    return Err(IndexError::Source(SourceError::Other(
                        "the downloaded bytes of the attached file could not be kept".into(),
                    )));
                }
                attached = Some(self.start_download(transfer, &mut state, chunk));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            let (_state, _) = transfer
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Starts a download of `transfer` from chunk `from` (the state locked by the caller);
    /// returns its id.
    fn start_download(&self, transfer: &Arc<Transfer>, state: &mut State, from: u64) -> u64 {
        let id = state.next_id;
        state.next_id += 1;
        let ended = state.downloads.iter().filter(|d| d.end.is_some()).count();
        if ended > ENDED_KEPT {
            let mut drop = ended - ENDED_KEPT;
            state.downloads.retain(|d| {
                let old = d.end.is_some() && drop > 0;
                drop -= usize::from(old);
                !old
            });
        }
        state.downloads.push(Download {
            id,
            next_chunk: from,
            end: None,
        });
        // Counted for /metrics: one per request to the org.
        self.shared.body_stats.document_download();
        let shared = self.shared.clone();
        let weak = Arc::downgrade(transfer);
        let version = transfer.version_id.clone();
        let size = transfer.size;
        self.shared.runtime.spawn(async move {
            let mut filler = Filler {
                shared: &shared,
                transfer: weak.clone(),
                id,
                chunk: from,
                buffer: Vec::new(),
                finished: false,
                gap: false,
            };
            let mut sink = |at: u64, piece: &[u8]| filler.take(at, piece);
            let fetched = shared
                .source
                .document_from(&version, size, from * DOCUMENT_CHUNK, &mut sink)
                .await;
            let end: Result<(), IndexError> = match fetched {
                _ if filler.gap => Err(IndexError::Source(SourceError::Other(
                    "the org's answer skipped bytes of the attached file".into(),
                ))),
                Ok(()) => Ok(()),
                // A document gone from the org between listing and read: the open file
                // cannot be read, which is an I/O failure, not a missing name.
                Err(SourceError::NotFound(what)) => Err(IndexError::Source(SourceError::Other(
                    format!("attached file no longer in the org: {what}"),
                ))),
                Err(error) => Err(IndexError::Source(error)),
            };
            if let Err(error) = &end {
                shared.body_stats.document_download_failed();
                tracing::warn!(version = %version, error = %error, "attached file download failed");
            }
            if let Some(transfer) = weak.upgrade() {
                let mut state = lock(&transfer.state);
                if let Some(download) = state.downloads.iter_mut().find(|d| d.id == id) {
                    download.end = Some(end);
                }
                transfer.changed.notify_all();
            }
        });
        id
    }
}

/// Cuts a download's pieces into chunks and keeps each one whole.
struct Filler<'a> {
    shared: &'a Shared,
    transfer: Weak<Transfer>,
    id: u64,
    /// The chunk being filled.
    chunk: u64,
    buffer: Vec<u8>,
    finished: bool,
    /// The answer skipped bytes (a source that started after the offset asked).
    gap: bool,
}

impl Filler<'_> {
    /// Takes the piece at offset `at`; false to stop the download.
    fn take(&mut self, at: u64, mut piece: &[u8]) -> bool {
        let Some(transfer) = self.transfer.upgrade() else {
            return false; // no open file wants it any more
        };
        let want = self.chunk * DOCUMENT_CHUNK + self.buffer.len() as u64;
        if at > want {
            self.gap = true;
            return false;
        }
        // A source that started earlier (a whole file for a range): skip what is not asked.
        let skip = (want - at).min(piece.len() as u64) as usize;
        piece = &piece[skip..];
        while !piece.is_empty() && !self.finished {
            let len = transfer.chunk_len(self.chunk);
            let take = (len - self.buffer.len()).min(piece.len());
            if self.buffer.capacity() == 0 {
                self.buffer.reserve_exact(len);
            }
            self.buffer.extend_from_slice(&piece[..take]);
            piece = &piece[take..];
            if self.buffer.len() == len && !self.complete_chunk(&transfer) {
                return false;
            }
        }
        !self.finished
    }

    /// Keeps the whole chunk just filled and tells the readers; false to stop (the next
    /// chunk is kept already, the file is complete, or the chunk could not be kept).
    fn complete_chunk(&mut self, transfer: &Transfer) -> bool {
        let bytes: Arc<[u8]> = std::mem::take(&mut self.buffer).into();
        let kept = transfer.keep(self.shared, self.chunk, &bytes);
        let mut state = lock(&transfer.state);
        state.have[self.chunk as usize] = kept;
        state.recent = Some((self.chunk, bytes));
        self.chunk += 1;
        self.finished = self.chunk >= transfer.chunks();
        let next_kept = !self.finished && state.have[self.chunk as usize];
        if let Some(download) = state.downloads.iter_mut().find(|d| d.id == self.id) {
            download.next_chunk = self.chunk;
        }
        transfer.changed.notify_all();
        kept && !self.finished && !next_kept
    }
}

/// A temporary file for one attached file, removed from its folder at once: it lives as
/// long as the open file and leaves nothing behind even after a crash. In the system's
/// temporary folder (`TMPDIR`, else `/tmp`), readable by this user only.
fn temporary_file() -> io::Result<std::fs::File> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".sfmount-attached-{}-{n}.part", std::process::id()));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => {
                std::fs::remove_file(&path)?;
                return Ok(file);
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
}
