//! Transfers in the program: shared files hashed and served, `get` (search,
//! ask each owner what it shares under the name, fetch the content most of
//! them have from all of those), progress, cancel, and downloads resumed
//! after a restart from their partial files and bitmaps.

use super::data_dir::{DataDir, DataFile, SavedDownload};
use super::files::{DiskStorage, PartialFile, SharedFile};
use super::report::{ContentEntry, Report, TransferEntry};
use super::{elapsed_ms, Input, Pending, Session};
use mmp2p_core::content::ContentId;
use mmp2p_core::tables::uploads::Audience;
use mmp2p_core::{CommandError, Event, Id, Node, RequestId};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddrV6;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant as Clock};

/// How often a running download reports its progress.
pub(super) const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// What the session keeps of the transfers.
pub(super) struct Transfers {
    /// The files the driver reads and writes.
    pub disk: DiskStorage,
    data: Option<DataDir>,
    out: PathBuf,
    audience: Audience,
    /// `get`s in progress, by their number (the command's tag).
    gets: HashMap<u64, Get>,
    /// The core's content queries, by request: the `get` they serve.
    queries: HashMap<RequestId, u64>,
    /// The core's downloads, by request: the `get` they serve.
    downloads: HashMap<RequestId, u64>,
    /// Contents owners named, with those owners, for `get ROOT`.
    found: HashMap<ContentId, (String, Vec<SocketAddrV6>)>,
    /// Shared files hashed, by name.
    shared: BTreeMap<String, Arc<SharedFile>>,
    /// Downloads to resume once in the ring.
    pub resume: Vec<SavedDownload>,
    /// When progress is next reported.
    pub next_progress: Option<Clock>,
}

/// One `get`.
struct Get {
    /// The command's tag (none for a download resumed at start).
    req: Option<u64>,
    name: String,
    /// A resumed download: the content it fetches (else the one the owners name most).
    want: Option<ContentId>,
    owners: Vec<SocketAddrV6>,
    asked: usize,
    answers: Vec<(SocketAddrV6, Option<ContentId>)>,
    running: Option<Running>,
}

/// A download under way.
struct Running {
    request: RequestId,
    content: ContentId,
    path: PathBuf,
    owners: Vec<SocketAddrV6>,
    started: Clock,
    last: (Clock, u64),
    rate: f64,
}

/// What a transfer command run inside the loop hands back.
pub(super) enum TransferInput {
    /// Content queries sent for `get`: their requests.
    Asked { get: u64, queries: Vec<RequestId> },
    /// A download started for `get`: its request, content, file and bytes already verified.
    Started { get: u64, result: Result<(RequestId, ContentId, PathBuf, u64), CommandError> },
}

impl Transfers {
    /// Transfers writing downloads (and files sent to our conferences) into `out`, serving to `audience`.
    pub(super) fn new(data: Option<DataDir>, out: PathBuf, audience: Audience) -> Transfers {
        let disk = DiskStorage::default();
        disk.lock().conference_dir = Some(out.clone());
        Transfers {
            disk,
            data,
            out,
            audience,
            gets: HashMap::new(),
            queries: HashMap::new(),
            downloads: HashMap::new(),
            found: HashMap::new(),
            shared: BTreeMap::new(),
            resume: Vec::new(),
            next_progress: None,
        }
    }

    /// True if a shared file has `content`.
    pub(super) fn shares(&self, content: &ContentId) -> bool {
        self.shared.values().any(|s| s.content == *content)
    }

    /// The downloads left unfinished last time, and an error if the file did not read.
    pub(super) fn saved(&self) -> (Vec<SavedDownload>, Option<String>) {
        let Some(data) = &self.data else { return (Vec::new(), None) };
        match data.load::<Vec<SavedDownload>>(DataFile::Downloads) {
            Ok(saved) => (saved, None),
            Err(e) => (Vec::new(), Some(format!("{e}; starting without it"))),
        }
    }

