//! The exit codes every command shares (README "Exit codes"): the CLI returns them, and the
//! modules that classify their own errors (`hook`) name them from here.

/// Done; what was asked for was found (or there was nothing to report).
pub const EXIT_OK: i32 = 0;
/// Done, and the answer is "no": nothing matched, a path is refused, a check found violations.
pub const EXIT_FOUND: i32 = 1;
/// Bad input: nothing was done or written.
pub const EXIT_USAGE: i32 = 2;
/// The environment failed (a tool missing, a file unreadable, the daemon gone).
pub const EXIT_ENV: i32 = 3;
