//! The Devin and PagerDuty client trusts Mozilla's roots and nothing else: a TLS server on
//! loopback (`openssl s_server`) whose certificate no public CA signed never gets a request, while
//! a client told to trust that certificate reaches it (so the refusal is about trust, not about a
//! server that does not answer).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use pagerduty_devin_bridge::startup::assemble::http_client;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A self-signed certificate for 127.0.0.1 and its key, in a fresh directory.
fn self_signed_certificate() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bridge-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        // A server's certificate, not a CA's (`req -x509` makes a CA otherwise).
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .expect("openssl, to make a certificate");
    assert!(status.success());
    dir
}

/// `openssl s_server` on a loopback port it chooses (and prints: choosing one first and handing
/// it over races with every other test), answering HTTP (`-www`); stopped when dropped.
async fn tls_server(dir: &Path) -> (Child, u16) {
    let mut server = Command::new("openssl")
        .args(["s_server", "-www", "-accept", "127.0.0.1:0"])
        .arg("-cert")
        .arg(dir.join("cert.pem"))
        .arg("-key")
        .arg(dir.join("key.pem"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("openssl s_server");
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(port) = line.strip_prefix("ACCEPT 127.0.0.1:") {
                return port.trim().parse::<u16>().unwrap();
            }
        }
        panic!("openssl s_server ended without listening");
    })
    .await
    .expect("openssl s_server listens within 10 s");
    // Reads on, so what the server prints never fills the pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (server, port)
}

/// An error and its sources, as one line.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(err) = source {
        line.push_str(": ");
        line.push_str(&err.to_string());
        source = err.source();
    }
    line
}

#[tokio::test]
async fn the_client_refuses_a_certificate_no_public_ca_signed() {
    let dir = self_signed_certificate();
    let (_server, port) = tls_server(&dir).await;
    let url = format!("https://127.0.0.1:{port}/");

    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(
            &std::fs::read(dir.join("cert.pem")).unwrap(),
        )
        .unwrap()])
        .build()
        .unwrap();
    let answer = trusting.get(&url).send().await.expect("the server answers");
    assert!(answer.status().is_success(), "{}", answer.status());
    // `s_server` serves one connection at a time: close the trusting client's.
    drop(answer);
    drop(trusting);

    let request = http_client().unwrap().get(&url).send();
    let refused = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("the handshake ends within 10 s")
        .expect_err("a certificate no public CA signed is refused");
    let refused = chain(&refused);
    assert!(refused.contains("UnknownIssuer"), "{refused}");
    std::fs::remove_dir_all(dir).unwrap();
}
