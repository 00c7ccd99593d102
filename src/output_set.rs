//! Output folders as a set: a reader sees the previous complete result or the new complete
//! result, never a mix, whatever moment the writer is killed at.
//!
//! How: a writer first takes an exclusive `flock` on `.NAME.lock` beside the folder (a second
//! writer is refused, not interleaved), removes temporaries left by dead writers, and writes every
//! file into a fresh sibling `.NAME.tmp-PID-N`. `commit` adds `run.json` (the manifest: what
//! wrote the set and which files it holds), syncs, and swaps the temporary folder with the old
//! one in a single `renameat2(RENAME_EXCHANGE)`, then removes the old one. Where the filesystem
//! cannot exchange, the old folder is renamed aside to `.NAME.old-PID-N` first; if the writer dies
//! between the two renames, the next writer renames it back before anything else.
//!
//! Every writer of a result folder (run, sweep, merge, plot, validate) goes through `OutputSet::put`, so
//! adding a file to a result is one more `put` before `commit`.

use serde::Serialize;
use std::ffi::CString;
use std::fs::File;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The manifest's file name, in every result folder.
pub const MANIFEST: &str = "run.json";
/// Files whose presence marks an existing folder as a nitrosim result (older versions wrote no
/// manifest). Any other non-empty folder is never replaced: `--out ~` must not delete a home.
const RESULT_MARKERS: &[&str] = &[MANIFEST, "summary.json", "sweep.json", "validation.json"];

/// Why an output folder cannot be written. `Busy` and `NotOurs` are the user's to fix (exit 2).
#[derive(Debug)]
pub enum OutputError {
    /// Another process holds the folder's lock.
    Busy {
        dir: PathBuf,
        holder: String,
    },
    /// The path exists and is not a result folder this program may replace.
    NotOurs {
        dir: PathBuf,
        why: String,
    },
    Io(anyhow::Error),
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Busy { dir, holder } => write!(
                f,
                "output folder {} is being written by another nitrosim ({holder}); wait for it to finish or \
                 choose another --out",
                dir.display()
            ),
            OutputError::NotOurs { dir, why } => write!(f, "cannot use {} as an output folder: {why}", dir.display()),
            OutputError::Io(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for OutputError {}

impl From<std::io::Error> for OutputError {
    fn from(e: std::io::Error) -> Self {
        OutputError::Io(e.into())
    }
}

/// Test hook: `NITROSIM_TEST_KILL_AT=<stage>` makes the process kill itself with SIGKILL when it
/// reaches `stage`, so the tests can check what a `kill -9` at that moment leaves behind. It only
/// ever ends this process (exactly what the user asked for by setting it) and writes nothing.
/// Stages: `output-first-file`, `output-before-swap`, `output-after-swap`, `output-between-swaps`
/// (a run's separate pcap folder swapped in, its result not yet), `sweep-after-record`.
pub fn kill_point(stage: &str) {
    if std::env::var_os("NITROSIM_TEST_KILL_AT").is_some_and(|s| s == stage) {
        // SAFETY: plain syscalls on our own process id.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// Whether a process with this id exists (ours or anyone's).
fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// An exclusive lock on `.NAME.lock` beside an output folder, held until dropped (or the process
/// dies: the kernel releases `flock`s with the file descriptor). Dropped, it removes the lock
/// file while still holding it, so a finished writer leaves nothing beside the folder; a killed
/// one leaves the file, unlocked, for the next writer to take and remove.
pub struct OutputLock {
    _file: File,
    path: PathBuf,
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Unlinked before the descriptor closes: a writer that opened this file meanwhile finds,
        // once it holds the lock, that the name no longer leads to it, and starts again. Only our
        // own file: if someone removed it under us and another writer locked a new one, that one
        // is theirs.
        if names_open_file(&self.path, &self._file) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether `path` itself (not a link's target) is the file `file` has open (same device and inode).
fn names_open_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::symlink_metadata(path), file.metadata()) {
        (Ok(named), Ok(open)) => named.dev() == open.dev() && named.ino() == open.ino(),
        _ => false,
    }
}

/// `DIR` -> `.DIR.TAG` beside it.
pub fn sibling(dir: &Path, tag: &str) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dir.with_file_name(format!(".{name}.{tag}"))
}

/// Longest folder name: `.NAME.tmp-PID-N` beside it must stay within the usual 255-byte limit.
const MAX_NAME_BYTES: usize = 200;

/// `path` made absolute against the current folder, with `.` and `..` resolved lexically (as
/// [`prepare`] names folders: links are not followed), so that two paths can be compared.
pub fn absolute_lexical(path: &Path) -> std::io::Result<PathBuf> {
    let abs = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir()?.join(path) };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Make `dir` an absolute path with a parent and a file name ([`absolute_lexical`]) so siblings
/// can be named.
fn normalise(dir: &Path) -> Result<PathBuf, OutputError> {
    let out = absolute_lexical(dir)?;
    let Some(name) = out.file_name().filter(|_| out.parent().is_some()) else {
        return Err(OutputError::NotOurs { dir: dir.to_path_buf(), why: "it is the root folder".into() });
    };
    if name.len() > MAX_NAME_BYTES {
        return Err(OutputError::NotOurs {
            dir: dir.to_path_buf(),
            why: format!(
                "its name is {} bytes long; at most {MAX_NAME_BYTES} (the lock file and temporary folder beside it \
                 add to the name, and file systems allow 255)",
                name.len()
            ),
        });
    }
    Ok(out)
}

/// Attempts at taking a lock whose file a finishing writer removed under us; each retry means
/// another writer finished in between, so a few are plenty.
const LOCK_ATTEMPTS_MAX: u32 = 16;

pub fn lock(dir: &Path) -> Result<OutputLock, OutputError> {
    let path = sibling(dir, "lock");
    for _ in 0..LOCK_ATTEMPTS_MAX {
        // Not through a symbolic link: a planted `.NAME.lock -> ~/file` must not be truncated.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => OutputError::NotOurs {
                    dir: dir.to_path_buf(),
                    why: format!("its lock file {} is a symbolic link; remove it", path.display()),
                },
                _ => OutputError::Io(anyhow::anyhow!("cannot create the lock file {}: {e}", path.display())),
            })?;
        if let Some(lock) = hold(dir, &path, file)? {
            return Ok(lock);
        }
    }
    Err(OutputError::Io(anyhow::anyhow!(
        "cannot lock {}: its lock file was replaced {LOCK_ATTEMPTS_MAX} times while taking it",
        path.display()
    )))
}