    /// Saves the unfinished downloads.
    fn save(&self) -> Option<String> {
        let data = self.data.as_ref()?;
        let saved: Vec<SavedDownload> = self
            .gets
            .values()
            .filter_map(|get| {
                let running = get.running.as_ref()?;
                Some(SavedDownload {
                    name: get.name.clone(),
                    root: hex(&running.content.root),
                    size: running.content.size,
                    path: running.path.clone(),
                    owners: running.owners.iter().map(ToString::to_string).collect(),
                })
            })
            .collect();
        data.save(DataFile::Downloads, &saved).err().map(|e| e.to_string())
    }
}

/// `bytes` in lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A root given in hex (64 digits).
fn parse_root(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut root = [0u8; 32];
    for (i, byte) in root.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(root)
}

/// Where a download of `name` goes in `dir`: the name, or the name with a
/// number if a finished file already has it.
fn target_path(dir: &Path, name: &str) -> PathBuf {
    let plain = dir.join(name);
    if !plain.exists() {
        return plain;
    }
    (1..).map(|n| dir.join(format!("{name}.{n}"))).find(|p| !p.exists()).unwrap_or(plain)
}

impl Session {
    /// Hashes the shared directory's files not hashed yet (or changed) and
    /// serves them; stops serving those gone.
    pub(super) fn serve_shared(&mut self, dir: &Path, names: &[String]) {
        let audience = self.transfers.audience;
        let mut gone: Vec<String> = self.transfers.shared.keys().filter(|n| !names.contains(n)).cloned().collect();
        for name in names {
            let path = dir.join(name);
            let stamp = std::fs::metadata(&path).ok().map(|m| (m.len(), m.modified().ok()));
            if self.transfers.shared.get(name).is_some_and(|s| Some(s.stamp) == stamp) {
                continue;
            }
            match SharedFile::hash(&path) {
                Ok(shared) => {
                    let (content, key) = (shared.content, Id::from_file_name(name));
                    tracing::info!(%name, size = content.size, root = %hex(&content.root), "serving");
                    if let Some(old) = self.transfers.shared.insert(name.clone(), Arc::new(shared)) {
                        gone.retain(|n| n != name);
                        let old = old.content;
                        self.command(move |node, _| {
                            node.unserve_content(&old);
                        });
                    }
                    let shared = self.transfers.shared[name].clone();
                    self.transfers.disk.lock().served.insert(content, shared);
                    self.command(move |node, _| {
                        if let Err(e) = node.serve_content(key, content, audience) {
                            tracing::warn!(%e, "not served");
                        }
                    });
                }
                Err(e) => self.error(None, format!("cannot share {}: {e}", path.display())),
            }
        }
        for name in gone {
            if let Some(old) = self.transfers.shared.remove(&name) {
                let content = old.content;
                if !self.conferences.sends(&content) {
                    self.transfers.disk.lock().served.remove(&content);
                }
                self.command(move |node, _| {
                    node.unserve_content(&content);
                });
            }
        }
    }

    /// `get NAME` or `get ROOT`.
    pub(super) fn get(&mut self, req: u64, target: String) {
        if let Some(root) = parse_root(&target) {
            let found = self.transfers.found.iter().find(|(c, _)| c.root == root).map(|(c, f)| (*c, f.clone()));
            let Some((content, (name, owners))) = found else {
                return self.error(Some(req), format!("no owner named content {target}: get its name first"));
            };
            let get =
                Get { req: Some(req), name, want: Some(content), owners, asked: 0, answers: Vec::new(), running: None };
            self.transfers.gets.insert(req, get);
            return self.start_download(req, content);
        }
        let name = target;
        let get = Get {
            req: Some(req),
            name: name.clone(),
            want: None,
            owners: Vec::new(),
            asked: 0,
            answers: Vec::new(),
            running: None,
        };
        self.transfers.gets.insert(req, get);
        self.begin(req, Pending::Get { get: req }, move |node, now| node.search(now, &name));
    }

