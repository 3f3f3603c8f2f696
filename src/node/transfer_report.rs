//! The transfers' reports: the entries they list, and their text for a
//! person — a download's progress as a bar with its rate, time left and
//! owners.

use super::report::Report;
use serde::Serialize;
use std::fmt::Write as _;

/// A content the owners of a name named, in the `contents` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContentEntry {
    /// Its BLAKE3 root, in hex.
    pub root: String,
    /// Its size in bytes.
    pub size: u64,
    /// How many owners named it.
    pub owners: usize,
}

/// A download in the `transfers` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransferEntry {
    /// Its number.
    pub id: u64,
    /// The file's name.
    pub name: String,
    /// Bytes verified.
    pub bytes: u64,
    /// The file's size.
    pub size: u64,
    /// Owners fetched from.
    pub owners: usize,
}

/// Width of the progress bar in text.
const BAR: usize = 24;

/// `bytes` in the largest unit that keeps it at least 1.
fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// `done` of `total` as a bar of [`BAR`] cells.
fn bar(done: u64, total: u64) -> String {
    let filled = if total == 0 { BAR } else { (done.min(total) as u128 * BAR as u128 / total as u128) as usize };
    format!("[{}{}]", "#".repeat(filled), "-".repeat(BAR - filled))
}

impl Report {
    /// The text of a transfer report (empty for the others).
    pub(super) fn transfer_text(&self) -> String {
        match self {
            Report::Contents { name, contents, .. } => {
                let mut out = format!("{name}: {} contents", contents.len());
                for c in contents {
                    let _ = write!(out, "\n  {} {} from {} owners", &c.root[..16], human(c.size), c.owners);
                }
                out
            }
            Report::GetStarted { id, name, size, owners, path, resumed, .. } => {
                let resumed = if *resumed > 0 { format!(", {} already here", human(*resumed)) } else { String::new() };
                format!("get #{id} {name} ({}) from {owners} owners into {path}{resumed}", human(*size))
            }
            Report::GetProgress { id, name, bytes, size, rate, eta_ms, owners } => {
                let percent = if *size == 0 { 100 } else { bytes * 100 / size };
                let eta = eta_ms.map_or_else(|| "--".to_owned(), |ms| format!("{:.0} s", ms as f64 / 1000.0));
                format!(
                    "#{id} {name} {} {percent:>3}% {} of {}, {}/s, ETA {eta}, {owners} owners",
                    bar(*bytes, *size),
                    human(*bytes),
                    human(*size),
                    human(*rate)
                )
            }
            Report::LeafRejected { id, leaf, from } => {
                format!("#{id} leaf {leaf} from {from} was bad: fetching it again")
            }
            Report::GetDone { id, name, path, root, size, ms, .. } => {
                format!(
                    "#{id} {name}: done, {} in {:.1} s, {path} (root {})",
                    human(*size),
                    *ms as f64 / 1000.0,
                    &root[..16]
                )
            }
            Report::GetFailed { name, reason, .. } => format!("{name}: {reason}"),
            Report::Transfers { downloads, uploads, .. } => {
                let mut out = format!("{} downloads, {uploads} uploads", downloads.len());
                for d in downloads {
                    let _ = write!(
                        out,
                        "\n  #{} {} {} {} of {}, {} owners",
                        d.id,
                        d.name,
                        bar(d.bytes, d.size),
                        human(d.bytes),
                        human(d.size),
                        d.owners
                    );
                }
                out
            }
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_as_a_bar_with_rate_and_time_left() {
        let report = Report::GetProgress {
            id: 3,
            name: "song.mp3".into(),
            bytes: 3 << 20,
            size: 4 << 20,
            rate: 1 << 20,
            eta_ms: Some(1000),
            owners: 2,
        };
        assert_eq!(
            report.text(),
            "#3 song.mp3 [##################------]  75% 3.0 MiB of 4.0 MiB, 1.0 MiB/s, ETA 1 s, 2 owners"
        );
    }
}
