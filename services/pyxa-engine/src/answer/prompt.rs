//! The prompt: numbered evidence, the candidates with probabilities, the conversation so far.

use pyxa_core::text::Language;
use pyxa_core::{AnswerRecord, ChatMessage};

use super::candidate::Candidate;
use super::template::display_label;
use super::types::{Citation, Mode};

/// A candidate's name for the LLM: a Chinese label with its English reading when the question
/// is in English ("咖啡 (coffee)"), so that the model can answer in English.
fn prompt_label(c: &Candidate, language: Language) -> String {
    match (language, &c.label_en) {
        (Language::En, Some(english)) => format!("{} ({english})", c.label),
        _ => display_label(c, language),
    }
}

/// Earlier turns of the conversation that go into the prompt.
const HISTORY_TURNS: usize = 2;
/// Candidates and evidence items named in the context.
const CANDIDATES_IN_CONTEXT: usize = 3;
const CITATIONS_IN_CONTEXT: usize = 5;

fn system_prompt(mode: Mode, language: Language) -> &'static str {
    match (mode, language) {
        (Mode::Query, Language::En) => "You are a helpful assistant. Answer the question using only the context. Be brief: one sentence that says what the photo most likely shows.",
        (Mode::Chat, Language::En) => "You are a helpful assistant. Answer the question using the context and what you know. Be brief: one sentence that says what the photo most likely shows.",
        (Mode::Query, Language::Zh) => "你是一个有帮助的助手。只根据上下文回答问题。请用中文一句完整的话简短回答，说出照片上最可能是什么，例如：这是猫。",
        (Mode::Chat, Language::Zh) => "你是一个有帮助的助手。根据上下文和你的知识回答问题。请用中文一句完整的话简短回答，说出照片上最可能是什么，例如：这是猫。",
    }
}

/// Text read from a photo, shortened for the prompt.
fn clip(text: &str) -> String {
    clip_to(text, 300)
}

/// A passage, shortened for the prompt (passages are about a paragraph already).
fn clip_passage(text: &str) -> String {
    clip_to(text, 900)
}

fn clip_to(text: &str, max_chars: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[allow(clippy::too_many_arguments)]
pub fn build_messages(
    mode: Mode,
    language: Language,
    prompt: &str,
    candidates: &[Candidate],
    citations: &[Citation],
    photo_text: Option<&str>,
    history: &[AnswerRecord],
) -> Vec<ChatMessage> {
    // The shape that made the small default model answer "This is a cat.": the photo's top
    // labels, then which knowledge-base photos match, by number.
    let mut context = String::new();
    if !candidates.is_empty() {
        let listed: Vec<String> = candidates
            .iter()
            .take(CANDIDATES_IN_CONTEXT)
            .map(|c| format!("{} ({:.2})", prompt_label(c, language), c.probability))
            .collect();
        context.push_str(&format!("Image analysis of the uploaded photo: top labels = {}.", listed.join(", ")));
    }
    let matches: Vec<String> = citations
        .iter()
        .take(CITATIONS_IN_CONTEXT)
        .filter_map(|c| c.label.as_deref().map(|l| format!("[{}] {l}", c.n)))
        .collect();
    if !matches.is_empty() {
        context.push_str(&format!(" Matching photos in the knowledge base: {}.", matches.join(", ")));
    }
    // Words printed on the photos are evidence too.
    if let Some(text) = photo_text {
        context.push_str(&format!(" Text printed on the uploaded photo: \"{}\".", clip(text)));
    }
    for c in citations.iter().take(CITATIONS_IN_CONTEXT) {
        if let Some(text) = &c.ocr_text {
            context.push_str(&format!(" Text printed on photo [{}]: \"{}\".", c.n, clip(text)));
        }
    }
    let mut messages = vec![ChatMessage::system(system_prompt(mode, language))];
    push_history(&mut messages, history);
    messages.push(ChatMessage::user(format!("Context: {}\n\nQuestion: {prompt}", context.trim())));
    messages
}

/// Characters of an earlier question or answer kept in the prompt: the conversation's gist
/// within a budget (a long earlier answer would crowd out the evidence of this one).
const HISTORY_CHARS: usize = 400;

/// Tokens the conversation so far may take in a prompt, however long it is.
const HISTORY_TOKENS: usize = 320;

/// About how many tokens `text` is: a Chinese character is about one, other text about four
/// characters a token (without running the model's tokenizer).
fn estimated_tokens(text: &str) -> usize {
    let han = text.chars().filter(|&c| pyxa_core::text::is_han(c)).count();
    han + (text.chars().count() - han).div_ceil(4)
}

/// The newest turns, at most [`HISTORY_TURNS`] and [`HISTORY_TOKENS`], each side clipped to
/// [`HISTORY_CHARS`]; oldest first.
fn push_history(messages: &mut Vec<ChatMessage>, history: &[AnswerRecord]) {
    let mut budget = HISTORY_TOKENS;
    let mut kept = Vec::new();
    for turn in history.iter().rev().take(HISTORY_TURNS) {
        let (question, mut answer) = (clip_to(&turn.prompt, HISTORY_CHARS), clip_to(&turn.answer, HISTORY_CHARS));
        // The newest turn always goes in (a follow-up needs it), its answer shortened to fit.
        let mut chars = HISTORY_CHARS;
        while kept.is_empty() && chars > 16 && estimated_tokens(&question) + estimated_tokens(&answer) > budget {
            chars /= 2;
            answer = clip_to(&turn.answer, chars);
        }
        let cost = estimated_tokens(&question) + estimated_tokens(&answer);
        if cost > budget {
            break;
        }
        budget -= cost;
        kept.push((question, answer));
    }
    for (question, answer) in kept.into_iter().rev() {
        messages.push(ChatMessage::user(question));
        messages.push(ChatMessage::assistant(answer));
    }
}

/// A passage of evidence: its citation number and its text.
pub struct Passage<'a> {
    pub n: usize,
    pub text: &'a str,
    /// Its similarity to the question (0 when found by its words alone).
    pub score: f32,
}

