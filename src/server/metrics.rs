//! Counters behind `GET /metrics`, rendered as Prometheus text.

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct Metrics {
    deliveries: Mutex<BTreeMap<(String, String), u64>>,
    sandbox: Mutex<BTreeMap<String, u64>>,
    jobs: Mutex<BTreeMap<String, u64>>,
    /// Job durations: bucket upper bounds in seconds, counts, sum.
    durations: Mutex<(Vec<u64>, f64, u64)>,
}

const BUCKETS: [f64; 8] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

impl Metrics {
    pub fn delivery(&self, event: &str, outcome: &str) {
        *self
            .deliveries
            .lock()
            .expect("metrics")
            .entry((event.to_string(), outcome.to_string()))
            .or_default() += 1;
    }
    pub fn sandbox_outcome(&self, status: &str) {
        *self
            .sandbox
            .lock()
            .expect("metrics")
            .entry(status.to_string())
            .or_default() += 1;
    }
    pub fn job(&self, outcome: &str, seconds: f64) {
        *self
            .jobs
            .lock()
            .expect("metrics")
            .entry(outcome.to_string())
            .or_default() += 1;
        let mut d = self.durations.lock().expect("metrics");
        if d.0.is_empty() {
            d.0 = vec![0; BUCKETS.len()];
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                d.0[i] += 1;
            }
        }
        d.1 += seconds;
        d.2 += 1;
    }

    pub fn render(&self, queue: &[(String, i64)]) -> String {
        let mut out = String::new();
        out.push_str("# HELP autograder_deliveries_total Webhook deliveries by event and outcome.\n# TYPE autograder_deliveries_total counter\n");
        for ((event, outcome), n) in self.deliveries.lock().expect("metrics").iter() {
            out.push_str(&format!(
                "autograder_deliveries_total{{event=\"{event}\",outcome=\"{outcome}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP autograder_jobs Jobs in the queue by state.\n# TYPE autograder_jobs gauge\n");
        for (state, n) in queue {
            out.push_str(&format!("autograder_jobs{{state=\"{state}\"}} {n}\n"));
        }
        out.push_str("# HELP autograder_job_outcomes_total Jobs finished by outcome.\n# TYPE autograder_job_outcomes_total counter\n");
        for (outcome, n) in self.jobs.lock().expect("metrics").iter() {
            out.push_str(&format!("autograder_job_outcomes_total{{outcome=\"{outcome}\"}} {n}\n"));
        }
        out.push_str("# HELP autograder_sandbox_runs_total Sandbox runs by test status.\n# TYPE autograder_sandbox_runs_total counter\n");
        for (status, n) in self.sandbox.lock().expect("metrics").iter() {
            out.push_str(&format!("autograder_sandbox_runs_total{{status=\"{status}\"}} {n}\n"));
        }
        let d = self.durations.lock().expect("metrics");
        out.push_str("# HELP autograder_job_duration_seconds Time from claim to done.\n# TYPE autograder_job_duration_seconds histogram\n");
        for (i, b) in BUCKETS.iter().enumerate() {
            let n = d.0.get(i).copied().unwrap_or(0);
            out.push_str(&format!("autograder_job_duration_seconds_bucket{{le=\"{b}\"}} {n}\n"));
        }
        out.push_str(&format!(
            "autograder_job_duration_seconds_bucket{{le=\"+Inf\"}} {}\n",
            d.2
        ));
        out.push_str(&format!(
            "autograder_job_duration_seconds_sum {}\nautograder_job_duration_seconds_count {}\n",
            d.1, d.2
        ));
        out
    }
}
