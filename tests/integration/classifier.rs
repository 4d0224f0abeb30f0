//! The shipped classifier through the runtime: accuracy floor on its
//! held-out, self-written dev examples (catches a broken model, tokenizer or
//! truncation), and left truncation keeping the end of long texts.

use std::path::Path;

use callsense::classify::{runtime, TextModel};

fn model() -> TextModel {
    let env = runtime::init(None).unwrap();
    TextModel::load(&env, Path::new("models/callsense-en"), 2).unwrap()
}

/// (sentiment, intent) accuracy of a model directory on its dev_examples.jsonl.
fn dev_examples_accuracy(dir: &str) -> (f32, f32) {
    let env = runtime::init(None).unwrap();
    let mut m = TextModel::load(&env, Path::new(dir), 2).unwrap();
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(format!("{dir}/dev_examples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() >= 100);
    let texts: Vec<&str> = rows.iter().map(|r| r["text"].as_str().unwrap()).collect();
    let preds = m.classify(&texts).unwrap();
    let (mut s_ok, mut i_ok) = (0, 0);
    for (r, p) in rows.iter().zip(&preds) {
        s_ok += usize::from(r["sentiment"] == p.sentiment.as_ref().unwrap().label_name());
        i_ok += usize::from(r["intent"] == p.intent.as_ref().unwrap().label.as_str());
    }
    let n = rows.len() as f32;
    (s_ok as f32 / n, i_ok as f32 / n)
}

#[test]
fn dev_examples_accuracy_stays_above_the_floor() {
    let (s_acc, i_acc) = dev_examples_accuracy("models/callsense-en");
    // The shipped model scores ~98 % / ~87 % here (MODEL_CARD.md).
    assert!(s_acc >= 0.90, "sentiment accuracy {s_acc}");
    assert!(i_acc >= 0.80, "intent accuracy {i_acc}");
}

#[test]
fn long_utterances_keep_their_end() {
    let m = model();
    let filler = "so anyway as i was saying ".repeat(40);
    let text = format!("{filler} and that is why i want to cancel my account");
    let ids = m.encode(&text).unwrap();
    assert_eq!(ids.len(), m.spec().max_length);
    let tail = m
        .encode("and that is why i want to cancel my account")
        .unwrap();
    // Same [CLS] … and the same last tokens before [SEP].
    assert_eq!(ids[0], tail[0]);
    assert_eq!(ids[ids.len() - tail.len() + 1..], tail[1..]);
}

/// Accuracy per category of a robustness set (models/robustness), routed
/// through the shipped models as the engine does.
fn robustness(file: &str) -> std::collections::BTreeMap<String, (f32, f32, usize)> {
    use callsense::classify::router::ModelSet;
    let env = runtime::init(None).unwrap();
    let models = ["models/callsense-en", "models/callsense-zh"]
        .iter()
        .map(|d| TextModel::load(&env, Path::new(d), 2).unwrap())
        .collect();
    let mut set = ModelSet::new(models);
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let items: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|r| (r["text"].as_str().unwrap(), r["lang"].as_str()))
        .collect();
    let preds = set.classify(&items).unwrap();
    // category → (sentiment ok, intent ok, intent n, n)
    let mut acc: std::collections::BTreeMap<String, (usize, usize, usize, usize)> =
        Default::default();
    for (r, (p, route)) in rows.iter().zip(&preds) {
        assert_eq!(Some(route.language.as_str()), r["lang"].as_str(), "{r}");
        let e = acc
            .entry(r["category"].as_str().unwrap().into())
            .or_default();
        e.0 += usize::from(r["sentiment"] == p.sentiment.as_ref().unwrap().label_name());
        if let Some(gold) = r["intent"].as_str() {
            e.1 += usize::from(gold == p.intent.as_ref().unwrap().label);
            e.2 += 1;
        }
        e.3 += 1;
    }
    acc.into_iter()
        .map(|(k, (s, i, ni, n))| (k, (s as f32 / n as f32, i as f32 / ni.max(1) as f32, n)))
        .collect()
}

#[test]
fn english_robustness_set_stays_above_its_floors() {
    let r = robustness("models/robustness/en.jsonl");
    let all: f32 = r.values().map(|v| v.0 * v.2 as f32).sum::<f32>()
        / r.values().map(|v| v.2 as f32).sum::<f32>();
    let intent: f32 = r.values().map(|v| v.1 * v.2 as f32).sum::<f32>()
        / r.values().map(|v| v.2 as f32).sum::<f32>();
    // Floors sit below the shipped model's scores (README § Accuracy: sentiment
    // 66.7 % overall, 7/8 polite-but-angry, 7/8 neutral requests with negative
    // words, 7/10 ASR artefacts; intent 88 %). Sarcasm (3/8) is a known weakness.
    assert!(all >= 0.55, "overall sentiment {all}: {r:?}");
    assert!(intent >= 0.75, "overall intent {intent}: {r:?}");
    for cat in ["polite_angry", "neutral_negative_words", "asr_artefacts"] {
        assert!(r[cat].0 >= 0.6, "{cat} sentiment {:?}", r[cat]);
    }
}

#[test]
fn chinese_robustness_set_stays_above_its_floors() {
    let r = robustness("models/robustness/zh.jsonl");
    let all: f32 = r.values().map(|v| v.0 * v.2 as f32).sum::<f32>()
        / r.values().map(|v| v.2 as f32).sum::<f32>();
    // The shipped model scores 77.8 % (README § Accuracy).
    assert!(all >= 0.6, "overall sentiment {all}: {r:?}");
    // mixed Chinese/English text is classified, not dropped or crashed
    assert_eq!(r["mixed_language"].2, 4);
}

#[test]
fn chinese_dev_examples_accuracy_stays_above_the_floor() {
    let (s_acc, i_acc) = dev_examples_accuracy("models/callsense-zh");
    // The shipped model scores 90.7 % / 72.7 % here (MODEL_CARD.md): intent on
    // unseen Mandarin wordings is its known weakness.
    assert!(s_acc >= 0.80, "sentiment {s_acc}");
    assert!(i_acc >= 0.60, "intent {i_acc}");
}

#[test]
fn a_model_without_either_head_is_refused_with_the_reason() {
    let dir = std::env::temp_dir().join(format!("callsense-nohead-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["model.onnx", "tokenizer.json"] {
        std::fs::copy(Path::new("models/banking77").join(f), dir.join(f)).unwrap();
    }
    std::fs::write(
        dir.join("labels.json"),
        r#"{"model_id":"x","languages":["en"],"max_length":128,"truncation_side":"left",
            "heads":[{"name":"topic","output":"intent_logits","labels":["a","b"]}]}"#,
    )
    .unwrap();
    let env = runtime::init(None).unwrap();
    let err = TextModel::load(&env, &dir, 1)
        .err()
        .expect("must be refused")
        .to_string();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        err.contains("neither a `sentiment` nor an `intent` head"),
        "{err}"
    );
}
