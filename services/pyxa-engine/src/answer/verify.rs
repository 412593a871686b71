//! Answer verification: the LLM's text is used only when it is right (names the most probable
//! candidate in the user's language, names no other candidate, does not recite the context).

use pyxa_core::text::{is_han, Language};

use super::candidate::Candidate;

/// Whether the LLM's text can be shown in place of the template answer.
pub fn is_sound(text: &str, candidates: &[Candidate], language: Language) -> bool {
    names_top(text, candidates.first(), language)
        && in_language(text, language)
        && !echoes_context(text)
        && !repeats_itself(text)
        && !names_another_candidate(text, candidates, language)
}

/// A Chinese question gets a Chinese answer (more Han characters than Latin letters).
pub fn in_language(text: &str, language: Language) -> bool {
    match language {
        Language::En => true,
        Language::Zh => {
            let han = text.chars().filter(|c| is_han(*c)).count();
            let latin = text.chars().filter(char::is_ascii_alphabetic).count();
            han > 0 && han >= latin
        }
    }
}

/// Small models fall into loops: the same sentence (or line) twice is not an answer.
pub fn repeats_itself(text: &str) -> bool {
    let mut seen = std::collections::HashSet::new();
    text.split(['\n', '.', '。', '!', '！', '?', '？'])
        .map(|s| s.trim().to_lowercase())
        .filter(|s| s.chars().count() >= 4)
        .any(|s| !seen.insert(s))
}

/// Whether the answer names the most probable candidate in the user's language.
pub fn names_top(text: &str, top: Option<&Candidate>, language: Language) -> bool {
    let Some(top) = top else { return !text.is_empty() };
    if text.is_empty() {
        return false;
    }
    let lower = text.to_lowercase();
    match language {
        Language::Zh => match top.label_zh.as_deref() {
            Some(zh) => text.contains(zh),
            None => lower.contains(&top.label.to_lowercase()) && text.chars().any(is_han),
        },
        Language::En => {
            let label = top.label.to_lowercase();
            let head = label.rsplit(' ').next().unwrap_or(&label).to_string();
            lower.contains(&label) || lower.contains(&head)
        }
    }
}

/// Whether the text also names a less probable candidate ("a coffee shop with a cat"): a small
/// model mixing up its evidence.
pub fn names_another_candidate(text: &str, candidates: &[Candidate], language: Language) -> bool {
    let Some(top) = candidates.first() else { return false };
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let top_en = top.label.to_lowercase();
    candidates.iter().skip(1).any(|c| {
        let other = c.label.to_lowercase();
        // "tiger cat" under "cat" is the same answer, not another one; nor is the finer class
        // a roll-up names ("a butterfly, most likely an admiral").
        let is_detail = top.detail.as_ref().is_some_and(|d| d.label.eq_ignore_ascii_case(&c.label));
        if is_detail || top_en.contains(&other) || other.contains(&top_en) {
            return false;
        }
        let english = if other.contains(' ') { lower.contains(&other) } else { words.contains(&other.as_str()) };
        let chinese = language == Language::Zh
            && c.label_zh.as_deref().is_some_and(|zh| {
                text.contains(zh) && !top.label_zh.as_deref().is_some_and(|t| t.contains(zh) || zh.contains(t))
            });
        english || chinese
    })
}

/// Small models sometimes recite the context instead of answering.
pub fn echoes_context(text: &str) -> bool {
    let lower = text.to_lowercase();
    let recites_probability = ["(0.", "(1.0", "（0.", "（1.0"].iter().any(|p| text.contains(p));
    recites_probability
        || ["image analysis", "top label", "matching photos", "knowledge base", "similarity"].iter().any(|p| lower.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(label: &str, zh: &str, p: f32) -> Candidate {
        Candidate::new(label, Some(zh.into()), p)
    }

    #[test]
    fn right_answers_pass_and_mixed_up_ones_do_not() {
        let cands = vec![c("cat", "猫", 0.9), c("dog", "狗", 0.05)];
        assert!(is_sound("This is a cat.", &cands, Language::En));
        assert!(is_sound("这是一只猫。", &cands, Language::Zh));
        assert!(!is_sound("A dog or a cat.", &cands, Language::En));
        assert!(!is_sound("The top labels are cat.", &cands, Language::En));
        assert!(!is_sound("This is an animal.", &cands, Language::En));
        assert!(!is_sound("这是狗。", &cands, Language::Zh));
    }

    #[test]
    fn loops_recitals_and_the_wrong_language_are_rejected() {
        let cands = vec![c("cat", "猫", 0.99)];
        // What SmolLM2-135M wrote for "这是什么动物?" about a cat.
        let looped = "猫 (1.00)\n\nThe answer is cat.\n\nThe answer is cat.\n\nThe answer is cat [1]";
        assert!(!is_sound(looped, &cands, Language::Zh));
        assert!(!is_sound("The answer is cat, 猫.", &cands, Language::Zh), "English answer to a Chinese question");
        assert!(!is_sound("It is a cat (0.99).", &cands, Language::En), "recites the probability");
        assert!(!is_sound("The top label is cat.", &cands, Language::En));
        assert!(is_sound("这是一只猫。它很可爱。", &cands, Language::Zh));
        assert!(is_sound("It is a cat. Cats like to sleep.", &cands, Language::En));
    }

    #[test]
    fn a_finer_kind_of_the_top_is_not_another_answer() {
        let cands = vec![c("cat", "猫", 0.9), c("tiger cat", "山猫", 0.05)];
        assert!(is_sound("It is a tiger cat.", &cands, Language::En));
    }
}