    /// Resumes the downloads left unfinished: each searches its name again
    /// for owners, keeping those that name its content (and the owners it
    /// had, if none does).
    pub(super) fn resume_downloads(&mut self) {
        for download in std::mem::take(&mut self.transfers.resume) {
            let Some(root) = parse_root(&download.root) else { continue };
            let content = ContentId { root, size: download.size };
            let owners = download.owners.iter().filter_map(|o| o.parse().ok()).collect();
            let get = self.next_req();
            let name = download.name.clone();
            let entry = Get {
                req: None,
                name: name.clone(),
                want: Some(content),
                owners,
                asked: 0,
                answers: Vec::new(),
                running: None,
            };
            self.transfers.gets.insert(get, entry);
            self.transfers.found.insert(content, (name.clone(), Vec::new()));
            self.begin(get, Pending::Get { get }, move |node, now| node.search(now, &name));
        }
    }

    /// A search for `get` found an owner.
    pub(super) fn get_owner(&mut self, get: u64, owner: SocketAddrV6) {
        if let Some(entry) = self.transfers.gets.get_mut(&get) {
            if !entry.owners.contains(&owner) {
                entry.owners.push(owner);
            }
        }
    }

    /// The search for `get` ended: each owner is asked what it shares.
    pub(super) fn get_searched(&mut self, get: u64) {
        let Some(entry) = self.transfers.gets.get(&get) else { return };
        if entry.owners.is_empty() {
            return self.get_failed(get, "no owner found");
        }
        let (owners, key) = (entry.owners.clone(), Id::from_file_name(&entry.name));
        self.ask(move |node, _, now| {
            let queries = owners.iter().filter_map(|owner| node.query_content(now, *owner, key).ok()).collect();
            Input::Transfer(TransferInput::Asked { get, queries })
        });
    }

    pub(super) fn transfer_input(&mut self, input: TransferInput) {
        match input {
            TransferInput::Asked { get, queries } => {
                let Some(entry) = self.transfers.gets.get_mut(&get) else { return };
                entry.asked = queries.len();
                for query in queries {
                    self.transfers.queries.insert(query, get);
                }
                self.maybe_choose(get);
            }
            TransferInput::Started { get, result: Ok((request, content, path, resumed)) } => {
                let Some(entry) = self.transfers.gets.get_mut(&get) else { return };
                self.transfers.downloads.insert(request, get);
                let owners = entry.owners.clone();
                let now = Clock::now();
                entry.running = Some(Running {
                    request,
                    content,
                    path: path.clone(),
                    owners: owners.clone(),
                    started: now,
                    last: (now, resumed),
                    rate: 0.0,
                });
                let report = Report::GetStarted {
                    req: entry.req,
                    id: get,
                    name: entry.name.clone(),
                    root: hex(&content.root),
                    size: content.size,
                    owners: owners.len(),
                    path: path.display().to_string(),
                    resumed,
                };
                self.transfers.next_progress.get_or_insert(now + PROGRESS_EVERY);
                self.report(report);
                if let Some(e) = self.transfers.save() {
                    self.error(None, e);
                }
            }
            TransferInput::Started { get, result: Err(e) } => self.get_failed(get, &format!("cannot start: {e}")),
        }
    }

    /// Once every owner of `get` answered, picks the content and starts.
    fn maybe_choose(&mut self, get: u64) {
        let Some(entry) = self.transfers.gets.get(&get) else { return };
        if entry.answers.len() < entry.asked || entry.running.is_some() {
            return;
        }
        let mut by_content: BTreeMap<ContentId, Vec<SocketAddrV6>> = BTreeMap::new();
        for (owner, content) in &entry.answers {
            if let Some(content) = content {
                by_content.entry(*content).or_default().push(*owner);
            }
        }
        let mut contents: Vec<(ContentId, Vec<SocketAddrV6>)> = by_content.into_iter().collect();
        // Most owners first; among equals, the lowest root.
        contents.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        for (content, owners) in &contents {
            self.transfers.found.insert(*content, (entry.name.clone(), owners.clone()));
        }
        let chosen = match entry.want {
            Some(want) => {
                let named = contents.iter().find(|(c, _)| *c == want).map(|(_, o)| o.clone());
                Some((want, named.unwrap_or_else(|| entry.owners.clone())))
            }
            None => contents.first().cloned(),
        };
        let report = Report::Contents {
            req: entry.req,
            name: entry.name.clone(),
            contents: contents
                .iter()
                .map(|(c, o)| ContentEntry { root: hex(&c.root), size: c.size, owners: o.len() })
                .collect(),
        };
        self.report(report);
        let Some((content, owners)) = chosen.filter(|(_, owners)| !owners.is_empty()) else {
            return self.get_failed(get, "no owner shares it");
        };
        if let Some(entry) = self.transfers.gets.get_mut(&get) {
            entry.owners = owners;
        }
        self.start_download(get, content);
    }

