//! Transparent huge pages for the simulation's memory, through glibc's own switch.
//!
//! At 1024 hosts and up, a link crossing touches a port, a packet, a connection and an endpoint
//! scattered over tens to hundreds of MiB: nearly every touch misses the cache, and with 4 KiB
//! pages nearly every miss also misses the TLB and walks the page tables. Backed by 2 MiB pages
//! the 8192-host permutation bench took about 14% less time, the 1024-host one 2-25% less
//! depending on the hour, for 5-10% more RSS; in another hour, when each first touch of a huge
//! page was slow on this VM, short runs took up to 41% more and 1 ms runs about as long
//! (`docs/performance.md`, "Huge pages"). Linux usually runs THP in
//! `madvise` mode (this machine and the CI machine do): only memory marked with
//! `madvise(MADV_HUGEPAGE)` gets huge pages. glibc marks its heap that way when the tunable
//! `glibc.malloc.hugetlb=1` is set (glibc 2.35 and later), but it reads tunables only when a
//! process starts, so the command line starts itself again once, with the tunable added to
//! `GLIBC_TUNABLES`, before doing anything else. A custom allocator marking its large blocks was
//! tried and gained almost nothing: most of the memory is small per-connection blocks in glibc's
//! heap, which only glibc can mark before it touches them.
//!
//! A hint only: results never depend on it. `GLIBC_TUNABLES` naming `glibc.malloc.hugetlb` (for
//! instance `=0` to opt out, as when profiling) is left as it is, and so is every non-glibc
//! platform. The restart happens at most once: glibc erases tunables in secure mode (setuid,
//! file capabilities), so the tunable's presence alone cannot tell a restarted process.

/// The tunable, and the variable glibc reads tunables from (`name=value` pairs joined by `:`).
#[cfg(any(test, all(target_os = "linux", target_env = "gnu")))]
const HUGETLB_TUNABLE: &str = "glibc.malloc.hugetlb";
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TUNABLES_VAR: &str = "GLIBC_TUNABLES";
/// Set in the restarted process: never a second restart.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const RESTARTED_VAR: &str = "NITROSIM_HUGE_PAGES_RESTARTED";

/// Start again with glibc's huge-page tunable set, unless it is set already; returns only when
/// that is not possible (then the run goes on with small pages).
pub(crate) fn restart_with_huge_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(RESTARTED_VAR).is_some() {
            return;
        }
        let current = std::env::var_os(TUNABLES_VAR).unwrap_or_default();
        let Some(tunables) = with_hugetlb(current.to_str()) else { return };
        // `exec` replaces this process (same pid, arguments, descriptors) with the same binary
        // (`/proc/self/exe` names it even if its file was replaced since); it returns only on
        // failure, and the run then goes on as it is.
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_default();
        let _ = std::process::Command::new("/proc/self/exe")
            .arg0(arg0)
            .args(args)
            .env(TUNABLES_VAR, tunables)
            .env(RESTARTED_VAR, "1")
            .exec();
    }
}

/// `GLIBC_TUNABLES` with huge pages asked for, or `None` when it must stay as it is: the tunable
/// is already named (by the user), or the variable is not valid UTF-8.
#[cfg(any(test, all(target_os = "linux", target_env = "gnu")))]
fn with_hugetlb(current: Option<&str>) -> Option<String> {
    let current = current?;
    if current.split(':').any(|pair| pair.split('=').next() == Some(HUGETLB_TUNABLE)) {
        return None;
    }
    Some(if current.is_empty() { format!("{HUGETLB_TUNABLE}=1") } else { format!("{current}:{HUGETLB_TUNABLE}=1") })
}

#[cfg(test)]
mod tests {
    use super::with_hugetlb;

    #[test]
    fn the_tunable_is_added_once_and_a_users_choice_is_kept() {
        assert_eq!(with_hugetlb(Some("")).as_deref(), Some("glibc.malloc.hugetlb=1"));
        assert_eq!(
            with_hugetlb(Some("glibc.malloc.arena_max=2")).as_deref(),
            Some("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1")
        );
        assert_eq!(with_hugetlb(Some("glibc.malloc.hugetlb=1")), None, "already asked for");
        assert_eq!(with_hugetlb(Some("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0")), None, "opted out");
        assert_eq!(with_hugetlb(None), None, "not UTF-8: left alone");
    }
}