/// Lock `file`, opened as `path`. `None` when the name no longer leads to it: its holder
/// removed it between our open and our lock, so this lock guards nothing and the one the name
/// now leads to must be taken instead.
fn hold(dir: &Path, path: &Path, mut file: File) -> Result<Option<OutputLock>, OutputError> {
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(path).unwrap_or_default();
            let holder = holder.trim();
            return Err(OutputError::Busy {
                dir: dir.to_path_buf(),
                holder: if holder.is_empty() { "lock held".into() } else { holder.to_string() },
            });
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(OutputError::Io(anyhow::anyhow!("cannot lock {}: {e}", path.display())));
        }
    }
    if !names_open_file(path, &file) {
        return Ok(None);
    }
    // Who holds it, for the message a refused writer prints; informational only.
    let _ = file.set_len(0);
    let _ = writeln!(file, "pid {}", std::process::id());
    Ok(Some(OutputLock { _file: file, path: path.to_path_buf() }))
}

/// Remove temporaries of `dir` left by writers that died, and put back a previous result that a
/// writer killed between its two renames had moved aside. Call with the lock held.
fn recover(dir: &Path) -> Result<(), OutputError> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let Some(parent) = dir.parent() else { return Ok(()) };
    let Ok(entries) = std::fs::read_dir(parent) else { return Ok(()) };
    let mut aside = Vec::new();
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        for tag in ["tmp", "old"] {
            let Some(rest) = file.strip_prefix(&format!(".{name}.{tag}-")) else { continue };
            let pid: i32 = rest.split('-').next().and_then(|p| p.parse().ok()).unwrap_or(0);
            if pid as u32 == std::process::id() || pid_alive(pid) {
                continue;
            }
            if tag == "old" {
                aside.push(e.path());
            } else {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    for old in aside {
        if std::fs::symlink_metadata(dir).is_err() {
            std::fs::rename(&old, dir)?;
        } else {
            let _ = std::fs::remove_dir_all(&old);
        }
    }
    Ok(())
}

/// Check that `dir` may be replaced: absent, an empty folder, or a nitrosim result.
fn check_replaceable(dir: &Path, shown: &Path) -> Result<(), OutputError> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if !meta.is_dir() {
        return Err(OutputError::NotOurs {
            dir: shown.to_path_buf(),
            why: "it exists and is not a folder (a file or a symbolic link)".into(),
        });
    }
    let mut entries = std::fs::read_dir(dir)?.peekable();
    if entries.peek().is_none() || RESULT_MARKERS.iter().any(|m| dir.join(m).exists()) {
        return Ok(());
    }
    Err(OutputError::NotOurs {
        dir: shown.to_path_buf(),
        why: "it is a non-empty folder that holds no nitrosim result (no run.json); the whole folder is replaced \
              by each run, so choose a new or empty folder"
            .into(),
    })
}

