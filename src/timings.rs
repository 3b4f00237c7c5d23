//! `PURPOSELINT_TIMINGS=1` prints how long each phase of a check took, and the resident
//! memory after it, to stderr: for performance reports from users' repositories, which
//! we cannot profile ourselves.

use std::time::Instant;

pub(crate) struct Phases {
    enabled: bool,
    last: Instant,
}

impl Phases {
    pub(crate) fn start() -> Self {
        Phases {
            enabled: std::env::var_os("PURPOSELINT_TIMINGS").is_some(),
            last: Instant::now(),
        }
    }

    /// Ends the phase running since the last mark.
    pub(crate) fn mark(&mut self, phase: &str) {
        if self.enabled {
            let ms = self.last.elapsed().as_secs_f64() * 1e3;
            let rss = resident_mib()
                .map(|(now, peak)| format!("  rss {now:>6.1} MiB  peak {peak:>6.1} MiB"))
                .unwrap_or_default();
            eprintln!("timing: {phase:<28} {ms:>9.1} ms{rss}");
            self.last = Instant::now();
        }
    }
}

/// Current and peak resident set size, where the OS reports them (Linux).
fn resident_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |key: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace().nth(1)?.parse::<f64>().ok()
    };
    Some((kib("VmRSS:")? / 1024.0, kib("VmHWM:")? / 1024.0))
}
