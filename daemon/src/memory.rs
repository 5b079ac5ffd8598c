//! What processes hold in memory, from Linux's `/proc`: the daemon reports its own and its
//! language server's in `status`, and the benchmarks measure the same way.

/// Resident memory of one process, in KiB (0 when it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Resident memory of a process and all its descendants, in KiB (a language server may run
/// helpers of its own).
pub fn tree_rss_kib(pid: u32) -> u64 {
    let mut total = 0;
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        total += rss_kib(p);
        for task in std::fs::read_dir(format!("/proc/{p}/task")).into_iter().flatten().flatten() {
            if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                stack.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tree_counts_its_children() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let (me, kid) = (std::process::id(), child.id());
        assert!(super::rss_kib(kid) > 0);
        // This process's own use moves between reads; its child's is counted on top of it.
        assert!(super::tree_rss_kib(me) > super::rss_kib(kid));
        assert_eq!(super::rss_kib(u32::MAX), 0);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
