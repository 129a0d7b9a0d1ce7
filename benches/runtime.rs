//! The bridge as Lambda runs it, measured: cold start (exec to the first poll of the Runtime
//! API), warm invocations through the Runtime API emulator with an instant loopback Devin, and
//! the function's memory over 1,000 deliveries. Prints one table.
//!   cargo bench --bench runtime
//! The binary is the optimized `bootstrap` cargo builds for benchmarks (the release profile).

// The tests' loopback parts; the bench uses a few of them.
#[allow(dead_code)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::json;
use support::devin::FakeDevin;
use support::env::Env;
use support::moto::Moto;
use support::runtime_api::{Outcome, RuntimeApi};
use support::*;

const COLD_STARTS: usize = 40;
const DELIVERIES: usize = 1000;
/// Memory is followed past `DELIVERIES`, until well after the remembered deliveries are full.
const MEMORY_DELIVERIES: usize = 3000;

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(measure());
}

/// Secrets from the environment, warnings only.
fn bench_env(devin_url: &str) -> Env {
    Env::local(devin_url)
        .set("DEVIN_ORG_ID", "org-bench")
        .set("AWS_LAMBDA_LOG_LEVEL", "WARN")
}

/// Exec to first poll of the bridge, `COLD_STARTS` times.
async fn cold_starts(env: &Env) -> Vec<Duration> {
    cold_starts_of(env!("CARGO_BIN_EXE_bootstrap"), env).await
}

/// Exec to first poll of `binary`, `COLD_STARTS` times.
async fn cold_starts_of(binary: &str, env: &Env) -> Vec<Duration> {
    let mut times = Vec::with_capacity(COLD_STARTS);
    for _ in 0..COLD_STARTS {
        let runtime = RuntimeApi::start().await;
        let function = runtime.spawn(binary, &env.vars());
        let polled = runtime.first_poll().await;
        times.push(polled - function.spawned_at);
        function.stop().await;
    }
    times.sort();
    times
}

