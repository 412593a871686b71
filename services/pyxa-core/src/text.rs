//! Language helpers: pyxa answers in the language of the question.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Zh,
}

impl Language {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "en" | "english" => Some(Language::En),
            "zh" | "zh-cn" | "zh-hans" | "chinese" | "cn" => Some(Language::Zh),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Zh => "zh",
        }
    }
}

/// True for CJK ideographs (the Han blocks used by Chinese).
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF)
}

/// Chinese when the text contains any Han character, else English.
pub fn detect_language(text: &str) -> Language {
    if text.chars().any(is_han) {
        Language::Zh
    } else {
        Language::En
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_chinese_and_english() {
        assert_eq!(detect_language("这是什么动物?"), Language::Zh);
        assert_eq!(detect_language("This is an animal, what is it?"), Language::En);
        assert_eq!(detect_language(""), Language::En);
    }
}
