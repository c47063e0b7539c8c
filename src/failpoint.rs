//! Crash points for the crash tests: a named point in the code where the
//! process aborts when `LEAKPRINT_FAILPOINT` names it.
//!
//! The publish steps of the index (a segment committed, the state file,
//! the manifest) each call [`hit`] before and after their commit, so a test
//! can kill a real `leakprint` run at every step deterministically (a
//! SIGKILL at a random moment rarely lands between a rename and the next
//! step) and then check that the index is the old or the new one. `abort`
//! runs no destructors: temporary files stay behind, as after a real
//! crash, and the next writer removes them.
//!
//! Reading the variable costs a few hundred nanoseconds per call, and the
//! calls sit on steps that fsync: nothing measurable.

/// The environment variable naming the crash point to abort at.
pub const VAR: &str = "LEAKPRINT_FAILPOINT";

/// Abort the process when `LEAKPRINT_FAILPOINT` is `name`.
pub fn hit(name: &str) {
    if std::env::var_os(VAR).is_some_and(|v| v == name) {
        eprintln!("leakprint: crash point {name} reached; aborting");
        std::process::abort();
    }
}

/// The crash points, in the order an index build reaches them; the crash
/// tests iterate over this list, so a new point is tested as soon as it is
/// listed here.
pub const POINTS: &[&str] = &[
    "segment-before-commit",
    "segment-after-commit",
    "state-before-commit",
    "state-after-commit",
    "manifest-before-commit",
    "manifest-after-commit",
];