fn delivery(n: usize) -> String {
    let body = json!({"event": {"id": format!("EVBENCH{n:06}"), "event_type": "incident.triggered",
        "occurred_at": "2026-11-28T09:12:04.512Z",
        "data": {"id": format!("QBENCH{n:06}"), "type": "incident", "number": n, "title": "Bench alert",
                 "status": "triggered", "urgency": "high", "service": {"id": "PS", "summary": "bench-api"},
                 "priority": {"id": "PP", "summary": "P1"}, "teams": [{"id": "PT", "summary": "SRE"}]}}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// `VmRSS` and `VmHWM` (peak) of a process, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn at(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn measure() {
    let devin = FakeDevin::start().await;
    let hello = hello_cold_starts().await;
    let from_env = cold_starts(&bench_env(&devin.url)).await;
    let (from_secrets_manager, moto_alone) = secrets_manager_cold_starts(&devin.url).await;
    let warm = warm(&devin).await;
    let cold = ColdStarts {
        hello: &hello,
        from_env: &from_env,
        from_secrets_manager: &from_secrets_manager,
        moto_alone: &moto_alone,
    };
    print_table(&cold, &warm);
}

/// The cold starts of a hello-world `lambda_http` function (`examples/`), built beside the
/// bench's `bootstrap`; none when it was not built.
async fn hello_cold_starts() -> Vec<Duration> {
    let bootstrap = std::path::Path::new(env!("CARGO_BIN_EXE_bootstrap"));
    let hello = bootstrap
        .with_file_name("examples")
        .join("hello_lambda_http");
    if !hello.exists() {
        eprintln!(
            "no hello-world to compare with: cargo build --release --example hello_lambda_http"
        );
        return Vec::new();
    }
    let env = Env::local("http://127.0.0.1:9").set("AWS_LAMBDA_LOG_LEVEL", "WARN");
    cold_starts_of(hello.to_str().unwrap(), &env).await
}

/// The cold starts measured.
struct ColdStarts<'a> {
    hello: &'a [Duration],
    from_env: &'a [Duration],
    from_secrets_manager: &'a [Duration],
    moto_alone: &'a [Duration],
}

/// Cold starts reading the secret from moto and building the ledger's DynamoDB client, and
/// what moto alone takes to answer from a warm client (part of every such cold start).
async fn secrets_manager_cold_starts(devin_url: &str) -> (Vec<Duration>, Vec<Duration>) {
    let moto = Moto::start().await;
    let arn = moto
        .create_secret(
            "bench",
            &json!({"DEVIN_API_KEY": TEST_DEVIN_API_KEY, "WEBHOOK_SECRET": LOCAL_WEBHOOK_SECRET,
                    "PAGERDUTY_SIGNING_SECRET": LOCAL_SIGNING_SECRET})
            .to_string(),
        )
        .await;
    let table = moto.create_ledger_table("bench-ledger").await;
    let sm_env = Env::secrets_manager(devin_url, &moto, &arn)
        .set("LEDGER_TABLE", &table)
        .set("DEVIN_ORG_ID", "org-bench")
        .set("AWS_LAMBDA_LOG_LEVEL", "WARN");
    let cold = cold_starts(&sm_env).await;
    let client = moto.client();
    let mut moto_alone = Vec::new();
    for _ in 0..COLD_STARTS {
        let asked = std::time::Instant::now();
        client
            .get_secret_value()
            .secret_id("bench")
            .send()
            .await
            .unwrap();
        moto_alone.push(asked.elapsed());
    }
    moto_alone.sort();
    (cold, moto_alone)
}

/// What one warm instance did over `MEMORY_DELIVERIES` triggered incidents.
struct Warm {
    /// Of the first `DELIVERIES`, sorted.
    latencies: Vec<Duration>,
    /// (deliveries so far, (RSS, peak) in KiB).
    rss: Vec<(usize, (u64, u64))>,
    peak_at_deliveries: u64,
    peak: u64,
    connections: usize,
}

/// One instance, `MEMORY_DELIVERIES` triggered incidents, each a lookup and a create at Devin.
async fn warm(devin: &FakeDevin) -> Warm {
    let runtime = RuntimeApi::start().await;
    let mut function = runtime.spawn_function(&bench_env(&devin.url).vars());
    let connections_before = devin.connections();
    let mut latencies = Vec::with_capacity(DELIVERIES);
    let mut rss = Vec::new();
    let mut peak_at_deliveries = 0;
    for n in 0..MEMORY_DELIVERIES {
        let event = delivery(n);
        let asked = std::time::Instant::now();
        let Outcome::Response(answer) = runtime.invoke(&event).await else {
            panic!("invocation {n} failed");
        };
        if n < DELIVERIES {
            latencies.push(asked.elapsed());
        }
        assert_eq!(answer["statusCode"], 202);
        if [0, 99, 499, 999, 1999, 2999].contains(&n) {
            rss.push((n + 1, memory(function.pid())));
        }
        if n + 1 == DELIVERIES {
            peak_at_deliveries = memory(function.pid()).1;
        }
    }
    assert!(function.is_alive());
    let (_, peak) = memory(function.pid());
    let connections = devin.connections() - connections_before;
    function.stop().await;
    latencies.sort();
    Warm {
        latencies,
        rss,
        peak_at_deliveries,
        peak,
        connections,
    }
}

fn print_table(cold: &ColdStarts<'_>, warm: &Warm) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!();
    println!(
        "pagerduty-devin-bridge, optimized bootstrap ({}), {} cores, {cpu}",
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!("| measure | median | p90 | min | max |");
    println!("| --- | --- | --- | --- | --- |");
    for (label, times) in [
        (
            "cold start of a hello-world lambda_http function (the floor)",
            cold.hello,
        ),
        (
            "cold start, secrets from the environment (exec → first poll)",
            cold.from_env,
        ),
        (
            "cold start, Secrets Manager on loopback (moto) and the ledger client",
            cold.from_secrets_manager,
        ),
        (
            "of which moto's own GetSecretValue answer (warm client)",
            cold.moto_alone,
        ),
    ] {
        if times.is_empty() {
            continue;
        }
        println!(
            "| {label}, {COLD_STARTS} runs | {} | {} | {} | {} |",
            ms(at(times, 0.5)),
            ms(at(times, 0.9)),
            ms(times[0]),
            ms(*times.last().unwrap())
        );
    }
    if !cold.hello.is_empty() {
        let ratio = at(cold.from_env, 0.5).as_secs_f64() / at(cold.hello, 0.5).as_secs_f64();
        println!("| the bridge's cold start (environment secrets) over the hello-world's, medians: {ratio:.2}x | | | | |");
    }
    let latencies = &warm.latencies;
    println!(
        "| warm invocation, emulator + instant Devin, {DELIVERIES} deliveries | {} (p99 {}) | {} | {} | {} |",
        ms(at(latencies, 0.5)),
        ms(at(latencies, 0.99)),
        ms(at(latencies, 0.9)),
        ms(latencies[0]),
        ms(*latencies.last().unwrap())
    );
    let rss_row: Vec<String> = warm
        .rss
        .iter()
        .map(|(n, (now, _))| format!("{n}: {:.1} MB", *now as f64 / 1024.0))
        .collect();
    println!(
        "| memory: peak RSS over {DELIVERIES} deliveries {:.1} MB, over {MEMORY_DELIVERIES} {:.1} MB; RSS after ({}) | | | | |",
        warm.peak_at_deliveries as f64 / 1024.0,
        warm.peak as f64 / 1024.0,
        rss_row.join(", "),
    );
    println!(
        "| Devin TCP connections for {MEMORY_DELIVERIES} deliveries: {} | | | | |",
        warm.connections
    );
}
