//! A process's resident memory, threads and open files, from `/proc`
//! (Linux): what the hostile-client run and the soak sample.

/// One sample of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcSample {
    pub rss_kib: u64,
    pub threads: u64,
    pub open_files: u64,
}

/// The process `pid` now; `None` when it is gone.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some(ProcSample {
        rss_kib: field("VmRSS:")?,
        threads: field("Threads:")?,
        open_files: std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_memory_threads_and_files() {
        let s = super::sample(std::process::id()).unwrap();
        assert!(s.rss_kib > 0 && s.threads >= 1 && s.open_files >= 3);
        assert!(super::sample(u32::MAX).is_none());
    }
}
