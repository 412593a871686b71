//! `pyxa eval qa FILE`: question answering over a knowledge base, through the real pipeline
//! (encoder, documents, vector store, LLM) in a scratch data dir.
//!
//! Scoring (see `models/qa/README.md`): an answer is right when, lowercased and without
//! whitespace, it contains one of the accepted strings; it cites its source when one of its
//! `[n]` marks points at a passage of the source document (or the source note); it abstains when
//! the pipeline says the knowledge base holds nothing on it (`answer_source: no_evidence`).

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use pyxa_engine::answer::verify::cited_numbers;
use pyxa_engine::answer::AnswerSource;
use pyxa_engine::{AskRequest, ItemInput, Mode};
use serde::{Deserialize, Serialize};

use crate::bootstrap::App;
use crate::config::{CommonArgs, QaArgs};

#[derive(Debug, Deserialize)]
struct QaSet {
    collections: Vec<QaCollection>,
    questions: Vec<QaQuestion>,
}

#[derive(Debug, Deserialize)]
struct QaCollection {
    name: String,
    #[serde(default)]
    documents: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct QaQuestion {
    id: String,
    collection: String,
    lang: String,
    mode: String,
    question: String,
    #[serde(default)]
    accept: Vec<String>,
    source: Option<String>,
    answerable: bool,
    follow_up_of: Option<String>,
}

/// One question's outcome.
#[derive(Debug, Serialize)]
struct Outcome {
    id: String,
    lang: String,
    mode: String,
    answerable: bool,
    right: bool,
    abstained: bool,
    /// Whether the answer cites the passage (or note) its `source` names; none without a source.
    cites_source: Option<bool>,
    answer: String,
    answer_source: String,
    seconds: f64,
}

fn normalise(s: &str) -> String {
    s.to_lowercase().chars().filter(|c| !c.is_whitespace()).collect()
}

#[derive(Debug, Default, Serialize)]
struct Score {
    answerable: usize,
    right: usize,
    with_source: usize,
    cited: usize,
    unanswerable: usize,
    abstained: usize,
    /// Answerable questions the pipeline abstained on.
    false_abstentions: usize,
}

impl Score {
    fn add(&mut self, o: &Outcome) {
        if o.answerable {
            self.answerable += 1;
            self.right += usize::from(o.right);
            self.false_abstentions += usize::from(o.abstained);
            if let Some(cited) = o.cites_source {
                self.with_source += 1;
                self.cited += usize::from(cited);
            }
        } else {
            self.unanswerable += 1;
            self.abstained += usize::from(o.abstained);
        }
    }
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.1}% ({n}/{d})", 100.0 * n as f64 / d as f64)
    }
}

pub async fn eval_qa(common: CommonArgs, args: QaArgs) -> Result<()> {
    let raw = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let set: QaSet = serde_json::from_str(&raw).with_context(|| format!("parsing {}", args.file.display()))?;
    let base = args.file.parent().unwrap_or(Path::new("."));
    let stores = super::scratch_stores()?;
    let data_dir = stores.data_dir.clone();
    let settings = pyxa_engine::AnswerSettings { max_answer_tokens: args.generator.max_answer_tokens, ..Default::default() };
    let app = App::build(&common, &stores, &args.generator, settings).await?;
    let result = run(&app, &set, base, &args).await;
    // The stores flush when dropped: before their folder goes.
    drop(app);
    let _ = std::fs::remove_dir_all(&data_dir);
    result
}

