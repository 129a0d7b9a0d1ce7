//! The floor a cold start is measured against (`benches/runtime.rs`): a hello-world `lambda_http`
//! function, with nothing of the bridge. Build it before the bench:
//!   cargo build --release --example hello_lambda_http

use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
