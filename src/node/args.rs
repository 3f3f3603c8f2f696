//! The options of `mmp2p node` and the checks of their values.

use super::control;
use clap::Args;
use mmp2p_core::{Config, Id};
use std::net::SocketAddrV6;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `mmp2p node`.
#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Address to listen on, [ADDR]:PORT: this host's IPv6 address (other
    /// nodes reach it there); port 0 picks a free port.
    #[arg(long, value_parser = listen_address)]
    pub(super) listen: SocketAddrV6,
    /// The user's e-mail address; the node's ID is its MD5.
    #[arg(long, required_unless_present = "key", conflicts_with = "key", value_parser = email_arg)]
    pub(super) email: Option<String>,
    /// Run as the key node (ID 0), which founds the ring.
    #[arg(long)]
    pub(super) key: bool,
    /// Read the password for --email from the first line of this file
    /// (else from MMP2P_PASSWORD, else a prompt when standard input is a terminal).
    #[arg(long, value_name = "PATH", requires = "email")]
    pub(super) password_file: Option<PathBuf>,
    /// Where a node without --email keeps its random identity key
    /// [default: identity.key beside the access file].
    #[arg(long, value_name = "PATH", conflicts_with = "email")]
    pub(super) identity_file: Option<PathBuf>,
    /// The key node's address, [ADDR]:PORT, to join through.
    #[arg(long, value_parser = ipv6_address)]
    pub(super) key_node: Option<SocketAddrV6>,
    /// The bootstrap list: read at start, written after each join and at exit.
    #[arg(long, default_value = "access.dat")]
    pub(super) access_file: PathBuf,
    /// Share the names of the files in this directory (rescanned every STORE period).
    #[arg(long, value_name = "DIR")]
    pub(super) share: Option<PathBuf>,
    /// Serve the shared files to friends only (default: to anyone who asks).
    #[arg(long)]
    pub(super) share_friends_only: bool,
    /// Where `get` writes downloads (beside their partial files while they run).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(super) out: PathBuf,
    /// Where the messenger keeps contacts, groups, requests, undelivered
    /// messages and conversations between runs [default: `mmp2p-ID` (the
    /// first 8 hex digits of the node's ID) beside the access file].
    #[arg(long, value_name = "DIR")]
    pub(super) data_dir: Option<PathBuf>,
    /// A friend, EMAIL=[ADDR]:PORT (repeatable).
    #[arg(long = "friend", value_name = "EMAIL=[ADDR]:PORT", value_parser = friend_arg)]
    pub(super) friends: Vec<(String, SocketAddrV6)>,
    /// Read and write JSON lines instead of text.
    #[arg(long)]
    pub(super) json: bool,
    /// Backup branches per side (1–5).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub(super) backups: u8,
    /// Seconds between stabilisation rounds with each neighbour (liveness probes).
    #[arg(long, default_value = "5", value_parser = seconds)]
    pub(super) liveness_period: Duration,
    /// Seconds between STOREs of the shared files (locators live three periods).
    #[arg(long, default_value = "60", value_parser = seconds)]
    pub(super) store_period: Duration,
    /// Seed for the node's random choices (default: from the operating system's random source).
    #[arg(long)]
    pub(super) seed: Option<u64>,
}

fn ipv6_address(input: &str) -> Result<SocketAddrV6, String> {
    control::parse_address(input).map_err(|e| e.to_string())
}

fn listen_address(input: &str) -> Result<SocketAddrV6, String> {
    let addr = ipv6_address(input)?;
    if addr.ip().is_unspecified() || addr.ip().is_multicast() {
        return Err(format!("{} cannot be a node's address: give this host's own IPv6 address", addr.ip()));
    }
    Ok(addr)
}

fn email_arg(input: &str) -> Result<String, String> {
    control::checked_email(input).map_err(|e| e.to_string())
}

fn friend_arg(input: &str) -> Result<(String, SocketAddrV6), String> {
    control::parse_friend(input).map_err(|e| e.to_string())
}

fn seconds(input: &str) -> Result<Duration, String> {
    match input.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.01..=86_400.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err("expected seconds between 0.01 and 86400".to_owned()),
    }
}

impl NodeArgs {
    /// The core configuration these options ask for.
    pub(super) fn config(&self) -> Config {
        Config {
            backups: self.backups,
            stabilise_interval: self.liveness_period,
            store_interval: self.store_period,
            store_lifetime: self.store_period * 3,
            ..Config::default()
        }
    }

    /// The node's ID: the MD5 of the e-mail address, or 0 for the key node.
    pub(super) fn id(&self) -> Id {
        self.email.as_deref().map_or(Id::KEY_NODE, Id::from_email)
    }

    /// The messenger's data directory: `--data-dir`, or `mmp2p-ID` (the
    /// first 8 hex digits of `id`) in the access file's directory.
    /// Who may fetch the shared files.
    pub(super) fn audience(&self) -> mmp2p_core::tables::uploads::Audience {
        use mmp2p_core::tables::uploads::Audience;
        if self.share_friends_only {
            Audience::Friends
        } else {
            Audience::Anyone
        }
    }

    pub(super) fn data_dir(&self, id: Id) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            let name = format!("mmp2p-{}", &id.to_string()[..8]);
            self.access_file.parent().map_or_else(|| PathBuf::from(&name), |dir| dir.join(&name))
        })
    }

    /// The key file of a node without an e-mail: `--identity-file`, or
    /// `identity.key` in the access file's directory.
    pub(super) fn identity_file(&self) -> PathBuf {
        self.identity_file.clone().unwrap_or_else(|| {
            self.access_file.parent().map_or_else(|| PathBuf::from("identity.key"), |dir| dir.join("identity.key"))
        })
    }
}