async fn run(app: &App, set: &QaSet, base: &Path, args: &QaArgs) -> Result<()> {
    // Knowledge base: every collection with its documents and notes; which item is which source.
    let mut source_of_document: HashMap<String, String> = HashMap::new();
    let mut source_of_item: HashMap<String, String> = HashMap::new();
    let started = Instant::now();
    for c in &set.collections {
        app.kb.ensure_collection(&c.name).await?;
        for rel in &c.documents {
            let path = base.join(rel);
            let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let doc = app.kb.add_document(&c.name, &name, bytes).await.with_context(|| format!("adding {rel}"))?;
            eprintln!("pyxa eval qa: {rel}: {} passages, title {:?}", doc.passages, doc.title);
            source_of_document.insert(doc.id, rel.clone());
        }
        for (i, note) in c.notes.iter().enumerate() {
            let item = app.kb.add_item(&c.name, ItemInput { text: Some(note.clone()), ..Default::default() }).await?;
            source_of_item.insert(item.id, format!("note:{i}"));
        }
    }
    eprintln!("pyxa eval qa: knowledge base ready in {:.1} s", started.elapsed().as_secs_f64());

    let mut conversations: HashMap<&str, String> = HashMap::new();
    let mut outcomes = Vec::new();
    let mut wanted: std::collections::HashSet<&str> = args.ids.iter().map(String::as_str).collect();
    // A follow-up needs the question it follows.
    for q in set.questions.iter().rev() {
        if wanted.contains(q.id.as_str()) {
            if let Some(parent) = &q.follow_up_of {
                wanted.insert(parent);
            }
        }
    }
    let selected: Vec<&QaQuestion> =
        set.questions.iter().filter(|q| wanted.is_empty() || wanted.contains(q.id.as_str())).collect();
    let questions = &selected[..args.limit.unwrap_or(selected.len()).min(selected.len())];
    for (i, q) in questions.iter().enumerate() {
        let mut req = AskRequest::new(q.collection.clone(), Some(q.question.clone()), None);
        req.mode = match q.mode.as_str() {
            "query" => Some(Mode::Query),
            "chat" => Some(Mode::Chat),
            other => bail!("question {}: mode {other:?}", q.id),
        };
        if let Some(parent) = &q.follow_up_of {
            req.conversation_id = Some(
                conversations
                    .get(parent.as_str())
                    .cloned()
                    .with_context(|| format!("{}: follows {parent}, not asked before", q.id))?,
            );
        }
        let t = Instant::now();
        let r = app.answers.ask(req, None).await.with_context(|| format!("asking {}", q.id))?;
        let seconds = t.elapsed().as_secs_f64();
        conversations.insert(&q.id, r.conversation_id.clone());
        let answer = normalise(&r.answer);
        let abstained = r.answer_source == AnswerSource::NoEvidence;
        let right = q.answerable && !abstained && q.accept.iter().any(|a| answer.contains(&normalise(a)));
        let cites_source = q.source.as_ref().filter(|_| q.answerable).map(|source| {
            cited_numbers(&r.answer).iter().any(|n| {
                r.citations.iter().filter(|c| c.n == *n).any(|c| {
                    let of_document = c.document.as_ref().and_then(|d| source_of_document.get(&d.id));
                    of_document.or_else(|| source_of_item.get(&c.item_id)) == Some(source)
                })
            })
        });
        let outcome = Outcome {
            id: q.id.clone(),
            lang: q.lang.clone(),
            mode: q.mode.clone(),
            answerable: q.answerable,
            right,
            abstained,
            cites_source,
            answer: r.answer.clone(),
            answer_source: serde_json::to_value(r.answer_source)?.as_str().unwrap_or_default().to_string(),
            seconds,
        };
        let ok = if q.answerable { right && cites_source != Some(false) } else { abstained };
        if args.verbose || !ok {
            eprintln!(
                "[{}/{}] {} {} ({:.1} s) {}: {}\n    -> {} [{}]{}",
                i + 1,
                questions.len(),
                if ok { "ok  " } else { "MISS" },
                q.id,
                seconds,
                q.mode,
                q.question,
                r.answer.replace('\n', " "),
                outcome.answer_source,
                if q.answerable {
                    format!(" accept {:?}, cites source: {:?}", q.accept, cites_source)
                } else {
                    " (should abstain)".into()
                }
            );
            for c in r.citations.iter().take(5) {
                let from =
                    c.document.as_ref().and_then(|d| source_of_document.get(&d.id)).or_else(|| source_of_item.get(&c.item_id));
                eprintln!("      [{}] {:.3} {}", c.n, c.score, from.map(String::as_str).unwrap_or("?"));
            }
        }
        outcomes.push(outcome);
    }
    report(&outcomes, args.json, started.elapsed().as_secs_f64(), app)
}

fn report(outcomes: &[Outcome], json: bool, total_seconds: f64, app: &App) -> Result<()> {
    let mut all = Score::default();
    let mut by: HashMap<String, Score> = HashMap::new();
    for o in outcomes {
        all.add(o);
        by.entry(format!("lang {}", o.lang)).or_default().add(o);
        by.entry(format!("mode {}", o.mode)).or_default().add(o);
    }
    let mut seconds: Vec<f64> = outcomes.iter().map(|o| o.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    let p50 = seconds.get(seconds.len() / 2).copied().unwrap_or(0.0);
    let models = app.answers.models();
    let generator = models.generator.map(|g| format!("{} {}", g.backend, g.model)).unwrap_or_else(|| "none".into());
    if json {
        let mut groups: Vec<_> = by.iter().collect();
        groups.sort_by(|a, b| a.0.cmp(b.0));
        println!(
            "{}",
            serde_json::json!({"generator": generator, "overall": all, "groups": groups, "seconds_p50": p50, "total_seconds": total_seconds, "questions": outcomes})
        );
        return Ok(());
    }
    println!(
        "pyxa eval qa: {} questions, generator {generator}, {:.0} s (p50 {p50:.1} s per answer)",
        outcomes.len(),
        total_seconds
    );
    println!(
        "{:<12} {:>22} {:>22} {:>22} {:>18}",
        "", "answer accuracy", "citation accuracy", "abstention accuracy", "false abstentions"
    );
    let mut rows: Vec<(String, &Score)> = vec![("all".into(), &all)];
    let mut groups: Vec<_> = by.iter().collect();
    groups.sort_by(|a, b| a.0.cmp(b.0));
    rows.extend(groups.into_iter().map(|(k, v)| (k.clone(), v)));
    for (name, s) in rows {
        println!(
            "{:<12} {:>22} {:>22} {:>22} {:>18}",
            name,
            pct(s.right, s.answerable),
            pct(s.cited, s.with_source),
            pct(s.abstained, s.unanswerable),
            s.false_abstentions
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_match_without_case_or_spaces() {
        assert!(normalise("Call 07700 900431.").contains(&normalise("07700 900431")));
        assert!(normalise("每 30 天").contains(&normalise("30天")));
    }
}
