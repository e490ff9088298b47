//! The one way vodpipe starts its tools (ffmpeg, ffprobe): as children that never outlive it.
//!
//! - On Linux the child asks the kernel for SIGKILL when vodpipe dies (`PR_SET_PDEATHSIG`), so a
//!   `vodpipe worker` or `serve` killed with SIGKILL (or by the out-of-memory killer) leaves
//!   no ffmpeg writing behind it.
//! - The child runs in its own process group, so a terminal's Ctrl-C (SIGINT to the
//!   foreground group) reaches vodpipe only. ffmpeg would otherwise stop on it with an error
//!   exit, and the job would end `ERROR` while vodpipe was only being asked to stop; vodpipe
//!   stops and its children die with it.
//!
//! The parent-death signal is tied to the thread that spawned the child: every caller waits
//! for its child on the thread that started it.

use std::ffi::OsStr;
use std::process::Command;

#[cfg(unix)]
use std::os::unix::process::CommandExt as _;

use crate::job_lock::JobLock;

/// A command for `program` whose process dies with vodpipe and ignores the terminal's Ctrl-C.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id();
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
        // system calls (prctl, getppid, _exit); it allocates nothing and takes no lock.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // vodpipe may have died between fork and prctl: no signal will ever come, so
                // the child must not start at all.
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    command
}

/// [`command`], and the child holds `lock` too until it exits: the lock is free only once
/// both vodpipe and its writer are gone, so a killed worker's ffmpeg that has not yet
/// received its parent-death signal still keeps a second writer out.
pub fn command_holding(program: impl AsRef<OsStr>, lock: &JobLock) -> Command {
    let mut command = command(program);
    #[cfg(unix)]
    {
        let fd = lock.raw_fd();
        // SAFETY: between fork and exec, one async-signal-safe fcntl on a descriptor that the
        // borrowed lock keeps open until the spawn returns.
        unsafe {
            command.pre_exec(move || {
                // Clear close-on-exec on the child's copy only: the same open file (and so
                // the same flock) survives exec into ffmpeg.
                if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    command
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Field `n` (1-based, as in proc(5)) of /proc/PID/stat, after the command name.
    fn stat_field(pid: u32, n: usize) -> String {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(n - 3).unwrap().to_owned()
    }

    /// The parent-death signal is not visible in /proc; the CLI's crash tests
    /// (`host/cli/tests/crash.rs`) check it end to end by killing a worker.
    #[test]
    fn a_child_leads_its_own_process_group() {
        let mut child = command("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let group = stat_field(pid, 5);
        assert_eq!(group, pid.to_string());
        assert_ne!(group, stat_field(std::process::id(), 5));
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

/// How the tools report (as `strerror` text) a failure of the machine rather than of their
/// input: no space, no memory, no file handles, a failing disk, no permission. Such a failure
/// says nothing about the upload, so the work is tried again later instead of failing it.
const MACHINE_ERRORS: [&str; 9] = [
    "No space left on device",
    "Cannot allocate memory",
    "Too many open files",
    "Input/output error",
    "Permission denied",
    "No such file or directory",
    "Resource temporarily unavailable",
    "Interrupted system call",
    "Stale file handle",
];

/// The machine's failure a tool's error output names, if it names one.
pub fn machine_error(output: &str) -> Option<&'static str> {
    MACHINE_ERRORS.iter().copied().find(|error| output.contains(error))
}
