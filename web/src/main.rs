//! The `metadeck` binary: the server and the operator's command line.

fn main() -> std::process::ExitCode {
    web::cli::main()
}
