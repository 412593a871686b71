//! Plain, correct answers built from the candidates: used when the LLM's text does not pass
//! verification, or without an LLM.

use pyxa_core::text::Language;

use super::candidate::Candidate;
#[cfg(test)]
use super::candidate::Detail;
use super::types::Citation;

/// The name of a candidate in the user's language.
pub fn display_label(c: &Candidate, language: Language) -> String {
    match language {
        Language::Zh => c.label_zh.clone().unwrap_or_else(|| c.label.clone()),
        Language::En => c.label.clone(),
    }
}

fn percent(p: f32) -> String {
    format!("{:.0}%", p * 100.0)
}

/// The citation numbers of evidence items that carry the candidate's label.
pub fn supporting(citations: &[Citation], label: &str) -> Vec<usize> {
    citations.iter().filter(|c| c.label.as_deref() == Some(label)).map(|c| c.n).take(3).collect()
}

pub fn cite_marks(ns: &[usize]) -> String {
    ns.iter().map(|n| format!("[{n}]")).collect()
}

/// Below this a roll-up's finer class is not named ("most likely a tiger cat (0%)" says nothing).
const MIN_DETAIL_PROBABILITY: f32 = 0.05;

pub fn template_answer(language: Language, top: Option<&Candidate>, confident: bool, citations: &[Citation]) -> String {
    let Some(top) = top else { return no_evidence_answer(language) };
    let name = display_label(top, language);
    let marks = cite_marks(&supporting(citations, &top.label));
    let marks = if marks.is_empty() { String::new() } else { format!(" {marks}") };
    // A roll-up names the finer class too ("a butterfly, most likely an admiral"), unless the
    // finer class holds almost none of it (a labelled photo made the roll-up certain).
    if let Some(detail) = top.detail.as_ref().filter(|d| d.probability >= MIN_DETAIL_PROBABILITY) {
        let fine = match language {
            Language::Zh => detail.label_zh.clone().unwrap_or_else(|| detail.label.clone()),
            Language::En => detail.label.clone(),
        };
        let (p, q) = (percent(top.probability), percent(detail.probability));
        return match (language, confident) {
            // A roll-up is a WordNet common noun ("big cat"), never a name: it takes an article.
            (Language::En, true) => {
                format!("It is {} {name} ({p}), most likely {} {fine} ({q}).{marks}", article(&name), article(&fine))
            }
            (Language::En, false) => {
                format!("I'm not sure. Perhaps: {name} ({p}), most likely {} {fine} ({q}).{marks}", article(&fine))
            }
            (Language::Zh, true) => format!("这是{name}（{p}），最可能是{fine}（{q}）。{marks}"),
            (Language::Zh, false) => format!("我不确定，可能是{name}（{p}），最可能是{fine}（{q}）。{marks}"),
        };
    }
    match (language, confident) {
        (Language::En, true) => format!("{} ({}).{marks}", english_is(&name), percent(top.probability)),
        (Language::En, false) => format!("I'm not sure. Perhaps: {name} ({}).{marks}", percent(top.probability)),
        (Language::Zh, true) => format!("这是{name}（{}）。{marks}", percent(top.probability)),
        (Language::Zh, false) => format!("我不确定，可能是{name}（{}）。{marks}", percent(top.probability)),
    }
}

/// "It is a cat" for a plain noun; names and longer labels ("eileen collins") get no article.
fn english_is(name: &str) -> String {
    let single_word = !name.contains(' ');
    let starts_lower = name.chars().next().is_some_and(char::is_lowercase);
    if single_word && starts_lower {
        format!("It is {} {name}", article(name))
    } else {
        format!("Most likely: {name}")
    }
}

fn article(name: &str) -> &'static str {
    match name.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// When the model's answer cannot be checked against the passages: the closest passage,
/// quoted with its citation, without claiming that it answers (it may be on another subject).
pub fn passage_answer(language: Language, n: usize, passage: &str) -> String {
    let text = passage.split_whitespace().collect::<Vec<_>>().join(" ");
    match language {
        Language::En => format!("I'm not sure the knowledge base answers this. The closest passage [{n}]: {text}"),
        Language::Zh => format!("我不确定知识库能回答这个问题。最接近的段落[{n}]：{text}"),
    }
}

