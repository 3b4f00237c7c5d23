// mimalloc: the linter allocates millions of small strings and nodes across threads;
// glibc's malloc spent about a fifth of a large run in malloc, free and consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    purposelint::cli::main()
}
