use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(runner_preflight::cli::main())
}
