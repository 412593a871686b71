//! Cross-lingual retrieval: a question in one language is also searched for in the other
//! (translated by the LLM), because the multilingual text tower ranks passages in the
//! question's own language above better ones in the other (measured on `models/qa`: a Chinese
//! question found its English source among the top 3 passages 3 times in 16).

use pyxa_core::text::{detect_language, Language};
use pyxa_core::{ChatMessage, GenerationRequest, Generator, Result};

use super::verify;

/// Tokens a translated question may take.
const MAX_TRANSLATION_TOKENS: usize = 64;

pub fn other_language(language: Language) -> Language {
    match language {
        Language::En => Language::Zh,
        Language::Zh => Language::En,
    }
}

fn messages(question: &str, to: Language) -> Vec<ChatMessage> {
    let target = match to {
        Language::En => "English",
        Language::Zh => "Simplified Chinese",
    };
    vec![
        ChatMessage::system("You translate questions. Reply with the translation only: no answer, no explanation, no quotes."),
        ChatMessage::user(format!("Translate into {target}:\n{question}")),
    ]
}

/// The translation when it is usable: one line in the target language, not a loop, not
/// chat-template debris, not much longer than the question.
pub fn clean(text: &str, to: Language, question: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.trim_matches(|c: char| matches!(c, '"' | '“' | '”' | '「' | '」' | '\'')).trim();
    let usable = !line.is_empty()
        && line != question.trim()
        && detect_language(line) == to
        && verify::in_language(line, to)
        && !verify::repeats_itself(line)
        && !repeats_words(line)
        && !line.contains("<|")
        && !line.contains('\u{FFFD}')
        && line.chars().count() <= question.chars().count() * 4 + 40;
    usable.then(|| line.to_string())
}

/// A line that is mostly the same few words ("cat cat cat cat ...").
fn repeats_words(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let distinct: std::collections::HashSet<&str> = words.iter().copied().collect();
    words.len() >= 6 && distinct.len() * 2 < words.len()
}

/// The question in the other language, or none when the generator's text is not usable.
pub async fn translate(generator: &dyn Generator, question: &str, from: Language) -> Result<Option<String>> {
    let to = other_language(from);
    let request = GenerationRequest { messages: messages(question, to), max_tokens: MAX_TRANSLATION_TOKENS, temperature: 0.0 };
    let generation = generator.generate(request, None).await?;
    Ok(clean(&generation.text, to, question))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clean_translations_are_used() {
        let q = "办公室的猫叫什么名字？";
        assert_eq!(
            clean("\"What is the office cat's name?\"\n", Language::En, q).as_deref(),
            Some("What is the office cat's name?")
        );
        assert_eq!(clean("办公室的猫叫什么名字？", Language::En, q), None, "not translated");
        assert_eq!(clean("cat cat cat cat cat cat cat cat cat cat cat cat", Language::En, q), None, "a loop");
        assert_eq!(clean("<|im_start|>assistant", Language::En, q), None);
        assert_eq!(clean("", Language::En, q), None);
        assert_eq!(
            clean("办公室的猫叫什么？", Language::Zh, "What is the office cat called?").as_deref(),
            Some("办公室的猫叫什么？")
        );
        assert_eq!(clean("The cat is called Mochi.", Language::Zh, "What is the office cat called?"), None, "wrong language");
    }
}
