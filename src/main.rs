//! The `drone` binary: parses arguments and hands over to [`drone::cli`].

fn main() -> std::process::ExitCode {
    drone::cli::main()
}
