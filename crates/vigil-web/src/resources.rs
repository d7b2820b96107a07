//! The process's own limits, set when serving starts.

/// Raises the soft limit on open files to the hard limit (the soft limit
/// is often 1,024, far below what a busy server needs and what the system
/// allows), and returns the limit now in force.
pub fn raise_fd_limit() -> u64 {
    #[cfg(unix)]
    {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct given.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 {
                return 1024;
            }
            if l.rlim_cur < l.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: l.rlim_max,
                    rlim_max: l.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    l = raised;
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        let n = l.rlim_cur as u64;
        n
    }
    #[cfg(not(unix))]
    {
        1024
    }
}

/// Largest allocation glibc serves from its heaps (larger ones are mapped
/// and unmapped on their own).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1024 * 1024;

/// Makes glibc give large blocks back to the system when freed.
///
/// An Argon2id hash takes one 19 MiB block. glibc maps blocks that large on
/// their own, but after the first is freed it raises its threshold to that
/// size, so later ones come from the per-thread heaps (arenas) and stay
/// there after use: the review saw 2.8 GB kept after 200 sign-ins. Fixing
/// the threshold keeps every hash's block mapped apart and unmapped when
/// done. (Elsewhere, nothing to do.)
pub fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
