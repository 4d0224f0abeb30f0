//! Language routing through the engine: each text reaches the model that
//! serves its language (Whisper's language / the hint, else its script);
//! mixed and unserved-language texts are classified and flagged, never
//! dropped or silently misrouted.

use crate::common::metric;

use callsense::proto::SentimentLabel;

use crate::common::{analyze_texts, test_config, TestServer};

/// The model id of the engine's default classifier (one multilingual model).
pub fn default_model_id() -> String {
    let dirs = callsense::config::Config::default().classifier.model_dirs;
    assert_eq!(dirs.len(), 1, "the default is one multilingual model");
    model_id(dirs[0].to_str().unwrap())
}

/// `model_id` from a model directory's labels.json.
pub fn model_id(dir: &str) -> String {
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/labels.json")).unwrap())
            .unwrap();
    spec["model_id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_text_routes_by_language_and_flags_mixed_and_unserved_text() {
    // Routing between models: the per-language pair (the default is one
    // multilingual model, which serves both languages itself).
    let mut cfg = test_config();
    cfg.classifier.model_dirs = vec!["models/callsense-en".into(), "models/callsense-zh".into()];
    let server = TestServer::start(cfg).await;
    let (en, zh) = (
        model_id("models/callsense-en"),
        model_id("models/callsense-zh"),
    );
    let texts = [
        ("我要注销账户 你们的服务太差了", ""),
        (
            "i want to cancel my account this is the third time it broke",
            "en",
        ),
        // Whisper said English, but the text is plainly Chinese
        ("我的手机屏幕又坏了 这是第三次了", "en-US"),
        // code-switching: both scripts hold a real share
        ("我想要 refund please 退款 now", ""),
        // a language no model serves: closest (script) model, flagged
        ("je veux annuler mon abonnement", "fr"),
    ];
    let resp = analyze_texts(&server, &texts).await;
    let c = |i: usize| resp.results[i].classification.clone().unwrap();
    assert_eq!(
        (c(0).model.as_str(), c(0).language_code.as_str()),
        (zh.as_str(), "zh")
    );
    assert_eq!(
        (c(1).model.as_str(), c(1).language_code.as_str()),
        (en.as_str(), "en")
    );
    assert_eq!(
        (c(2).model.as_str(), c(2).language_code.as_str()),
        (zh.as_str(), "zh")
    );
    assert!(c(3).mixed_language && !c(3).language_fallback, "{:?}", c(3));
    assert!(!c(0).mixed_language && !c(1).mixed_language);
    assert!(c(4).language_fallback, "{:?}", c(4));
    assert_eq!(
        (c(4).model.as_str(), c(4).language_code.as_str()),
        (en.as_str(), "fr")
    );
    // every text, mixed and unserved included, gets both heads
    for r in &resp.results {
        assert!(r.sentiment.is_some() && r.intent.is_some(), "{r:?}");
    }
    // the Chinese model understands the Chinese cancellation
    let zh0 = &resp.results[0];
    assert_eq!(zh0.intent.as_ref().unwrap().label, "cancel_service");
    assert_eq!(
        zh0.sentiment.unwrap().label,
        SentimentLabel::Negative as i32
    );
    let t = server.engine.telemetry();
    assert_eq!(metric(t, "callsense_classified_mixed_language_total"), 1);
    assert_eq!(metric(t, "callsense_classified_language_fallback_total"), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intent_only_domain_pack_serves_through_the_engine() {
    let mut cfg = test_config();
    cfg.classifier.model_dirs = vec!["models/banking77".into()];
    let server = TestServer::start(cfg).await;
    let text = "i topped up with my card this morning but the money is still not in my balance";
    let resp = analyze_texts(&server, &[(text, "en")]).await;
    let r = &resp.results[0];
    assert!(r.sentiment.is_none(), "banking77 has no sentiment head");
    let label = &r.intent.as_ref().unwrap().label;
    assert!(
        [
            "pending_top_up",
            "top_up_failed",
            "balance_not_updated_after_bank_transfer",
            "top_up_reverted"
        ]
        .contains(&label.as_str()),
        "{label}"
    );
    assert_eq!(
        r.classification.as_ref().unwrap().model,
        model_id("models/banking77")
    );
    server.stop().await;
}