/// Check an output folder can be written, before any simulating: refuses a file, a foreign
/// folder, an uncreatable parent and a folder another writer holds. Returns the lock.
pub fn prepare(dir: &Path) -> Result<(PathBuf, OutputLock), OutputError> {
    let abs = normalise(dir)?;
    let parent = abs.parent().expect("normalised paths have a parent");
    std::fs::create_dir_all(parent).map_err(|e| OutputError::NotOurs {
        dir: dir.to_path_buf(),
        why: format!("cannot create its parent folder: {e}"),
    })?;
    check_replaceable(&abs, dir)?;
    let lock = lock(&abs)?;
    recover(&abs)?;
    Ok((abs, lock))
}

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// A result folder being written: files go into a temporary sibling until `commit` swaps it in.
/// Dropped without `commit`, it removes its temporary folder and leaves the old result as it was.
pub struct OutputSet {
    dir: PathBuf,
    shown: PathBuf,
    tmp: PathBuf,
    files: Vec<(String, u64)>,
    committed: bool,
    /// Removed after a successful swap, while the lock is still held (a sweep's finished runs).
    remove_after_commit: Vec<PathBuf>,
    _lock: OutputLock,
}

/// What `run.json` says besides the file list.
#[derive(Serialize)]
pub struct Manifest {
    /// run, sweep, merge, plot or validate.
    pub command: &'static str,
    pub scenario: String,
    pub scenario_file: String,
    /// FNV-1a of the scenario text, the overrides and the seed (or the sweep hash).
    pub scenario_hash: String,
    pub seed: u64,
    pub sets: Vec<String>,
}

impl OutputSet {
    /// Lock `dir` and start a fresh temporary folder beside it.
    pub fn begin(dir: &Path) -> Result<OutputSet, OutputError> {
        let (abs, lock) = prepare(dir)?;
        Self::begin_locked(dir, abs, lock)
    }

    /// As `begin`, with a lock taken earlier by `prepare` (checked before simulating).
    pub fn begin_locked(shown: &Path, abs: PathBuf, lock: OutputLock) -> Result<OutputSet, OutputError> {
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let tmp = sibling(&abs, &format!("tmp-{}-{n}", std::process::id()));
        std::fs::create_dir(&tmp)
            .map_err(|e| OutputError::Io(anyhow::anyhow!("cannot create {}: {e}", tmp.display())))?;
        Ok(OutputSet {
            dir: abs,
            shown: shown.to_path_buf(),
            tmp,
            files: Vec::new(),
            committed: false,
            remove_after_commit: Vec::new(),
            _lock: lock,
        })
    }

    /// The folder as the user named it.
    pub fn shown_dir(&self) -> &Path {
        &self.shown
    }

    /// The final folder, absolute.
    pub fn final_dir(&self) -> &Path {
        &self.dir
    }

    /// The temporary folder being filled (for files added by linking, e.g. sweep run records).
    pub fn staging(&self) -> &Path {
        &self.tmp
    }

