// A Rust workload for demangling: work::Spinner::spin does the work.
use std::time::{Duration, Instant};

mod work {
    pub struct Spinner(pub u64);

    impl Spinner {
        #[inline(never)]
        pub fn spin(&mut self, until: std::time::Instant) -> u64 {
            while std::time::Instant::now() < until {
                for i in 0..10_000u64 {
                    self.0 = self.0.wrapping_mul(31).wrapping_add(i);
                }
            }
            self.0
        }
    }
}

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let mut s = work::Spinner(1);
    let v = s.spin(Instant::now() + Duration::from_secs_f64(secs));
    std::process::exit((v == 42) as i32);
}
