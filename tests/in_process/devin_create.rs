//! The Devin fake holds the bridge to Devin's published contract for a create (the fields of the
//! v3 reference, `session_links` only to Devin sessions, `prompt` required), answering as Devin
//! does: 422 `{"detail": [{"loc", "msg", "type"}]}`. And the write calls whose answer the
//! reference leaves undocumented (a message, tags, a termination) succeed on any 2xx.

use reqwest::Url;
use serde_json::{json, Value};

use crate::support::devin::{FakeDevin, WriteAnswer};
use crate::support::*;
use pagerduty_devin_bridge::edge::devin::DevinClient;
use pure::inbound::secret::Secrets;

async fn create(devin: &FakeDevin, body: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/v3/organizations/org-test/sessions", devin.url))
        .bearer_auth(TEST_DEVIN_API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

#[tokio::test]
async fn the_fake_refuses_what_devins_reference_does_not_accept_in_a_create() {
    let devin = FakeDevin::start().await;
    let (status, answer) = create(
        &devin,
        json!({"prompt": "p", "session_links": ["https://grafana.acme.example/d/checkout"]}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        answer["detail"][0]["loc"],
        json!(["body", "session_links", 0])
    );
    assert_eq!(answer["detail"][0]["type"], "value_error");
    assert!(answer["detail"][0]["msg"].is_string());

    let (status, answer) = create(&devin, json!({"prompt": "p", "links": ["x"]})).await;
    assert_eq!(
        (
            status,
            &answer["detail"][0]["loc"],
            &answer["detail"][0]["type"]
        ),
        (422, &json!(["body", "links"]), &json!("extra_forbidden"))
    );
    let (status, answer) = create(&devin, json!({"title": "no prompt"})).await;
    assert_eq!(
        (status, &answer["detail"][0]["loc"]),
        (422, &json!(["body", "prompt"]))
    );
    let (status, answer) = create(&devin, json!({"prompt": "p", "devin_mode": "turbo"})).await;
    assert_eq!(
        (
            status,
            &answer["detail"][0]["loc"],
            &answer["detail"][0]["type"]
        ),
        (422, &json!(["body", "devin_mode"]), &json!("enum"))
    );
    assert!(devin.sessions().is_empty(), "nothing refused was created");

    // What the reference does accept: a link to a Devin session, the documented fields.
    let (status, answer) = create(
        &devin,
        json!({"prompt": "p", "title": "t", "tags": ["a"], "repos": ["github.com/acme/api"],
               "session_links": ["https://app.devin.ai/sessions/0123abcd"], "max_acu_limit": 5,
               "devin_mode": "fast"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(devin.sessions().len(), 1);
}

#[tokio::test]
async fn write_calls_accept_any_2xx_json_or_not_empty_or_not() {
    let devin = FakeDevin::start().await;
    let client = DevinClient::new(
        reqwest::Client::new(),
        Url::parse(&devin.url).unwrap(),
        "org-test",
    );
    let secrets = Secrets::from_lookup(|name| match name {
        "DEVIN_API_KEY" => Some(TEST_DEVIN_API_KEY.to_owned()),
        "WEBHOOK_SECRET" => Some(LOCAL_WEBHOOK_SECRET.to_owned()),
        _ => None,
    })
    .unwrap();
    let timeout = std::time::Duration::from_secs(2);
    for answer in [
        WriteAnswer::NoContent,
        WriteAnswer::EmptyOk,
        WriteAnswer::Text,
        WriteAnswer::Json,
    ] {
        let (_, created) = create(&devin, json!({"prompt": "p"})).await;
        let session = created["session_id"].as_str().unwrap();
        devin.answer_writes(answer);
        let told = client
            .send_message(&secrets, session, "hello", timeout)
            .await;
        assert!(told.is_ok(), "{answer:?}: {told:?}");
        let tagged = client
            .add_tags(&secrets, session, &["x".to_owned()], timeout)
            .await;
        assert!(tagged.is_ok(), "{answer:?}: {tagged:?}");
        let ended = client.terminate_session(&secrets, session, timeout).await;
        assert!(ended.is_ok(), "{answer:?}: {ended:?}");
    }
    assert_eq!(devin.messages().len(), 4);
}

#[tokio::test]
async fn a_note_reaches_a_session_whose_devin_answers_204() {
    let devin = FakeDevin::start().await;
    let bridge = bridge(&devin.url, false).await;
    let (_, started, _) = handle(&bridge, &sample_event("incident-triggered.json")).await;
    assert_eq!(started["status"], "session_started");
    devin.answer_writes(WriteAnswer::NoContent);
    let (status, told, _) = handle(&bridge, &sample_event("incident-resolved.json")).await;
    assert_eq!(
        (status, &told["status"]),
        (202, &json!("forwarded")),
        "{told}"
    );
    assert_eq!(devin.messages().len(), 1);
}
