//! The setup the driver benches share: one [`Driver`] hosting nodes A and
//! B on `[::1]:0` (maintenance off), its loop in its own thread.

use criterion::Criterion;
use mmp2p_core::{Config, Id, ResourceLocator};
use mmp2p_mio::{Driver, DriverEvent, Handle, NodeKey};
use std::net::SocketAddr;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::Duration;

/// Nodes A and B in one running driver.
pub struct TwoNodes {
    /// Commands the loop.
    pub handle: Handle,
    /// The nodes' events.
    pub events: Receiver<DriverEvent>,
    /// Node A and its locator.
    pub a: (NodeKey, ResourceLocator),
    /// Node B and its locator.
    pub b: (NodeKey, ResourceLocator),
    thread: JoinHandle<Driver>,
}

impl TwoNodes {
    /// Binds A and B, lets `setup` prepare them before the loop starts, and starts it.
    pub fn start(setup: impl FnOnce(&mut Driver, NodeKey, NodeKey)) -> TwoNodes {
        let (mut driver, handle, events) = Driver::new().expect("the mio driver creates its poll and waker");
        let config = Config { maintenance: false, ..Config::default() };
        let loopback = SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 0));
        let a =
            driver.add_node(loopback, Id::from_email("a@bench"), config, 1).expect("node A binds a socket on [::1]");
        let b =
            driver.add_node(loopback, Id::from_email("b@bench"), config, 2).expect("node B binds a socket on [::1]");
        setup(&mut driver, a.0, b.0);
        let thread = std::thread::Builder::new()
            .name("mio-driver".into())
            .spawn(move || {
                driver.run().expect("the driver loop polls without error");
                driver
            })
            .expect("the driver thread starts");
        TwoNodes { handle, events, a, b, thread }
    }

    /// Stops the loop; the driver, to read its nodes' counters.
    pub fn finish(self) -> Driver {
        self.handle.shutdown();
        self.thread.join().expect("the driver thread ends without panicking")
    }
}

/// Criterion as both benches run it: 10 samples of 8 s after a 2 s warm-up.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8))
        .configure_from_args()
}
