//! Checking a question before any work is done.

use pyxa_core::text::{detect_language, Language};
use pyxa_core::{Error, ErrorCode, Result};

use super::types::{AskRequest, Mode};
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
}

pub fn check(req: AskRequest) -> Result<Question> {
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
    validate_top_k(req.top_k)?;
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
        mode: req.mode,
        top_k: req.top_k,
        conversation_id: req.conversation_id,
        language,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_needs_something_to_ask() {
        let e = check(AskRequest::new("default", Some("   ".into()), None)).unwrap_err();
        assert_eq!(e.code, "empty_question");
        let e = check(AskRequest::new("default", Some("x".repeat(MAX_PROMPT_CHARS + 1)), None)).unwrap_err();
        assert_eq!(e.code, "prompt_too_long");
        let mut req = AskRequest::new("default", Some("hi".into()), None);
        req.top_k = 0;
        assert_eq!(check(req).unwrap_err().code, "invalid_top_k");
    }

    #[test]
    fn a_photo_alone_asks_what_it_is_in_the_chosen_language() {
        let mut req = AskRequest::new("default", None, Some(vec![1]));
        req.language = Some(Language::Zh);
        assert_eq!(check(req).unwrap().prompt_text, "这是什么?");
        let q = check(AskRequest::new("default", Some("这是什么动物?".into()), None)).unwrap();
        assert_eq!(q.language, Language::Zh);
    }
}
