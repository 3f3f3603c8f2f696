//! The demo's transfer step: two users share the same recording; a third
//! searches its name, asks each owner what it shares under it, fetches the
//! content from both at once, and checks the file against its hash.

use super::{ms, Demo, STEP_LIMIT};
use crate::node::files::{PartialFile, SharedFile};
use mmp2p_core::content::ContentId;
use mmp2p_core::tables::uploads::Audience;
use mmp2p_core::{Event, Id};
use std::collections::HashMap;
use std::net::SocketAddrV6;
use std::sync::Arc;
use std::time::Instant as Clock;

/// The file fetched, its size, and who shares and fetches it.
const NAME: &str = "concert-2026.flac";
const SIZE: usize = 4 << 20;
const OWNERS: [usize; 2] = [4, 5];
const FETCHER: usize = 6;

impl Demo {
    /// Two owners serve the same file; a third fetches it from both.
    pub(super) fn transfer(&mut self) -> Result<(), String> {
        let (mut figures, before) = self.begin("file transfer")?;
        let dir = std::env::temp_dir().join(format!("mmp2p-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let bytes: Vec<u8> = (0..SIZE).map(|i| (self.rng.next_u64() >> (i % 56)) as u8).collect();
        let key = Id::from_file_name(NAME);
        for owner in OWNERS {
            let path = dir.join(format!("owner{owner}-{NAME}"));
            std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            let shared = SharedFile::hash(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let content = shared.content;
            self.cluster.disks[owner].lock().served.insert(content, Arc::new(shared));
            let mut names: Vec<&'static str> = self.users[owner].files.clone();
            names.push(NAME);
            self.cluster.command(owner, move |node, now| {
                node.serve_content(key, content, Audience::Anyone)?;
                node.share(now, names.iter().copied()).map(|_| ())
            })?;
            println!("  {:<8} shares {NAME} ({} KiB, root {})", self.users[owner].name, SIZE / 1024, short(&content));
        }
        let started = Clock::now();
        let ok = self.fetch(&dir, key, &bytes)?;
        figures.record_result(ok, None, started.elapsed());
        if !ok {
            figures.fail();
        }
        let _ = std::fs::remove_dir_all(&dir);
        self.end(figures, before)
    }

    /// The fetcher searches, asks, fetches and checks; true if the file is intact.
    fn fetch(&mut self, dir: &std::path::Path, key: Id, bytes: &[u8]) -> Result<bool, String> {
        // The owners' STOREs reach the responsible node within a store period; search until both are found.
        let deadline = Clock::now() + STEP_LIMIT;
        let owners = loop {
            let search = self.cluster.command(FETCHER, |node, now| node.search(now, NAME))?;
            let mut owners: Vec<SocketAddrV6> = Vec::new();
            self.cluster.wait_event(STEP_LIMIT, |_, event| match event {
                Event::SearchResult { request, owner, .. } if *request == search => {
                    owners.push(owner.addr);
                    None
                }
                Event::SearchComplete { request, .. } | Event::SearchFailed { request, .. } if *request == search => {
                    Some(())
                }
                _ => None,
            });
            if owners.len() >= OWNERS.len() || Clock::now() > deadline {
                break owners;
            }
        };
        let fetcher = self.users[FETCHER].name.clone();
        println!("  {fetcher:<8} searched {NAME}: {} owners", owners.len());
        let mut queries = HashMap::new();
        for owner in &owners {
            let owner = *owner;
            queries.insert(self.cluster.command(FETCHER, move |node, now| node.query_content(now, owner, key))?, owner);
        }
        let mut named: HashMap<ContentId, Vec<SocketAddrV6>> = HashMap::new();
        let mut answered = 0;
        self.cluster.wait_event(STEP_LIMIT, |_, event| {
            match event {
                Event::ContentInfo { request, owner, content, .. } if queries.contains_key(request) => {
                    answered += 1;
                    if let Some((content, _)) = content {
                        named.entry(*content).or_default().push(*owner);
                    }
                }
                Event::ContentQueryFailed { request, .. } if queries.contains_key(request) => answered += 1,
                _ => {}
            }
            (answered == queries.len()).then_some(())
        });
        let Some((content, sources)) = named.into_iter().max_by_key(|(_, owners)| owners.len()) else {
            println!("  no owner named a content under {NAME}");
            return Ok(false);
        };
        println!("  {} owners name content {}: fetching from all of them", sources.len(), short(&content));
        let path = dir.join(format!("fetched-{NAME}"));
        let partial = PartialFile::open(&path, content).map_err(|e| format!("{}: {e}", path.display()))?;
        let disk = self.cluster.disks[FETCHER].clone();
        let started = Clock::now();
        let download = self.cluster.command(FETCHER, move |node, now| {
            let request = node.download(now, content, &sources, &[])?;
            disk.lock().downloads.insert(request, partial);
            Ok(request)
        })?;
        let mut from: HashMap<SocketAddrV6, u32> = HashMap::new();
        let done = self.cluster.wait_event(STEP_LIMIT, |_, event| match event {
            Event::LeafVerified { request, from: owner, .. } if *request == download => {
                *from.entry(*owner).or_default() += 1;
                None
            }
            Event::DownloadComplete { request, .. } if *request == download => Some(true),
            Event::DownloadStalled { request } if *request == download => Some(false),
            _ => None,
        });
        let took = started.elapsed();
        let partial = self.cluster.disks[FETCHER].lock().downloads.remove(&download);
        let Some((true, partial)) = done.zip(partial) else {
            println!("  the download did not complete");
            return Ok(false);
        };
        let written = partial.finish().map_err(|e| e.to_string())?;
        let fetched = std::fs::read(&written).map_err(|e| format!("{}: {e}", written.display()))?;
        let intact = fetched == bytes && ContentId::of(&fetched) == content;
        let mut shares: Vec<String> =
            from.iter().map(|(owner, leaves)| format!("{leaves} leaves from {owner}")).collect();
        shares.sort();
        println!(
            "  {fetcher:<8} fetched {} KiB in {:.1} ms ({:.1} MiB/s): {}; BLAKE3 {}",
            SIZE / 1024,
            ms(took),
            SIZE as f64 / (1 << 20) as f64 / took.as_secs_f64(),
            shares.join(", "),
            if intact { "matches the root" } else { "DOES NOT MATCH" }
        );
        Ok(intact && from.len() == OWNERS.len())
    }
}

/// The first 8 hex digits of a content's root.
fn short(content: &ContentId) -> String {
    content.root[..4].iter().map(|b| format!("{b:02x}")).collect()
}
