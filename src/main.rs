//! The `drone` binary: parses arguments and hands over to [`drone::cli`].

/// mimalloc rather than the system's allocator: `drone check`, the pull-request gate, spends a
/// third of its time allocating and freeing small values (syntax trees, names, maps).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    drone::cli::main()
}
