//! The demo's figures per step and the summary table.

use std::fmt::Write as _;
use std::time::Duration;

/// What one step of the demo did.
pub struct StepFigures {
    /// The step's name.
    pub name: String,
    /// Operations attempted.
    pub ops: usize,
    /// Operations that succeeded.
    pub ok: usize,
    /// Overlay hops of the operations that report them.
    pub hops: Vec<u8>,
    /// Time each timed operation took.
    pub latencies: Vec<Duration>,
    /// Datagrams the live nodes sent during the step.
    pub datagrams: u64,
    /// A check of the whole step failed.
    pub failed: bool,
}

impl StepFigures {
    /// No operations yet.
    pub fn new(name: &str) -> StepFigures {
        StepFigures {
            name: name.to_owned(),
            ops: 0,
            ok: 0,
            hops: Vec::new(),
            latencies: Vec::new(),
            datagrams: 0,
            failed: false,
        }
    }

    /// A successful operation with its hops (if any) and latency.
    pub fn record(&mut self, hops: Option<u8>, latency: Duration) {
        self.record_result(true, hops, latency);
    }

    /// An operation, successful or not.
    pub fn record_result(&mut self, ok: bool, hops: Option<u8>, latency: Duration) {
        self.ops += 1;
        self.ok += usize::from(ok);
        self.hops.extend(hops);
        if !latency.is_zero() {
            self.latencies.push(latency);
        }
    }

    /// A check of the whole step failed.
    pub fn fail(&mut self) {
        self.failed = true;
    }

    /// Every operation and check succeeded.
    pub fn succeeded(&self) -> bool {
        !self.failed && self.ok == self.ops
    }
}

/// The summary: one row per step.
pub fn render(steps: &[StepFigures]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20} {:>4} {:>4} {:>10} {:>9} {:>11} {:>10} {:>10}  result",
        "step", "ops", "ok", "hops mean", "hops max", "ms mean", "ms max", "datagrams"
    );
    let _ = writeln!(out, "{}", "-".repeat(96));
    for step in steps {
        let (hops_mean, hops_max) = if step.hops.is_empty() {
            ("-".to_owned(), "-".to_owned())
        } else {
            let mean = step.hops.iter().map(|&h| f64::from(h)).sum::<f64>() / step.hops.len() as f64;
            (format!("{mean:.2}"), step.hops.iter().max().map_or(0, |&h| h).to_string())
        };
        let (ms_mean, ms_max) = if step.latencies.is_empty() {
            ("-".to_owned(), "-".to_owned())
        } else {
            let total: Duration = step.latencies.iter().sum();
            let mean = total.as_secs_f64() * 1000.0 / step.latencies.len() as f64;
            let max = step.latencies.iter().max().map_or(0.0, |d| d.as_secs_f64() * 1000.0);
            (format!("{mean:.2}"), format!("{max:.2}"))
        };
        let result = if step.succeeded() { "ok" } else { "FAILED" };
        let _ = writeln!(
            out,
            "{:<20} {:>4} {:>4} {:>10} {:>9} {:>11} {:>10} {:>10}  {result}",
            step.name, step.ops, step.ok, hops_mean, hops_max, ms_mean, ms_max, step.datagrams
        );
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_succeeds_only_if_every_operation_and_check_did() {
        let mut step = StepFigures::new("search");
        step.record(Some(2), Duration::from_millis(3));
        step.record(Some(4), Duration::from_millis(1));
        assert!(step.succeeded());
        let table = render(std::slice::from_ref(&step));
        assert!(table.contains("3.00") && table.contains("ok"), "{table}");
        step.record_result(false, None, Duration::ZERO);
        assert!(!step.succeeded());
        let mut checked = StepFigures::new("join");
        checked.fail();
        assert!(!checked.succeeded());
        assert!(render(&[checked]).contains("FAILED"));
    }
}
