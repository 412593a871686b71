//! Checking a question before any work is done.

use pyxa_core::text::{detect_language, Language};
use pyxa_core::{CollectionSettings, Error, ErrorCode, Result};

use super::types::{AskRequest, Mode, DEFAULT_ASK_TOP_K};
use crate::kb::validate_top_k;

pub const MAX_PROMPT_CHARS: usize = 2000;

/// A checked question.
#[derive(Debug, Clone)]
pub struct Question {
    /// What the user typed, trimmed (none for a photo alone).
    pub prompt: Option<String>,
    /// The prompt, or "What is this?" in the user's language for a photo alone.
    pub prompt_text: String,
    pub image: Option<Vec<u8>>,
    pub collection: String,
    pub mode: Mode,
    pub top_k: usize,
    pub conversation_id: Option<String>,
    pub language: Language,
    /// Earlier turns the client sent with the question (question, answer).
    pub prior_turns: Vec<(String, String)>,
    /// The collection's workspace settings (system prompt, temperature, similarity floor).
    pub settings: CollectionSettings,
    /// The API key asking (its id).
    pub owner: Option<String>,
}

/// Whether a question about a photo asks what it shows ("what is this?", "What drink is in the
/// picture?", "这是什么动物？"), rather than something else about it ("What does it like to
/// eat?", "上面写着什么？"). Only those are answered by naming the most probable candidate.
pub fn asks_what_it_is(prompt: &str) -> bool {
    let lower = prompt.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    const OTHER_EN: &[&str] = &[
        "does", "do", "did", "can", "could", "should", "would", "say", "says", "said", "written", "mean", "eat", "eats", "cost",
        "why", "how", "when", "where", "who", "used", "made", "colour", "color", "live", "lives", "weigh", "old",
    ];
    // What it is used for, what colour it is, where it lives: questions about a thing, not
    // which thing it is.
    const OTHER_ZH: &[&str] = &[
        "吃",
        "喜欢",
        "写",
        "说",
        "怎么",
        "为什么",
        "多少",
        "多久",
        "哪里",
        "什么时候",
        "能不能",
        "可以",
        "用来",
        "用于",
        "做什么",
        "干什么",
        "用途",
        "作用",
        "颜色",
        "意思",
        "住在",
        "生活在",
    ];
    let english =
        words.iter().any(|w| matches!(*w, "what" | "which" | "identify")) && !words.iter().any(|w| OTHER_EN.contains(w));
    let chinese = (prompt.contains("什么") || prompt.contains("哪")) && !OTHER_ZH.iter().any(|k| prompt.contains(k));
    english || chinese
}

/// Whether a question asks what colour something is: the photo is known by what it shows, not
/// by how it looks, so nothing in pyxa can answer it from the photo alone.
pub fn asks_colour(prompt: &str) -> bool {
    let lower = prompt.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| matches!(w, "colour" | "color" | "colours" | "colors" | "coloured" | "colored"))
        || ["颜色", "什么色", "啥色"].iter().any(|k| prompt.contains(k))
}

/// Checks the question and settles what the request leaves to the collection (mode, top_k).
pub fn check(req: AskRequest, settings: &CollectionSettings) -> Result<Question> {
    let prompt = req.prompt.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
    if prompt.as_ref().is_some_and(|p| p.chars().count() > MAX_PROMPT_CHARS) {
        return Err(Error::new(ErrorCode::PromptTooLong, format!("the prompt is longer than {MAX_PROMPT_CHARS} characters")));
    }
    // An empty file next to a prompt is a form's empty file input, not a photo; alone it is
    // an empty photo and is refused as such when decoded.
    let image = req.image.filter(|b| !b.is_empty() || prompt.is_none());
    if prompt.is_none() && image.is_none() && req.conversation_id.is_none() {
        return Err(Error::new(ErrorCode::EmptyQuestion, "send a prompt, an image, or both"));
    }
    let top_k = req.top_k.or(settings.top_k).unwrap_or(DEFAULT_ASK_TOP_K);
    validate_top_k(top_k)?;
    let mode = match req.mode {
        Some(m) => m,
        None => Mode::parse(settings.mode.as_deref().unwrap_or("chat"))?,
    };
    let language = req.language.unwrap_or_else(|| detect_language(prompt.as_deref().unwrap_or("")));
    let prompt_text = prompt.clone().unwrap_or_else(|| match language {
        Language::Zh => "这是什么?".to_string(),
        Language::En => "What is this?".to_string(),
    });
    Ok(Question {
        prompt,
        prompt_text,
        image,
        collection: req.collection,
        mode,
        top_k,
        conversation_id: req.conversation_id,
        language,
        prior_turns: req.prior_turns,
        settings: settings.clone(),
        owner: req.owner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_default(req: AskRequest) -> Result<Question> {
        check(req, &CollectionSettings::default())
    }

    #[test]
    fn the_collection_decides_what_the_request_leaves_open() {
        let settings = CollectionSettings { mode: Some("query".into()), top_k: Some(9), ..Default::default() };
        let q = check(AskRequest::new("docs", Some("hi".into()), None), &settings).unwrap();
        assert_eq!((q.mode, q.top_k), (Mode::Query, 9));
        let mut req = AskRequest::new("docs", Some("hi".into()), None);
        (req.mode, req.top_k) = (Some(Mode::Chat), Some(2));
        let q = check(req, &settings).unwrap();
        assert_eq!((q.mode, q.top_k), (Mode::Chat, 2));
        let q = check_default(AskRequest::new("docs", Some("hi".into()), None)).unwrap();
        assert_eq!((q.mode, q.top_k), (Mode::Chat, DEFAULT_ASK_TOP_K));
    }

    #[test]
    fn a_question_needs_something_to_ask() {
        let e = check_default(AskRequest::new("default", Some("   ".into()), None)).unwrap_err();
        assert_eq!(e.code, "empty_question");
        let e = check_default(AskRequest::new("default", Some("x".repeat(MAX_PROMPT_CHARS + 1)), None)).unwrap_err();
        assert_eq!(e.code, "prompt_too_long");
        let mut req = AskRequest::new("default", Some("hi".into()), None);
        req.top_k = Some(0);
        assert_eq!(check_default(req).unwrap_err().code, "invalid_top_k");
    }

    #[test]
    fn identification_questions_are_told_from_other_questions() {
        for q in
            ["What is this?", "This is an animal, what is it?", "What drink is in the picture?", "这是什么动物？", "这是什么?"]
        {
            assert!(asks_what_it_is(q), "{q}");
        }
        for q in [
            "What does it like to eat?",
            "Is it dangerous?",
            "When does the library close?",
            "上面写着什么？",
            "它喜欢吃什么？",
            "借书可以借多久？",
            "它是用来做什么的？",
            "这个有什么作用？",
            "What is it used for?",
            "What colour is it?",
            "What is it made of?",
        ] {
            assert!(!asks_what_it_is(q), "{q}");
        }
    }

    #[test]
    fn a_photo_alone_asks_what_it_is_in_the_chosen_language() {
        let mut req = AskRequest::new("default", None, Some(vec![1]));
        req.language = Some(Language::Zh);
        assert_eq!(check_default(req).unwrap().prompt_text, "这是什么?");
        let q = check_default(AskRequest::new("default", Some("这是什么动物?".into()), None)).unwrap();
        assert_eq!(q.language, Language::Zh);
    }
}
