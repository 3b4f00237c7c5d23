//! `PURPOSELINT_TIMINGS=1` prints how long each phase of a check took, to stderr: for
//! performance reports from users' repositories, which we cannot profile ourselves.

use std::time::Instant;

pub struct Phases {
    enabled: bool,
    last: Instant,
}

impl Phases {
    pub fn start() -> Self {
        Phases {
            enabled: std::env::var_os("PURPOSELINT_TIMINGS").is_some(),
            last: Instant::now(),
        }
    }

    /// Ends the phase running since the last mark.
    pub fn mark(&mut self, phase: &str) {
        if self.enabled {
            let ms = self.last.elapsed().as_secs_f64() * 1e3;
            eprintln!("timing: {phase:<8} {ms:>9.1} ms");
            self.last = Instant::now();
        }
    }
}