    /// Opens the partial file and starts the core's download of `content`
    /// from `get`'s owners, for the leaves its bitmap lacks.
    fn start_download(&mut self, get: u64, content: ContentId) {
        let Some(entry) = self.transfers.gets.get(&get) else { return };
        let path = match self.transfers.gets.values().filter_map(|g| g.running.as_ref()).find(|r| r.content == content)
        {
            Some(_) => return self.get_failed(get, "already being fetched"),
            None => target_path(&self.transfers.out, &entry.name),
        };
        let partial = match PartialFile::open(&path, content) {
            Ok(partial) => partial,
            Err(e) => return self.get_failed(get, &format!("cannot write {}: {e}", path.display())),
        };
        let (owners, missing, disk) = (entry.owners.clone(), partial.missing(), self.transfers.disk.clone());
        let (resumed, path) = (partial.verified_bytes(), partial.path.clone());
        self.ask(move |node: &mut Node, _, now| {
            // The partial file joins the disk inside the loop, before any of its bytes can arrive.
            let result = node.download(now, content, &owners, &missing).map(|request| {
                disk.lock().downloads.insert(request, partial);
                (request, content, path, resumed)
            });
            Input::Transfer(TransferInput::Started { get, result })
        });
    }

    fn get_failed(&mut self, get: u64, reason: &str) {
        let Some(entry) = self.transfers.gets.remove(&get) else { return };
        self.report(Report::GetFailed { req: entry.req, name: entry.name, reason: reason.to_owned() });
    }

    /// `transfers`.
    pub(super) fn report_transfers(&self, req: u64) {
        let disk = self.transfers.disk.lock();
        let downloads = self
            .transfers
            .gets
            .iter()
            .filter_map(|(id, get)| {
                let running = get.running.as_ref()?;
                let bytes = disk.downloads.get(&running.request).map_or(0, PartialFile::verified_bytes);
                Some(TransferEntry {
                    id: *id,
                    name: get.name.clone(),
                    bytes,
                    size: running.content.size,
                    owners: running.owners.len(),
                })
            })
            .collect();
        drop(disk);
        self.ask(move |node, _, _| {
            super::reply(Report::Transfers { req: Some(req), downloads, uploads: node.uploads().len() })
        });
    }

    /// `get-cancel ID`.
    pub(super) fn cancel_get(&mut self, req: u64, id: u64) {
        let Some(entry) = self.transfers.gets.remove(&id) else {
            return self.error(Some(req), format!("no download #{id}"));
        };
        if let Some(running) = entry.running {
            self.transfers.downloads.remove(&running.request);
            let disk = self.transfers.disk.clone();
            let request = running.request;
            self.command(move |node, now| {
                let _ = node.cancel_download(now, request);
                if let Some(partial) = disk.lock().downloads.remove(&request) {
                    partial.discard();
                }
            });
        }
        if let Some(e) = self.transfers.save() {
            self.error(None, e);
        }
        self.report(Report::GetFailed { req: Some(req), name: entry.name, reason: "cancelled".to_owned() });
    }