    /// Write one file (`name` may hold `/` for a subfolder) of the set.
    pub fn put(&mut self, name: &str, write: &dyn Fn(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
        let p = self.tmp.join(name);
        let result = (|| {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut w = std::io::BufWriter::new(File::create(&p)?);
            write(&mut w)?;
            let file = w.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            file.metadata().map(|m| m.len())
        })();
        let bytes = result.map_err(|e| anyhow::anyhow!("cannot write {}: {e}", self.shown.join(name).display()))?;
        self.record(name, bytes);
        Ok(())
    }

    /// Add an existing file under `name` (a hard link when possible, else a copy).
    pub fn link(&mut self, name: &str, from: &Path) -> anyhow::Result<()> {
        let p = self.tmp.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::hard_link(from, &p).is_err() {
            // A failure names both ends: reading the one, or writing the other (a full disk).
            std::fs::copy(from, &p).map_err(|e| {
                anyhow::anyhow!("cannot copy {} into {}: {e}", from.display(), self.shown.join(name).display())
            })?;
        }
        // Linked files (sweep run records) are counted in the manifest's `extra`, not listed.
        Ok(())
    }

    fn record(&mut self, name: &str, bytes: u64) {
        if self.files.is_empty() {
            kill_point("output-first-file");
        }
        self.files.push((name.to_string(), bytes));
    }

    /// Paths of the files written so far, as they will be once committed.
    pub fn written(&self) -> Vec<PathBuf> {
        self.files.iter().map(|(n, _)| self.shown.join(n)).collect()
    }

    /// Write the manifest and swap the set in. Returns the files, as named by the user's path.
    pub fn commit(self, manifest: &Manifest, extra: serde_json::Value) -> anyhow::Result<Vec<PathBuf>> {
        self.seal(manifest, extra)?.swap()
    }

    /// Write the manifest: the set is complete and waits only to be swapped in. Two sets of one
    /// run (`run --pcap DIR` apart from `--out`) are both sealed before either is swapped, so a
    /// failure while writing either (a full disk) leaves both previous folders as they were.
    pub fn seal(mut self, manifest: &Manifest, extra: serde_json::Value) -> anyhow::Result<SealedSet> {
        let mut files = self.files.clone();
        files.sort();
        let mut meta = serde_json::json!({
            "nitrosim_version": env!("CARGO_PKG_VERSION"),
            "manifest": manifest,
            "files": files.iter().map(|(n, b)| serde_json::json!({"name": n, "bytes": b})).collect::<Vec<_>>(),
        });
        if !extra.is_null() {
            meta["extra"] = extra;
        }
        self.put(MANIFEST, &|w| {
            serde_json::to_writer_pretty(&mut *w, &meta)?;
            w.write_all(b"\n")
        })?;
        sync_dir(&self.tmp);
        Ok(SealedSet(self))
    }

    /// Remove the folder `path` once the set is committed, before the lock is released: a writer
    /// waiting for the lock must not find it half removed.
    pub fn remove_after_commit(&mut self, path: PathBuf) {
        self.remove_after_commit.push(path);
    }
}

/// An output set with its manifest written ([`OutputSet::seal`]); dropped unswapped, it is
/// removed as an unfinished set is.
#[must_use = "swap() it in, or it is removed when dropped"]
pub struct SealedSet(OutputSet);

impl SealedSet {
    /// Swap the set in. Returns the files, as named by the user's path.
    pub fn swap(mut self) -> anyhow::Result<Vec<PathBuf>> {
        let set = &mut self.0;
        kill_point("output-before-swap");
        swap_in(&set.tmp, &set.dir)
            .map_err(|e| anyhow::anyhow!("cannot move the results into {}: {e}", set.shown.display()))?;
        set.committed = true;
        for p in &set.remove_after_commit {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(set.written())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Exchange two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let ca = CString::new(a.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    let cb = CString::new(b.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: two valid NUL-terminated paths; the syscall reads them only.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE as libc::c_uint,
        )
    };
    if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// Put the complete folder `tmp` in place of `dir`, then remove the old one.
fn swap_in(tmp: &Path, dir: &Path) -> std::io::Result<()> {
    let parent = dir.parent().expect("normalised");
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::rename(tmp, dir)?;
        sync_dir(parent);
        kill_point("output-after-swap");
        return Ok(());
    }
    if exchange(tmp, dir).is_ok() {
        sync_dir(parent);
        kill_point("output-after-swap");
        // `tmp` now holds the previous result; a kill here leaves it for the next writer to remove.
        let _ = std::fs::remove_dir_all(tmp);
        return Ok(());
    }
    // No exchange on this filesystem: old aside, new in place, old removed. `recover` repairs a
    // kill between the two renames.
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let old = sibling(dir, &format!("old-{}-{n}", std::process::id()));
    std::fs::rename(dir, &old)?;
    std::fs::rename(tmp, dir)?;
    sync_dir(parent);
    kill_point("output-after-swap");
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// FNV-1a of everything that defines a run, as 16 hex digits.
pub fn scenario_hash(text: &str, sets: &[String], seed: u64) -> String {
    let mut input = text.to_string();
    for s in sets {
        input.push_str("\n--set ");
        input.push_str(s);
    }
    input.push_str(&format!("\n--seed {seed}"));
    format!("{:016x}", crate::engine::rng::fnv1a(input.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_replaces_the_old_one_whole_and_a_dropped_set_changes_nothing() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        let m = Manifest {
            command: "run",
            scenario: "x".into(),
            scenario_file: "x.ron".into(),
            scenario_hash: "0".into(),
            seed: 1,
            sets: vec![],
        };
        let mut s = OutputSet::begin(&dir).unwrap();
        s.put("a.txt", &|w| w.write_all(b"one")).unwrap();
        s.put("b.txt", &|w| w.write_all(b"one")).unwrap();
        s.commit(&m, serde_json::Value::Null).unwrap();
        // A second writer while the first holds the lock is refused.
        let first = OutputSet::begin(&dir).unwrap();
        assert!(matches!(OutputSet::begin(&dir), Err(OutputError::Busy { .. })));
        drop(first);
        let mut s = OutputSet::begin(&dir).unwrap();
        s.put("a.txt", &|w| w.write_all(b"two")).unwrap();
        drop(s);
        assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "one");
        let mut s = OutputSet::begin(&dir).unwrap();
        s.put("a.txt", &|w| w.write_all(b"two")).unwrap();
        s.commit(&m, serde_json::Value::Null).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "two");
        assert!(!dir.join("b.txt").exists(), "the new set replaces the old one whole");
        let names: Vec<String> =
            std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        assert_eq!(names, ["out"], "a finished writer leaves nothing beside the folder, its lock file included");
        // A foreign folder is never replaced.
        std::fs::write(t.path().join("precious.txt"), "x").unwrap();
        assert!(matches!(OutputSet::begin(t.path()), Err(OutputError::NotOurs { .. })));
    }

    #[test]
    fn a_lock_file_is_removed_by_its_holder_and_a_replaced_one_is_not_trusted() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        let lock_file = t.path().join(".out.lock");
        // A killed writer's file, unlocked, is taken over and removed with the lock.
        std::fs::write(&lock_file, "pid 1\n").unwrap();
        let held = lock(&dir).unwrap();
        assert!(std::fs::read_to_string(&lock_file).unwrap().contains(&std::process::id().to_string()));
        assert!(matches!(lock(&dir), Err(OutputError::Busy { .. })));
        drop(held);
        assert!(!lock_file.exists());
        // A writer that opened the file just before its holder removed it must see that the
        // name now leads elsewhere (and so take the lock again, by the name).
        let held = lock(&dir).unwrap();
        let opened_early = File::open(&lock_file).unwrap();
        assert!(names_open_file(&lock_file, &opened_early));
        drop(held);
        assert!(!names_open_file(&lock_file, &opened_early), "the name is gone");
        let again = lock(&dir).unwrap();
        assert!(!names_open_file(&lock_file, &opened_early), "the name leads to a new file");
        // The early opener gets the flock on the orphan (nobody holds it) but must not keep it.
        assert!(hold(&dir, &lock_file, opened_early).unwrap().is_none());
        // A holder whose file was removed under it, and replaced by another writer's, leaves
        // the other writer's file alone.
        std::fs::remove_file(&lock_file).unwrap();
        let other = lock(&dir).unwrap();
        drop(again);
        assert!(lock_file.exists(), "the other writer's lock file stays");
        assert!(matches!(lock(&dir), Err(OutputError::Busy { .. })));
        drop(other);
        assert!(!lock_file.exists());
        // A planted symbolic link is refused, and its target left untouched.
        let target = t.path().join("precious.txt");
        std::fs::write(&target, "mine").unwrap();
        std::os::unix::fs::symlink(&target, &lock_file).unwrap();
        assert!(matches!(lock(&dir), Err(OutputError::NotOurs { .. })));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine");
    }

    #[test]
    fn a_previous_result_moved_aside_by_a_dead_writer_comes_back() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        std::fs::create_dir(t.path().join(".out.old-999999999-0")).unwrap();
        std::fs::write(t.path().join(".out.old-999999999-0/run.json"), "{}").unwrap();
        std::fs::create_dir(t.path().join(".out.tmp-999999999-1")).unwrap();
        let s = OutputSet::begin(&dir).unwrap();
        assert!(dir.join("run.json").exists());
        assert!(!t.path().join(".out.tmp-999999999-1").exists());
        drop(s);
    }
}