/// For a question about a photo that nothing answers: what the photo shows, and that the rest
/// is not known.
pub fn photo_only_answer(language: Language, top: &Candidate) -> String {
    let name = display_label(top, language);
    match language {
        Language::En => format!(
            "I found nothing about that in the knowledge base. The photo shows {} ({}).",
            with_article(&name),
            percent(top.probability)
        ),
        Language::Zh => format!("知识库中没有相关内容。照片上是{name}（{}）。", percent(top.probability)),
    }
}

/// For "what colour is it?" about a photo that nothing else describes: the model only knows
/// the photo's name and guessed ("The bus is yellow." for a blue bus).
pub fn colour_unknown_answer(language: Language, top: Option<&Candidate>) -> String {
    match (language, top) {
        (Language::En, Some(top)) => format!(
            "I cannot tell colours from a photo: I know it by what it shows ({}), not by how it looks.",
            with_article(&display_label(top, language))
        ),
        (Language::En, None) => "I cannot tell colours from a photo: I know it by what it shows, not by how it looks.".into(),
        (Language::Zh, Some(top)) => {
            format!("我看不出照片的颜色：我只知道照片上是什么（{}），不知道它的样子。", display_label(top, language))
        }
        (Language::Zh, None) => "我看不出照片的颜色：我只知道照片上是什么，不知道它的样子。".into(),
    }
}

fn with_article(name: &str) -> String {
    if !name.chars().next().is_some_and(char::is_lowercase) {
        name.to_string()
    } else {
        format!("{} {name}", article(name))
    }
}

pub fn no_evidence_answer(language: Language) -> String {
    match language {
        Language::En => "I found nothing about this in the knowledge base, so I cannot answer.".into(),
        Language::Zh => "知识库中没有相关内容，无法回答。".into(),
    }
}

/// The model read the passages found and none answers the question: said without claiming
/// that nothing was found (the passages are still shown as what was searched).
pub fn unanswered_answer(language: Language) -> String {
    match language {
        Language::En => "What I found in the knowledge base does not answer this, so I cannot answer.".into(),
        Language::Zh => "知识库里找到的内容没有回答这个问题，无法回答。".into(),
    }
}

/// Adds the citation marks of the top candidate's evidence when the LLM left them out.
pub fn with_citation(text: String, citations: &[Citation], top: Option<&Candidate>) -> String {
    if text.contains('[') || citations.is_empty() {
        return text;
    }
    let marks = top.map(|t| supporting(citations, &t.label)).unwrap_or_default();
    if marks.is_empty() {
        text
    } else {
        format!("{text} {}", cite_marks(&marks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_the_label_in_the_user_language() {
        let top = Candidate::new("cat", Some("猫".into()), 0.9);
        assert!(template_answer(Language::Zh, Some(&top), true, &[]).contains('猫'));
        assert!(template_answer(Language::En, Some(&top), false, &[]).starts_with("I'm not sure"));
        assert_eq!(template_answer(Language::En, Some(&top), true, &[]), "It is a cat (90%).");
    }

    #[test]
    fn a_roll_up_names_its_finer_class_too() {
        let mut top = Candidate::new("butterfly", Some("蝴蝶".into()), 0.81);
        top.detail = Some(Detail { label: "admiral".into(), label_zh: Some("红纹蛱蝶".into()), probability: 0.29 });
        assert_eq!(
            template_answer(Language::En, Some(&top), true, &[]),
            "It is a butterfly (81%), most likely an admiral (29%)."
        );
        assert_eq!(template_answer(Language::Zh, Some(&top), true, &[]), "这是蝴蝶（81%），最可能是红纹蛱蝶（29%）。");
        // A roll-up of two words is a common noun too ("Most likely: big cat (92%), most likely ..." before).
        let mut top = Candidate::new("big cat", Some("大型猫科动物".into()), 0.92);
        top.detail = Some(Detail { label: "cheetah".into(), label_zh: Some("猎豹".into()), probability: 0.89 });
        assert_eq!(template_answer(Language::En, Some(&top), true, &[]), "It is a big cat (92%), most likely a cheetah (89%).");
        // A labelled photo made the roll-up certain: its finer class says nothing more.
        let mut top = Candidate::new("cat", Some("猫".into()), 1.0);
        top.detail = Some(Detail { label: "tiger cat".into(), label_zh: None, probability: 0.004 });
        assert_eq!(template_answer(Language::En, Some(&top), true, &[]), "It is a cat (100%).");
    }
}
