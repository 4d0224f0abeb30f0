//! Classifier latency and throughput, with and without batching.
//!
//! ```text
//! ORT_DYLIB_PATH=$PWD/.runtime/lib/libonnxruntime.so cargo bench --bench classifier
//! ```
//!
//! - `classify/batch_{1,8,32}`: `TextModel::classify` on batches of
//!   realistic call-centre utterances, one intra-op thread. Throughput
//!   elements are utterances, so criterion's thrpt is utterances/s.
//!   `classify/batch_short_only_32` leaves out the one long complaint, to
//!   show what padding every text to the batch's longest costs.
//! - `batcher/{sequential,concurrent}_32`: 32 `Batcher::classify` calls on a
//!   tokio runtime, awaited one after another (no batching possible) or all
//!   at once (dynamic batching), with the engine's default batching policy.
//!
//! - `models/<model id>`: every shipped model directory (the configured
//!   default and banking77; or the directories in `CALLSENSE_BENCH_MODELS`,
//!   separated by ':') at batch 1 on utterances of its languages: the
//!   "≤ 5 ms per utterance" budget. Memory is measured in a fresh process by
//!   `cargo run --release --example classifier_memory`.
//!
//! A summary table (ms per utterance, utterances/s, mean batch formed) is
//! printed after each group. Skipped, with a message, if ONNX Runtime or the
//! model directory is missing.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use callsense::classify::{Batcher, TextModel};
use callsense::config::ClassifierConfig;

/// Realistic utterances (what ASR hands the classifier), short to long.
const UTTERANCES: [&str; 40] = [
    "hello i need some help",
    "hi thanks for calling how can i help you today",
    "this is the third time my phone broke in two months",
    "i want to cancel my account effective immediately",
    "can i get a refund for the last charge",
    "i was charged twice for the same order and nobody can explain why",
    "where is my package it was supposed to arrive on monday",
    "the tracking number says delivered but there is nothing at my door",
    "i can't log in it keeps saying my password is wrong",
    "could you reset my password please",
    "i'd like to upgrade to the unlimited plan",
    "is there any discount if i stay another year",
    "what's the difference between the basic and the premium plan",
    "let me speak to a manager right now",
    "can i talk to a real person please",
    "thank you so much you've been really helpful",
    "okay",
    "yes",
    "no that's not what i asked",
    "my card was declined but i have money in the account",
    "the payment didn't go through and now my service is suspended",
    "why is my bill forty dollars higher this month",
    "i never signed up for this extra insurance on my bill",
    "the screen started flickering after the last software update",
    "the battery drains in like two hours even when i'm not using it",
    "can someone come out and repair the router it keeps dropping",
    "i've been on hold for forty five minutes this is ridiculous",
    "your service is honestly the worst i have ever dealt with",
    "great that works for me",
    "do you have the new model in stock in black",
    "i ordered the wrong size can i exchange it",
    "when will my order ship",
    "i moved and need to update my billing address",
    "just one more thing is the promotion still valid if i sign up online",
    "i'm calling about the email i got saying my account was locked",
    "sorry could you repeat that the line is bad",
    "i already explained this three times to three different people and every time you tell me someone will call me back and nobody ever does so i want this fixed today or i'm cancelling",
    "i appreciate you fixing that so quickly",
    "what are your opening hours on weekends",
    "alright i think that's everything thanks bye",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(threads: usize) -> Result<TextModel, String> {
    let lib = repo().join(callsense::classify::runtime::DEFAULT_ORT_LIBRARY);
    let configured = (std::env::var_os("ORT_DYLIB_PATH").is_none() && lib.is_file()).then_some(lib);
    let env =
        callsense::classify::runtime::init(configured.as_deref()).map_err(|e| e.to_string())?;
    let dir: PathBuf = repo().join(&ClassifierConfig::default().model_dirs[0]);
    TextModel::load(&env, &dir, threads).map_err(|e| e.to_string())
}

/// Per-iteration times seen by `iter_custom`, per benchmark, for the summaries.
#[derive(Default)]
struct Samples(Mutex<Vec<(String, usize, Vec<Duration>)>>);

impl Samples {
    fn record(&self, name: &str, items: usize, per_iter: Duration) {
        let mut v = self.0.lock().unwrap();
        match v.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, _, d)) => d.push(per_iter),
            None => v.push((name.to_string(), items, vec![per_iter])),
        }
    }

    fn print(self, extra: impl Fn(&str) -> String) {
        println!("\n| bench | utterances / iter | ms per iter | ms per utterance | utterances/s | notes |");
        println!("|---|---:|---:|---:|---:|---|");
        for (name, items, mut d) in self.0.into_inner().unwrap() {
            d.sort();
            let median = d[d.len() / 2].as_secs_f64();
            println!(
                "| {name} | {items} | {:.2} | {:.3} | {:.0} | {} |",
                median * 1e3,
                median * 1e3 / items as f64,
                items as f64 / median,
                extra(&name)
            );
        }
        println!("(median of criterion's iter_custom batches)\n");
    }
}