    /// The progress of each running download.
    pub(super) fn report_progress(&mut self) {
        let now = Clock::now();
        self.transfers.next_progress = None;
        let mut reports = Vec::new();
        {
            let disk = self.transfers.disk.lock();
            for (id, get) in self.transfers.gets.iter_mut() {
                let Some(running) = get.running.as_mut() else { continue };
                let bytes = disk.downloads.get(&running.request).map_or(0, PartialFile::verified_bytes);
                let seconds = now.saturating_duration_since(running.last.0).as_secs_f64().max(1e-3);
                let recent = bytes.saturating_sub(running.last.1) as f64 / seconds;
                running.rate = if running.rate == 0.0 { recent } else { 0.7 * running.rate + 0.3 * recent };
                running.last = (now, bytes);
                let left = running.content.size.saturating_sub(bytes);
                let eta_ms = (running.rate >= 1.0).then(|| (left as f64 / running.rate * 1000.0) as u64);
                let (name, size, owners) = (get.name.clone(), running.content.size, running.owners.len());
                reports.push(Report::GetProgress {
                    id: *id,
                    name,
                    bytes,
                    size,
                    rate: running.rate as u64,
                    eta_ms,
                    owners,
                });
            }
        }
        if !reports.is_empty() {
            self.transfers.next_progress = Some(now + PROGRESS_EVERY);
        }
        for report in reports {
            self.report(report);
        }
    }

    /// The core's transfer events.
    pub(super) fn transfer_event(&mut self, event: Event) {
        match event {
            Event::ContentInfo { request, owner, content, .. } => {
                let Some(get) = self.transfers.queries.remove(&request) else { return };
                if let Some(entry) = self.transfers.gets.get_mut(&get) {
                    entry.answers.push((owner, content.map(|(c, _)| c)));
                }
                self.maybe_choose(get);
            }
            Event::ContentQueryFailed { request, owner } => {
                let Some(get) = self.transfers.queries.remove(&request) else { return };
                if let Some(entry) = self.transfers.gets.get_mut(&get) {
                    entry.answers.push((owner, None));
                }
                self.maybe_choose(get);
            }
            Event::LeafVerified { request, leaf, .. } => {
                let result = self.transfers.disk.lock().downloads.get_mut(&request).map(|p| p.verified(leaf));
                if let Some(Err(e)) = result {
                    self.error(None, format!("cannot record a verified leaf: {e}"));
                }
            }
            Event::LeafRejected { request, leaf, from } => {
                if let Some(partial) = self.transfers.disk.lock().downloads.get_mut(&request) {
                    let _ = partial.rejected(leaf);
                }
                if let Some(&id) = self.transfers.downloads.get(&request) {
                    self.report(Report::LeafRejected { id, leaf, from: from.to_string() });
                }
            }
            Event::SourceRefused { request, source, reason } => {
                tracing::info!(%source, reason = reason.as_str(), "owner refused");
                self.drop_owner(request, source);
            }
            Event::SourceLost { request, source } => {
                tracing::info!(%source, "owner lost");
                self.drop_owner(request, source);
            }
            Event::DownloadComplete { request, .. } => self.download_done(request),
            Event::DownloadStalled { request } => {
                let Some(get) = self.transfers.downloads.remove(&request) else { return };
                let disk = self.transfers.disk.clone();
                self.command(move |node, now| {
                    let _ = node.cancel_download(now, request);
                    disk.lock().downloads.remove(&request);
                });
                self.get_failed(get, "no owner left; get it again to resume");
            }
            other => tracing::debug!(?other, "event not reported"),
        }
    }

    fn drop_owner(&mut self, request: RequestId, source: SocketAddrV6) {
        let Some(get) = self.transfers.downloads.get(&request) else { return };
        if let Some(running) = self.transfers.gets.get_mut(get).and_then(|g| g.running.as_mut()) {
            running.owners.retain(|o| *o != source);
        }
    }

    fn download_done(&mut self, request: RequestId) {
        let Some(get) = self.transfers.downloads.remove(&request) else { return };
        let Some(entry) = self.transfers.gets.remove(&get) else { return };
        let partial = self.transfers.disk.lock().downloads.remove(&request);
        let (Some(partial), Some(running)) = (partial, entry.running) else { return };
        let report = match partial.finish() {
            Ok(path) => Report::GetDone {
                req: entry.req,
                id: get,
                name: entry.name,
                path: path.display().to_string(),
                root: hex(&running.content.root),
                size: running.content.size,
                ms: elapsed_ms(running.started),
            },
            Err(e) => {
                Report::GetFailed { req: entry.req, name: entry.name, reason: format!("cannot finish the file: {e}") }
            }
        };
        self.report(report);
        if let Some(e) = self.transfers.save() {
            self.error(None, e);
        }
    }
}
