use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match quizfunnel_server::cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line a person can act on; details went to the log already.
            eprintln!("quizfunnel: {e}");
            ExitCode::FAILURE
        }
    }
}
