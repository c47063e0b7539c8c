//! The `leakprint` command line: a thin shell over the library.
//!
//! Exit status as grep: 0 success (for `match`: some match), 1 no match,
//! 2 error; 130 when interrupted. Errors print their whole chain on stderr.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
