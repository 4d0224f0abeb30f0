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

/// Accuracy per category of a labelled set (models/robustness,
/// models/spoken), routed through the engine's default models as the engine
/// does.
fn robustness(file: &str) -> std::collections::BTreeMap<String, (f32, f32, usize)> {
    use callsense::classify::ModelSet;
    let env = runtime::init(None).unwrap();
    let models = callsense::config::Config::default()
        .classifier
        .model_dirs
        .iter()
        .map(|d| TextModel::load(&env, d, 2).unwrap())
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

/// A copy of a shipped model directory with `labels` as its labels.json.
fn model_with_labels(from: &str, tag: &str, labels: &serde_json::Value) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("callsense-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["model.onnx", "tokenizer.json"] {
        std::fs::copy(Path::new(from).join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("labels.json"), labels.to_string()).unwrap();
    dir
}

fn shipped_labels(dir: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{dir}/labels.json")).unwrap()).unwrap()
}

#[test]
fn calibration_and_low_confidence_fields_are_checked_at_load() {
    let env = runtime::init(None).unwrap();
    for (tag, head, value, needle) in [
        (
            "temp0",
            0,
            serde_json::json!({"temperature": 0.0}),
            "temperature",
        ),
        (
            "tempneg",
            1,
            serde_json::json!({"temperature": -2.0}),
            "temperature",
        ),
        (
            "minconf",
            1,
            serde_json::json!({"min_confidence": 1.5}),
            "min_confidence",
        ),
        (
            "fallback",
            1,
            serde_json::json!({"min_confidence": 0.4, "fallback_label": "nope"}),
            "fallback label `nope`",
        ),
    ] {
        let mut labels = shipped_labels("models/callsense-en");
        for (k, v) in value.as_object().unwrap() {
            labels["heads"][head][k] = v.clone();
        }
        let dir = model_with_labels("models/callsense-en", tag, &labels);
        let err = TextModel::load(&env, &dir, 1)
            .err()
            .expect("must be refused")
            .to_string();
        std::fs::remove_dir_all(&dir).ok();
        assert!(err.contains(needle), "{tag}: {err}");
    }
}

#[test]
fn an_unsure_intent_becomes_other_and_says_so() {
    let env = runtime::init(None).unwrap();
    let text = "I want to cancel my contract, please close the account today.";
    let mut plain = TextModel::load(&env, Path::new("models/callsense-en"), 1).unwrap();
    let before = plain.classify(&[text]).unwrap().remove(0).intent.unwrap();
    assert_eq!(before.label, "cancel_service");
    assert!(!before.low_confidence);

    // A bar above the model's confidence: the label falls back, the guess
    // stays visible. (A temperature of 5 first brings the confidence under 1
    // so that there is room for a bar above it.)
    let mut labels = shipped_labels("models/callsense-en");
    let heads = labels["heads"].as_array_mut().unwrap();
    let intent = heads.iter_mut().find(|h| h["name"] == "intent").unwrap();
    intent["temperature"] = serde_json::json!(5.0);
    let warm = model_with_labels("models/callsense-en", "warm", &labels);
    let mut warmer = TextModel::load(&env, &warm, 1).unwrap();
    let c = warmer.classify(&[text]).unwrap().remove(0).intent.unwrap();
    std::fs::remove_dir_all(&warm).ok();
    assert_eq!(c.label, "cancel_service");
    assert!(c.confidence < 0.98, "{c:?}");
    let heads = labels["heads"].as_array_mut().unwrap();
    let intent = heads.iter_mut().find(|h| h["name"] == "intent").unwrap();
    intent["min_confidence"] = serde_json::json!(c.confidence + 0.01);
    let dir = model_with_labels("models/callsense-en", "unsure", &labels);
    let mut strict = TextModel::load(&env, &dir, 1).unwrap();
    let after = strict.classify(&[text]).unwrap().remove(0).intent.unwrap();
    assert_eq!(after.label, "other");
    assert!(after.low_confidence);
    assert_eq!(after.top[0].0, "cancel_service");

    // A high temperature flattens the probabilities (calibration is applied).
    let mut labels = shipped_labels("models/callsense-en");
    for h in labels["heads"].as_array_mut().unwrap() {
        h["temperature"] = serde_json::json!(1000.0);
    }
    let dir2 = model_with_labels("models/callsense-en", "flat", &labels);
    let mut flat = TextModel::load(&env, &dir2, 1).unwrap();
    let p = flat.classify(&[text]).unwrap().remove(0);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&dir2).ok();
    assert!(p.intent.unwrap().confidence < 0.1);
    let s = p.sentiment.unwrap();
    assert!(
        s.probabilities
            .iter()
            .all(|&x| (x - 1.0 / 3.0).abs() < 0.01),
        "{s:?}"
    );
}

/// (sentiment accuracy, intent accuracy, negative recall) over a whole set.
fn overall(file: &str) -> (f32, f32, f32) {
    let r = robustness(file);
    let n: f32 = r.values().map(|v| v.2 as f32).sum();
    let s = r.values().map(|v| v.0 * v.2 as f32).sum::<f32>() / n;
    let i = r.values().map(|v| v.1 * v.2 as f32).sum::<f32>() / n;
    // Negative recall: the categories whose gold sentiment is all negative.
    let neg: Vec<_> = [
        "calm_complaint",
        "grievance_request",
        "thanks_in_complaint",
        "sarcasm",
    ]
    .iter()
    .filter_map(|c| r.get(*c))
    .collect();
    let nn: f32 = neg.iter().map(|v| v.2 as f32).sum();
    let recall = neg.iter().map(|v| v.0 * v.2 as f32).sum::<f32>() / nn;
    (s, i, recall)
}

#[test]
fn spoken_call_centre_dev_sets_stay_above_their_floors() {
    // The hand-written spoken-style dev sets (models/spoken; never trained
    // on), through the default model. Floors sit a few points under the
    // shipped model's scores (models/callsense-e5/MODEL_CARD.md); the
    // per-language models of before scored 66 % / 75 % (en) and 71 % / 68 %
    // (zh) sentiment / intent here.
    for (file, s_floor, i_floor, neg_floor) in [
        (
            "models/spoken/en_dev.jsonl",
            SPOKEN_FLOORS_EN.0,
            SPOKEN_FLOORS_EN.1,
            SPOKEN_FLOORS_EN.2,
        ),
        (
            "models/spoken/zh_dev.jsonl",
            SPOKEN_FLOORS_ZH.0,
            SPOKEN_FLOORS_ZH.1,
            SPOKEN_FLOORS_ZH.2,
        ),
    ] {
        let (s, i, neg) = overall(file);
        assert!(s >= s_floor, "{file}: sentiment {s}");
        assert!(i >= i_floor, "{file}: intent {i}");
        assert!(
            neg >= neg_floor,
            "{file}: recall on calm, grievance, sarcastic negatives {neg}"
        );
    }
}

/// (sentiment, intent, negative recall) floors on the spoken dev sets.
/// The shipped model: en 92.3 % / 90.5 % / 91.0 %, zh 87.5 % / 89.1 % / 91.6 %.
const SPOKEN_FLOORS_EN: (f32, f32, f32) = (0.89, 0.87, 0.87);
const SPOKEN_FLOORS_ZH: (f32, f32, f32) = (0.84, 0.86, 0.87);