fn question_system_prompt(mode: Mode, language: Language) -> &'static str {
    match (mode, language) {
        (Mode::Query, Language::En) => "You are a helpful assistant. Answer the question in one or two sentences using only the numbered context, and cite the numbers you used like [1]. If the context does not answer it, say you do not know.",
        (Mode::Chat, Language::En) => "You are a helpful assistant. Answer the question in one or two sentences. Use the numbered context when it helps and cite the numbers you used like [1]; otherwise answer from what you know.",
        (Mode::Query, Language::Zh) => "你是一个有帮助的助手。只根据编号的上下文，用中文一两句话回答问题，并用[1]这样的编号注明出处。上下文没有答案时，就说不知道。",
        (Mode::Chat, Language::Zh) => "你是一个有帮助的助手。用中文一两句话回答问题。上下文有用时引用它，并用[1]这样的编号注明出处；否则根据你的知识回答。",
    }
}

/// The prompt for a question other than "what is this?": the passages that match it, what the
/// photo shows (if the conversation has one), the conversation so far.
pub fn build_question_messages(
    mode: Mode,
    language: Language,
    prompt: &str,
    photo: Option<&Candidate>,
    passages: &[Passage<'_>],
    photo_text: Option<&str>,
    history: &[AnswerRecord],
) -> Vec<ChatMessage> {
    let mut context = Vec::new();
    if let Some(top) = photo {
        context.push(match language {
            Language::En => format!("The photo shows: {}.", prompt_label(top, language)),
            Language::Zh => format!("照片上是：{}。", display_label(top, language)),
        });
    }
    if let Some(text) = photo_text {
        context.push(format!("Text printed on the uploaded photo: \"{}\".", clip(text)));
    }
    for p in passages {
        context.push(format!("[{}] {}", p.n, clip_passage(p.text)));
    }
    let mut messages = vec![ChatMessage::system(question_system_prompt(mode, language))];
    push_history(&mut messages, history);
    let question =
        if context.is_empty() { prompt.to_string() } else { format!("Context:\n{}\n\nQuestion: {prompt}", context.join("\n")) };
    messages.push(ChatMessage::user(question));
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(prompt: &str, answer: &str) -> AnswerRecord {
        AnswerRecord {
            answer_id: String::new(),
            conversation_id: String::new(),
            collection: "default".into(),
            prompt: prompt.into(),
            answer: answer.into(),
            language: "zh".into(),
            mode: "chat".into(),
            image_hash: None,
            image_vector: None,
            candidates: serde_json::json!([]),
            citations: serde_json::json!([]),
            created_at: 0,
            owner: None,
        }
    }

    #[test]
    fn history_keeps_the_newest_turns_within_the_token_budget() {
        let long_zh = "松鼠主要吃坚果和种子".repeat(40);
        let mut history: Vec<AnswerRecord> = (0..20).map(|i| turn(&format!("第{i}个问题"), &long_zh)).collect();
        history.push(turn("What does it eat?", "Nuts and seeds [1]."));
        let mut messages = Vec::new();
        push_history(&mut messages, &history);
        let tokens: usize = messages.iter().map(|m| estimated_tokens(&m.content)).sum();
        assert!(tokens <= HISTORY_TOKENS, "{tokens} tokens");
        // The newest turn is always there, last; an older one only while the budget allows.
        assert_eq!(messages.len(), 2, "a 400-character Chinese answer does not fit next to it");
        assert_eq!(messages[0].content, "What does it eat?");
        // A newest turn longer than the budget goes in shortened.
        let mut messages = Vec::new();
        push_history(&mut messages, &history[..20]);
        let tokens: usize = messages.iter().map(|m| estimated_tokens(&m.content)).sum();
        assert_eq!((messages.len(), messages[0].content.as_str()), (2, "第19个问题"));
        assert!(
            tokens <= HISTORY_TOKENS && messages[1].content.starts_with("松鼠主要吃坚果"),
            "{tokens}: {}",
            messages[1].content
        );
        let short: Vec<AnswerRecord> = (0..5).map(|i| turn(&format!("q{i}"), "a short answer")).collect();
        let mut messages = Vec::new();
        push_history(&mut messages, &short);
        let prompts: Vec<&str> = messages.iter().step_by(2).map(|m| m.content.as_str()).collect();
        assert_eq!(prompts, ["q3", "q4"], "at most HISTORY_TURNS, oldest first");
    }
}
