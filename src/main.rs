fn main() -> std::process::ExitCode {
    purposelint::cli::main()
}