fn classify(c: &mut Criterion) {
    let mut model = match load(1) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("SKIP classifier benches: {e}");
            return;
        }
    };
    let samples = Samples::default();
    let mut g = c.benchmark_group("classify");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    // The whole corpus, then without its one long complaint: a batch is
    // padded to its longest text, so one long text makes the batch cost more.
    let short: Vec<&str> = UTTERANCES
        .iter()
        .copied()
        .filter(|t| t.split(' ').count() <= 16)
        .collect();
    let runs: [(&str, &[&str], usize); 4] = [
        ("batch", &UTTERANCES, 1),
        ("batch", &UTTERANCES, 8),
        ("batch", &UTTERANCES, 32),
        ("batch_short_only", &short, 32),
    ];
    for (label, corpus, batch) in runs {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(BenchmarkId::new(label, batch), |b| {
            // Each iteration takes the next window of the corpus, so every
            // utterance (and padding width) is represented.
            let mut next = 0usize;
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    let texts: Vec<&str> = (0..batch)
                        .map(|k| corpus[(next + k) % corpus.len()])
                        .collect();
                    next = (next + batch) % corpus.len();
                    black_box(model.classify(&texts).expect("classify"));
                }
                let el = t.elapsed();
                samples.record(
                    &format!("classify/{label}_{batch}"),
                    batch,
                    el / iters as u32,
                );
                el
            });
        });
    }
    g.finish();
    let tokens = |texts: &[&str]| {
        texts
            .iter()
            .map(|t| model.encode(t).map_or(0, |ids| ids.len()))
            .max()
            .unwrap_or(0)
    };
    let (all_max, short_max) = (tokens(&UTTERANCES), tokens(&short));
    samples.print(|name| {
        let longest = if name.contains("short") {
            short_max
        } else {
            all_max
        };
        format!("1 intra-op thread; longest text {longest} tokens")
    });
}

fn batcher(c: &mut Criterion) {
    const CALLS: usize = 32;
    let model = match load(1) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("SKIP batcher benches: {e}");
            return;
        }
    };
    let cfg = ClassifierConfig::default();
    let batcher = Batcher::start(
        model,
        cfg.max_batch,
        Duration::from_millis(cfg.max_wait_ms),
        cfg.queue_capacity,
    )
    .expect("classifier thread");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    // Successive texts of the corpus, wrapping: every utterance takes part.
    let next = Cell::new(0usize);
    let texts = || {
        let i = next.get();
        next.set(i + 1);
        UTTERANCES[i % UTTERANCES.len()].to_string()
    };

    let samples = Samples::default();
    let mut g = c.benchmark_group("batcher");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(CALLS as u64));
    g.bench_function(BenchmarkId::new("sequential", CALLS), |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            rt.block_on(async {
                for _ in 0..iters {
                    for _ in 0..CALLS {
                        black_box(batcher.classify(texts()).await.expect("classify"));
                    }
                }
            });
            let el = t.elapsed();
            samples.record(
                &format!("batcher/sequential_{CALLS}"),
                CALLS,
                el / iters as u32,
            );
            el
        });
    });
    g.bench_function(BenchmarkId::new("concurrent", CALLS), |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            rt.block_on(async {
                for _ in 0..iters {
                    let all = futures::future::join_all((0..CALLS).map(|_| {
                        let b = batcher.clone();
                        let text = texts();
                        tokio::spawn(async move { b.classify(text).await })
                    }))
                    .await;
                    for r in all {
                        let r = r.expect("task").expect("classify");
                        // Each reply carries the size of the batch it ran in.
                        record_batch(r.batch_size);
                    }
                }
            });
            let el = t.elapsed();
            samples.record(
                &format!("batcher/concurrent_{CALLS}"),
                CALLS,
                el / iters as u32,
            );
            el
        });
    });
    g.finish();
    samples.print(|name| {
        if name.contains("concurrent") {
            format!(
                "max_batch {}, max_wait {} ms; {}",
                cfg.max_batch,
                cfg.max_wait_ms,
                batch_summary()
            )
        } else {
            "one text at a time: batch size 1".into()
        }
    });
}

