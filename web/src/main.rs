//! The `metadeck` binary: the server and the operator's command line.

/// mimalloc serves the server's many small, short-lived allocations (rows, JSON, pages)
/// from per-thread pages: faster than the system allocator under load, and it returns
/// freed memory to the system instead of keeping per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    web::cli::main()
}
