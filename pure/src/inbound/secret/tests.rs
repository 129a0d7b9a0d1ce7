use super::*;

#[test]
fn secrets_are_redacted_whole_and_cut() {
    let key = "cog_abcdef123456";
    assert_eq!(
        redact(&format!("bad token {key}, again {key}."), key),
        "bad token [redacted], again [redacted]."
    );
    assert_eq!(
        redact("echo: Bearer cog_abcd", key),
        "echo: Bearer [redacted]"
    );
    assert_eq!(
        redact("ends in cog", key),
        "ends in cog",
        "too short to tell"
    );
    assert_eq!(redact("nothing here", ""), "nothing here");
    let secrets = Secrets::from_lookup(|name| match name {
        DEVIN_API_KEY => Some(key.into()),
        WEBHOOK_SECRET => Some("hook-secret-new,hook-secret-old".into()),
        PAGERDUTY_API_TOKEN => Some("u+pd_token_value".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(
        secrets.redact(&format!("{key} hook-secret-old u+pd_token_value ok")),
        "[redacted] [redacted] [redacted] ok"
    );
}

#[test]
fn a_secret_quoted_in_json_is_redacted_too() {
    let secrets = Secrets::from_lookup(|name| match name {
        DEVIN_API_KEY => Some("cog_key".into()),
        WEBHOOK_SECRET => Some(r#"hook"secret\with-quotes"#.into()),
        _ => None,
    })
    .unwrap();
    let echo =
        serde_json::json!({"detail": format!("got {}", secrets.webhook_secrets[0].expose())});
    let redacted = secrets.redact(&echo.to_string());
    assert_eq!(redacted, r#"{"detail":"got [redacted]"}"#);
}

fn arn() -> SecretSource {
    SecretSource::SecretsManager {
        secret_id: "arn:aws:secretsmanager:us-east-1:1:secret:bridge".into(),
    }
}

#[test]
fn a_full_secret_string_is_read() {
    let secrets = Secrets::from_json(
        arn(),
        r#"{"DEVIN_API_KEY":"cog_abc","WEBHOOK_SECRET":"hook\n","PAGERDUTY_SIGNING_SECRET":"new, old ,","OTHER":1}"#,
    )
    .unwrap();
    assert_eq!(secrets.devin_api_key.expose(), "cog_abc");
    let hooks: Vec<&str> = secrets.webhook_secrets.iter().map(Secret::expose).collect();
    assert_eq!(hooks, ["hook"]);
    let signing: Vec<&str> = secrets.signing_secrets.iter().map(Secret::expose).collect();
    assert_eq!(signing, ["new", "old"]);
}

#[test]
fn either_verification_secret_is_enough() {
    let only_signing = Secrets::from_json(
        arn(),
        r#"{"DEVIN_API_KEY":"k","PAGERDUTY_SIGNING_SECRET":"s"}"#,
    )
    .unwrap();
    assert!(only_signing.webhook_secrets.is_empty());
    let only_header =
        Secrets::from_json(arn(), r#"{"DEVIN_API_KEY":"k","WEBHOOK_SECRET":"w"}"#).unwrap();
    assert!(only_header.signing_secrets.is_empty());
}

#[test]
fn missing_pieces_are_named_with_their_source() {
    let cases = [
        (
            r#"{"WEBHOOK_SECRET":"w"}"#,
            r#"DEVIN_API_KEY is missing from secret "arn:aws:secretsmanager:us-east-1:1:secret:bridge""#,
        ),
        (
            r#"{"DEVIN_API_KEY":"k","WEBHOOK_SECRET":" ","PAGERDUTY_SIGNING_SECRET":","}"#,
            "sets neither WEBHOOK_SECRET nor PAGERDUTY_SIGNING_SECRET",
        ),
        (r#"["DEVIN_API_KEY"]"#, "is not a JSON object"),
        (r#"{"DEVIN_API_KEY": cog_"#, "syntax error at line 1 column"),
    ];
    for (json, expected) in cases {
        let err = Secrets::from_json(arn(), json).unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn no_error_quotes_a_secret_value() {
    let err = Secrets::from_json(
        arn(),
        r#"{"DEVIN_API_KEY":1234567,"WEBHOOK_SECRET":"hunter2"}"#,
    )
    .unwrap_err();
    let message = format!("{err} {err:?}");
    assert!(message.contains("DEVIN_API_KEY in secret"), "{message}");
    assert!(!message.contains("1234567") && !message.contains("hunter2"));
}

#[test]
fn the_environment_uses_the_same_names() {
    let env = |name: &str| match name {
        "DEVIN_API_KEY" => Some("cog_env".to_owned()),
        "PAGERDUTY_API_TOKEN" => Some("pd_env".to_owned()),
        "PAGERDUTY_SIGNING_SECRET" => Some("a,b".to_owned()),
        _ => None,
    };
    let secrets = Secrets::from_lookup(env).unwrap();
    assert_eq!(secrets.signing_secrets.len(), 2);
    assert_eq!(
        secrets.pagerduty_authorization().unwrap(),
        "Token token=pd_env"
    );
    let err = Secrets::from_lookup(|_| None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "DEVIN_API_KEY is missing from the environment"
    );
}

#[test]
fn the_api_key_must_fit_a_header() {
    let err = Secrets::from_json(
        arn(),
        r#"{"DEVIN_API_KEY":"cog\u0000x","WEBHOOK_SECRET":"w"}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"DEVIN_API_KEY in secret "arn:aws:secretsmanager:us-east-1:1:secret:bridge" holds characters an HTTP header cannot carry"#
    );
    let ok =
        Secrets::from_json(arn(), r#"{"DEVIN_API_KEY":"cog_1","WEBHOOK_SECRET":"w"}"#).unwrap();
    assert_eq!(ok.devin_authorization(), "Bearer cog_1");
    assert!(ok.devin_authorization().is_sensitive());
}

#[test]
fn debug_never_shows_a_secret() {
    let secrets = Secrets::from_json(
        arn(),
        r#"{"DEVIN_API_KEY":"cog_topsecret","WEBHOOK_SECRET":"hook-secret","PAGERDUTY_SIGNING_SECRET":"sign-secret"}"#,
    )
    .unwrap();
    let shown = format!("{secrets:?}");
    for value in ["cog_topsecret", "hook-secret", "sign-secret"] {
        assert!(!shown.contains(value), "{shown}");
    }
}