/// Replies seen per batch size (a batch of n contributes n replies).
static BATCH_REPLIES: Mutex<Vec<usize>> = Mutex::new(Vec::new());

fn record_batch(size: usize) {
    let mut v = BATCH_REPLIES.lock().unwrap();
    if v.len() <= size {
        v.resize(size + 1, 0);
    }
    v[size] += 1;
}

/// Mean batch size (batches weighted equally) over every concurrent run.
fn batch_summary() -> String {
    let v = BATCH_REPLIES.lock().unwrap();
    let replies: usize = v.iter().sum();
    let batches: f64 = v
        .iter()
        .enumerate()
        .skip(1)
        .map(|(n, &r)| r as f64 / n as f64)
        .sum();
    if replies == 0 {
        return "no replies".into();
    }
    format!(
        "mean batch {:.1} texts ({:.1} batches per 32 texts)",
        replies as f64 / batches,
        32.0 * batches / replies as f64
    )
}

/// Spoken-style Mandarin utterances, short to long.
const UTTERANCES_ZH: [&str; 12] = [
    "你好",
    "我想查一下我的订单到哪了",
    "嗯 那个 我要取消我的套餐",
    "这个月的话费怎么多了五十块",
    "我的手机屏幕又坏了 这是第三次了",
    "帮我转人工客服",
    "谢谢你 帮了我大忙",
    "退款一般多久能到账",
    "密码忘了 账号登不上去",
    "快递显示已签收 但是我根本没收到",
    "你们的服务真是太好了 电话挂了我三次",
    "我上个礼拜打过电话 上上个礼拜也打过 每次都说会处理 然后又说是别的部门的事 我在线上等了好久 折腾了这么多次 我现在就想把这个账户注销掉",
];

fn models(c: &mut Criterion) {
    let lib = repo().join(callsense::classify::runtime::DEFAULT_ORT_LIBRARY);
    let configured = (std::env::var_os("ORT_DYLIB_PATH").is_none() && lib.is_file()).then_some(lib);
    let env = match callsense::classify::runtime::init(configured.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("SKIP model benches: {e}");
            return;
        }
    };
    // CALLSENSE_BENCH_MODELS (directories separated by ':') compares other
    // builds of a model, e.g. two quantisations, in one run.
    let dirs: Vec<PathBuf> = match std::env::var_os("CALLSENSE_BENCH_MODELS") {
        Some(list) => std::env::split_paths(&list).collect(),
        None => {
            let mut d = ClassifierConfig::default().model_dirs;
            d.push(PathBuf::from("models/banking77"));
            d
        }
    };
    let mut loaded = Vec::new();
    for d in &dirs {
        match TextModel::load(&env, &repo().join(d), 1) {
            Ok(m) => loaded.push(m),
            Err(e) => eprintln!("SKIP {}: {e}", d.display()),
        }
    }
    let samples = Samples::default();
    let mut g = c.benchmark_group("models");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Elements(1));
    for m in &mut loaded {
        // Utterances of each language the model serves, interleaved.
        let serves = |l: &str| m.spec().languages.iter().any(|x| x == l);
        let mut corpus: Vec<&str> = Vec::new();
        for i in 0..UTTERANCES.len().max(UTTERANCES_ZH.len()) {
            if serves("en") || !serves("zh") {
                corpus.extend(UTTERANCES.get(i));
            }
            if serves("zh") {
                corpus.extend(UTTERANCES_ZH.get(i));
            }
        }
        let name = format!("models/{}", m.model_id());
        g.bench_function(BenchmarkId::new(m.model_id().to_string(), 1), |b| {
            let mut next = 0usize;
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(
                        m.classify(&[corpus[next % corpus.len()]])
                            .expect("classify"),
                    );
                    next += 1;
                }
                let el = t.elapsed();
                samples.record(&name, 1, el / iters as u32);
                el
            });
        });
    }
    g.finish();
    samples.print(|_| "batch 1, 1 intra-op thread, utterances of the model's language".into());
}

criterion_group!(benches, classify, batcher, models);
criterion_main!(benches);
