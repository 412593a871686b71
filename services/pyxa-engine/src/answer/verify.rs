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

/// Whether the LLM's text can stand as the answer to a question other than "what is this?": in
/// the user's language, no loop, no recited context, no chat-template tokens.
pub fn is_fluent(text: &str, language: Language) -> bool {
    !text.is_empty()
        && in_language(text, language)
        && !repeats_itself(text)
        && !echoes_context(text)
        && !text.contains("<|")
        && !text.contains('\u{FFFD}')
}

/// The answer without a lead-in that only says where it comes from ("According to the
/// context, ...", "根据上下文，..."): the citation marks say that.
pub fn strip_lead_in(text: &str) -> &str {
    const LEAD_INS: &[&str] = &[
        "according to the context,",
        "according to the given context,",
        "according to the provided context,",
        "based on the context,",
        "based on the given context,",
        "based on the provided context,",
        "根据上下文，",
        "根据上下文,",
        "根据提供的上下文，",
    ];
    let trimmed = text.trim_start();
    for lead in LEAD_INS {
        if trimmed.len() >= lead.len() && trimmed.is_char_boundary(lead.len()) && trimmed[..lead.len()].eq_ignore_ascii_case(lead)
        {
            return trimmed[lead.len()..].trim_start();
        }
    }
    trimmed
}

/// Whether the LLM says the evidence does not answer the question ("The context does not
/// mention the Wi-Fi password.", "上下文没有提到。").
pub fn is_refusal(text: &str) -> bool {
    const EN: &[&str] = &[
        "not described",
        "no details",
        "does not provide",
        "doesn't provide",
        "not found in",
        "no relevant",
        "not mention",
        "does not say",
        "doesn't say",
        "does not state",
        "doesn't state",
        "not stated",
        "not specified",
        "not provided",
        "no information",
        "not contain",
        "doesn't contain",
        "does not include",
        "cannot answer",
        "can't answer",
        "unable to answer",
        "do not know",
        "don't know",
        "not available in",
        "no mention",
        "not given",
    ];
    const ZH: &[&str] = &[
        "没有提到",
        "未提到",
        "没有提及",
        "未提及",
        "无法回答",
        "不知道",
        "没有相关",
        "未提供",
        "没有提供",
        "没有说明",
        "未说明",
        "没有信息",
        "无法确定",
        "没有给出",
        "未给出",
    ];
    let lower = text.to_lowercase();
    let clean = !text.contains("<|") && !text.contains('\u{FFFD}') && !repeats_itself(text);
    clean && (EN.iter().any(|p| lower.contains(p)) || ZH.iter().any(|p| text.contains(p)))
}

/// The English stem of a lower-case word ("closes", "closed" and "close" share one).
fn stem(word: &str) -> std::borrow::Cow<'_, str> {
    static ENGLISH: std::sync::LazyLock<qdrant_rust_stemmers::Stemmer> =
        std::sync::LazyLock::new(|| qdrant_rust_stemmers::Stemmer::create(qdrant_rust_stemmers::Algorithm::English));
    ENGLISH.stem(word)
}

/// Whether an answer that claims the knowledge base says no more than its sources (the
/// passages and the question): every word of four or more letters (as its stem: "closes" is in
/// "closed on Sundays") and every number it uses appears there, and at least half of its
/// Chinese characters do. Small models mix facts up ("closes at 9 am ... 6 pm on weekends"
/// from "opens at 9 am and closes at 6 pm on weekdays").
pub fn grounded(answer: &str, passages: &[&str], question: &[&str]) -> bool {
    let passage_text = passages.join("\n").to_lowercase();
    let source = format!("{passage_text}\n{}", question.join("\n").to_lowercase());
    let mut source_words: std::collections::HashSet<std::borrow::Cow<'_, str>> =
        source.split(|c: char| !c.is_alphanumeric() || is_han(c)).filter(|w| !w.is_empty()).map(stem).collect();
    source_words.extend(spelled_numbers(&source).map(std::borrow::Cow::Owned));
    // Words are checked against sources in the same script only: an English answer from a
    // Chinese passage shares its numbers and names with it, not its words.
    let latin_sources = passage_text.chars().filter(char::is_ascii_alphabetic).count() >= 20;
    let han_sources = passage_text.chars().filter(|c| is_han(*c)).count() >= 10;
    let words_ok = answer
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric() || is_han(c))
        .filter(|w| {
            let number = !w.is_empty() && w.chars().all(|c| c.is_ascii_digit());
            number || (latin_sources && w.chars().count() >= 4)
        })
        .all(|w| source_words.contains(&stem(w)));
    let han: Vec<char> = answer.chars().filter(|c| is_han(*c)).collect();
    let han_ok = !han_sources || han.is_empty() || han.iter().filter(|c| source.contains(**c)).count() * 2 >= han.len();
    let clauses_ok = !han_sources || han_clauses_supported(answer, &source);
    words_ok && han_ok && clauses_ok && currencies_supported(answer, &source)
}

/// Whether every clause of a Chinese answer rests on its sources: a clause with a telling pair
/// of characters (two in a row, not both among the most common) shares one with them. Half of
/// an answer's characters being the sources' lets an added clause through: "借书期限是三周，
/// 可以续借一次" from passages that speak of no renewal.
fn han_clauses_supported(answer: &str, source: &str) -> bool {
    answer.split(|c: char| "，。；！？、：,;!?:\n".contains(c)).all(|clause| {
        let chars: Vec<char> = clause.chars().collect();
        let mut telling = chars
            .windows(2)
            .filter(|p| {
                is_han(p[0])
                    && is_han(p[1])
                    && !(pyxa_core::keywords::is_common_han(p[0]) && pyxa_core::keywords::is_common_han(p[1]))
            })
            .map(|p| p.iter().collect::<String>())
            .peekable();
        telling.peek().is_none() || telling.any(|pair| source.contains(&pair))
    })
}

/// The currencies a text names: by sign, code or word, and 元/块 only after a number (单元 is
/// "unit") when `strict`. "¥" stands for the sign that the yuan and the yen share.
fn currencies(text: &str, strict: bool) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    let after_number = |unit: char| {
        let mut previous: Option<char> = None;
        lower.chars().any(|c| {
            let hit = c == unit && previous.is_some_and(|p| p.is_ascii_digit() || "零一二三四五六七八九十百千万两".contains(p));
            previous = Some(c);
            hit
        })
    };
    // Signs and Chinese words anywhere; English words whole ("Europe" names no euro).
    let latin: std::collections::HashSet<&str> = lower.split(|c: char| !c.is_ascii_alphabetic()).collect();
    let any = |words: &[&str]| {
        words.iter().any(|w| if w.chars().all(|c| c.is_ascii_alphabetic()) { latin.contains(w) } else { lower.contains(w) })
    };
    let yuan_word = if strict { after_number('元') || after_number('块') } else { any(&["元", "块"]) };
    // 角 and 毛 (a tenth of a yuan) only after a number: 角落 is a corner, 毛巾 a towel.
    let jiao = after_number('角') || after_number('毛');
    // 分 is also a minute and a point: only a source's 分 counts as naming cents.
    let cents = any(&["cent", "cents", "¢"]) || (!strict && after_number('分'));
    [
        ("$", any(&["$", "dollar", "dollars", "usd", "美元"])),
        ("cny", yuan_word || jiao || any(&["yuan", "rmb", "cny", "人民币"])),
        ("cent", cents),
        ("jpy", any(&["yen", "jpy", "日元"])),
        ("¥", any(&["¥", "￥"])),
        ("eur", any(&["€", "euro", "euros", "eur", "欧元"])),
        ("gbp", any(&["£", "pound", "pounds", "gbp", "英镑", "磅"])),
    ]
    .into_iter()
    .filter(|(_, named)| *named)
    .map(|(currency, _)| currency)
    .collect()
}

/// Whether every currency an answer names is one its sources name: the model wrote "$120" for a
/// plot that rents for "120元".
fn currencies_supported(answer: &str, source: &str) -> bool {
    let named = currencies(source, false);
    let yen_or_yuan = |c: &&str| ["¥", "cny", "jpy"].contains(c);
    currencies(answer, true)
        .iter()
        .all(|c| named.contains(c) || (*c == "¥" && named.iter().any(yen_or_yuan)) || (yen_or_yuan(c) && named.contains(&"¥")))
}

/// The passages the answer draws on: those sharing a word of four or more letters, a number, or
/// two Chinese characters in a row with it.
pub fn drawn_from(answer: &str, passage: &str) -> bool {
    let lower = answer.to_lowercase();
    let passage_lower = passage.to_lowercase();
    let shares_word = passage_lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4 || (!w.is_empty() && w.chars().all(|c| c.is_ascii_digit())))
        .any(|w| lower.split(|c: char| !c.is_alphanumeric()).any(|a| a == w));
    let han: Vec<char> = passage.chars().filter(|c| is_han(*c)).collect();
    let shares_han = han.windows(2).any(|pair| answer.contains(&pair.iter().collect::<String>()));
    shares_word || shares_han
}

/// How strongly an answer rests on a passage: the rare things it shares with it count most
/// (a name or a word of four or more letters, a number: 3 each), two Chinese characters in a
/// row count 1. The answer's citations are the passages with the highest support.
pub fn support(answer: &str, passage: &str) -> usize {
    let answer_lower = answer.to_lowercase();
    let passage_lower = passage.to_lowercase();
    let answer_words: std::collections::HashSet<&str> =
        answer_lower.split(|c: char| !c.is_alphanumeric() || is_han(c)).filter(|w| !w.is_empty()).collect();
    let passage_words: std::collections::HashSet<&str> = passage_lower
        .split(|c: char| !c.is_alphanumeric() || is_han(c))
        .filter(|w| w.chars().count() >= 4 || (!w.is_empty() && w.chars().all(|c| c.is_ascii_digit())))
        .collect();
    let words = passage_words.iter().filter(|w| answer_words.contains(*w)).count();
    let han: Vec<char> = answer.chars().filter(|c| is_han(*c)).collect();
    let mut pairs: Vec<String> = han.windows(2).map(|p| p.iter().collect()).collect();
    pairs.sort();
    pairs.dedup();
    let shared_pairs = pairs.iter().filter(|p| passage.contains(p.as_str())).count();
    words * 3 + shared_pairs + numbers_across_scripts(&answer_lower, &passage_lower)
}

/// How many numbers two lower-case texts share only across scripts or spellings: "five" or
/// "5" against 五, "third" against 三. An English answer to a Chinese passage shares no words
/// with it, often only its numbers ("You can borrow up to five books" from 最多可借五本书).
/// One each, like a pair of characters: small numbers are common (a filter on 三楼 is not the
/// printer on the third floor). Zero and one count not at all: "one" is a pronoun, 一 is in
/// 一起 and 一下. The same digits in both count as a word already.
fn numbers_across_scripts(a: &str, b: &str) -> usize {
    let digits = |t: &str| -> std::collections::HashSet<String> {
        t.split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .map(|w| w.parse::<u64>().map_or_else(|_| w.to_string(), |n| n.to_string()))
            .collect()
    };
    let values = |t: &str| -> std::collections::HashSet<String> {
        let mut all = digits(t);
        all.extend(chinese_numerals(t));
        all.extend(t.split(|c: char| !c.is_ascii_alphabetic()).filter_map(english_number));
        all
    };
    let (da, db) = (digits(a), digits(b));
    values(a)
        .intersection(&values(b))
        .filter(|v| {
            let common = ["0", "1"].contains(&v.as_str());
            let same_digits = da.contains(*v) && db.contains(*v);
            !common && !same_digits
        })
        .count()
}

/// The value of an English number word or ordinal up to twenty, or a ten ("five", "third").
fn english_number(word: &str) -> Option<String> {
    const ONES: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    const ORDINALS: [&str; 11] =
        ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];
    const TENS: [&str; 10] = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    let value = ONES
        .iter()
        .position(|w| *w == word)
        .or_else(|| ORDINALS.iter().skip(1).position(|w| *w == word).map(|i| i + 1))
        .or_else(|| TENS.iter().skip(2).position(|w| *w == word).map(|i| (i + 2) * 10))?;
    Some(value.to_string())
}

/// Whether a Chinese answer to a question about who someone is (or what something is called)
/// names what no passage has: the answer's Chinese words that are not the question's must share
/// two characters in a row with a passage ("俱乐部的会长是张三" when no passage names 张三).
pub fn names_the_unknown(answer: &str, question: &str, passages: &[&str]) -> bool {
    const ASKS_A_NAME: [&str; 4] = ["谁", "哪位", "名字", "叫什么"];
    if !ASKS_A_NAME.iter().any(|w| question.contains(w)) {
        return false;
    }
    let text = passages.join("\n");
    let chars: Vec<char> = answer.chars().collect();
    // The characters the answer repeats from the question (by pairs: "长是" of "会长是谁").
    let mut from_question = vec![false; chars.len()];
    for i in 0..chars.len().saturating_sub(1) {
        if question.contains(&chars[i..i + 2].iter().collect::<String>()) {
            from_question[i] = true;
            from_question[i + 1] = true;
        }
    }
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut run = Vec::new();
    for (c, repeated) in chars.iter().zip(&from_question) {
        if is_han(*c) && !repeated {
            run.push(*c);
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    runs.push(run);
    runs.iter().filter(|r| r.len() >= 2).any(|r| !r.windows(2).any(|pair| text.contains(&pair.iter().collect::<String>())))
}

/// The numbers of the English months a lower-case text dates by ("12 may" or "may 2024" ->
/// "5"): a Chinese answer writes the date "12 May" as 5月12日. A month name counts only next
/// to a number, so the verb "may" adds nothing.
fn month_numbers(lower: &str) -> impl Iterator<Item = String> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric() || is_han(c)).filter(|w| !w.is_empty()).collect();
    let numeric = |w: Option<&&str>| w.is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()));
    let mut out = Vec::new();
    for (k, w) in words.iter().enumerate() {
        let month = MONTHS.iter().position(|m| *m == *w || (w.len() == 3 && *w != "mar" && m.starts_with(*w)));
        if let Some(month) = month {
            if numeric(words.get(k + 1)) || (k > 0 && numeric(words.get(k - 1))) {
                out.push((month + 1).to_string());
            }
        }
    }
    out.into_iter()
}

/// The numbers a lower-case text spells out, as digits: its dated months and its Chinese
/// numerals ("七点十五分" -> "7", "15"), which an answer in the other language writes in digits.
fn spelled_numbers(lower: &str) -> impl Iterator<Item = String> {
    month_numbers(lower).chain(chinese_numerals(lower))
}

/// The values of the runs of Chinese numerals in a text ("二十" -> "20", "一百一十" -> "110").
fn chinese_numerals(text: &str) -> impl Iterator<Item = String> {
    let digit = |c: char| "零一二三四五六七八九".chars().position(|d| d == c).or((c == '两').then_some(2));
    let unit = |c: char| match c {
        '十' => Some(10u64),
        '百' => Some(100),
        '千' => Some(1000),
        '万' => Some(10_000),
        _ => None,
    };
    let mut out = Vec::new();
    let mut run: Option<(u64, u64, u64)> = None; // (total, section, pending digit)
    for c in text.chars().chain(std::iter::once(' ')) {
        match (digit(c), unit(c)) {
            (Some(d), _) => {
                // Digits in a row are read as written: 二零二四 is 2024.
                run = Some(match run {
                    Some((total, section, pending)) => (total, section, pending * 10 + d as u64),
                    None => (0, 0, d as u64),
                });
            }
            (_, Some(10_000)) => {
                let (total, section, pending) = run.unwrap_or_default();
                run = Some((total + (section + pending).max(1) * 10_000, 0, 0));
            }
            (_, Some(u)) => {
                let (total, section, pending) = run.unwrap_or_default();
                // "十五" is fifteen: a unit without a digit before it counts once.
                run = Some((total, section + pending.max(1) * u, 0));
            }
            _ => {
                if let Some((total, section, pending)) = run.take() {
                    out.push((total + section + pending).to_string());
                }
            }
        }
    }
    out.into_iter()
}

/// Names and numbers of an answer (Latin words of four or more letters, digits) that none of
/// the sources has: what a cross-lingual answer must not invent.
pub fn unsupported_names(answer: &str, sources: &[&str]) -> bool {
    let source = sources.join("\n").to_lowercase();
    let spelled: Vec<String> = spelled_numbers(&source).collect();
    let source_words: Vec<&str> = source
        .split(|c: char| !c.is_alphanumeric() || is_han(c))
        .filter(|w| !w.is_empty())
        .chain(spelled.iter().map(String::as_str))
        .collect();
    answer
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric() || is_han(c))
        .filter(|w| w.chars().count() >= 4 || (!w.is_empty() && w.chars().all(|c| c.is_ascii_digit())))
        .any(|w| !source_words.contains(&w))
        || !currencies_supported(answer, &source)
}

/// The `[n]` marks of a text.
pub fn cited_numbers(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']') else { break };
        out.extend(rest[open + 1..open + close].split([',', ' ']).filter_map(|p| p.trim().parse::<usize>().ok()));
        rest = &rest[open + close..];
    }
    out
}

/// The text without its `[n]` marks.
pub fn without_marks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        match rest[open..].find(']') {
            Some(close) if rest[open + 1..open + close].chars().all(|c| c.is_ascii_digit() || c == ',' || c == ' ') => {
                out.push_str(&rest[..open]);
                rest = &rest[open + close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ").replace(" .", ".").replace(" 。", "。")
}

/// A Chinese question gets a Chinese answer (more Han characters than Latin letters).
pub fn in_language(text: &str, language: Language) -> bool {
    match language {
        Language::En => true,
        Language::Zh => {
            let han = text.chars().filter(|c| is_han(*c)).count();
            let latin = text.chars().filter(char::is_ascii_alphabetic).count();
            // A name or a code is the same in both languages ("Priya Nair", "HERON").
            let just_a_name = text.split_whitespace().count() <= 3 && text.chars().count() <= 32;
            (han > 0 && han >= latin) || just_a_name
        }
    }
}

/// Small models fall into loops: the same sentence (or line) twice is not an answer.
pub fn repeats_itself(text: &str) -> bool {
    let mut seen = std::collections::HashSet::new();
    text.split(['\n', '.', '。', '!', '！', '?', '？'])
        .map(|s| s.trim().to_lowercase())
        // A Chinese sentence of two characters is a sentence; a Latin one needs a word or two.
        .filter(|s| s.chars().count() >= if s.chars().any(is_han) { 2 } else { 4 })
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
            // A Chinese label may be named by its English reading ("咖啡": "This is coffee.").
            [Some(top.label.as_str()), top.label_en.as_deref()].into_iter().flatten().any(|label| {
                let label = label.to_lowercase();
                let head = label.rsplit(' ').next().unwrap_or(&label).to_string();
                lower.contains(&label) || lower.contains(&head)
            })
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
        || [
            "image analysis",
            "top label",
            "matching photos",
            "knowledge base",
            "similarity",
            "helpful assistant",
            "有帮助的助手",
            "注明出处",
            "the context",
            "上下文",
        ]
        .iter()
        .any(|p| lower.contains(p))
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
        // A label in Chinese, an answer in English.
        let mut coffee = Candidate::new("咖啡", None, 0.9);
        assert!(!is_sound("This is coffee.", std::slice::from_ref(&coffee), Language::En));
        coffee.label_en = Some("coffee".into());
        assert!(is_sound("This is coffee.", std::slice::from_ref(&coffee), Language::En));
        assert!(!is_sound("This is tea.", &[coffee], Language::En));
    }

    #[test]
    fn answers_from_passages_say_nothing_the_passages_do_not() {
        let sources = ["Library hours: the library opens at 9 am and closes at 6 pm on weekdays."];
        let question = ["When does the library close?"];
        assert!(grounded("The library closes at 6 pm on weekdays.", &sources, &question));
        // What SmolLM2-135M answered: the facts mixed up.
        assert!(!grounded("The library closes at 9 am on weekdays and 6 pm on weekends.", &sources, &question));
        assert!(!grounded("It closes at 7 pm.", &sources, &question));
        // Words count by their stem: "closes" is what "closed" and "close" say.
        let hours = ["Library hours: Saturdays from 9:00 to 12:00. It is closed on Sundays."];
        let saturday = ["When does the library close on Saturday?"];
        assert!(grounded("The library closes on Saturday at 12:00.", &hours, &saturday));
        assert!(!grounded("Dogs are welcome in the library on Saturday.", &hours, &["Can I bring my dog?"]));
        let zh = ["借书期限三周，可以续借一次。"];
        assert!(grounded("借书期限是三周。", &zh, &["借书可以借多久？"]));
        assert!(!grounded("你是一个有帮助的助手；可以续倒", &zh, &["借书可以借多久？"]));
        // Every clause rests on the passages: the renewal is a clause of the model's own.
        let loans = ["借书期限为三周，逾期每天罚款五角。图书馆每周一闭馆。"];
        assert!(grounded("借书期限是三周，逾期每天罚款五角。", &loans, &["借书可以借多久？"]));
        assert!(!grounded("借书期限是三周，可以续借一次。", &loans, &["借书可以借多久？"]));
        // A clause of common characters only ("是的") or one the question has is no claim.
        assert!(grounded("是的，图书馆每周一闭馆。", &loans, &["图书馆周一开门吗？"]));
        assert!(grounded("周一开门吗？不，每周一闭馆。", &loans, &["图书馆周一开门吗？"]));
        // Across languages the numbers still have to be the passage's.
        let booking = ["会议室最多可提前14天预订。"];
        let asked = ["How far ahead can I book a meeting room?"];
        assert!(grounded("You can book a meeting room up to 14 days in advance.", &booking, &asked));
        assert!(!grounded("You can book a meeting room up to 30 days in advance.", &booking, &asked));
        // The currency is the passage's too.
        let rent = ["每块菜地每年租金为120元，租期从三月一日开始。"];
        let cost = ["How much does a plot cost per year?"];
        assert!(grounded("A plot costs 120 yuan per year.", &rent, &cost));
        assert!(grounded("A plot costs ¥120 per year.", &rent, &cost));
        assert!(!grounded("The plot costs $120 per year.", &rent, &cost));
        assert!(!grounded("A plot costs 120 euros per year.", &rent, &cost));
        assert!(unsupported_names("The plot costs $120 per year.", &[rent[0], cost[0]]));
        assert!(!unsupported_names("The plot cost per year is 120元.", &[rent[0], cost[0]]));
        let fee = ["The membership fee is $30 a year."];
        assert!(grounded("会费每年30美元。", &fee, &["会费多少钱？"]));
        assert!(!grounded("会费每年30元。", &fee, &["会费多少钱？"]));
        // 五角 is half a yuan, not five cents (what the model answered).
        let fine = ["逾期每天每本罚款五角。"];
        let late = ["What is the fine for a late book?"];
        assert!(!grounded("The fine for a late book is five cents per day per book.", &fine, &late));
        assert!(grounded("逾期每天每本罚款五角。", &fine, &["逾期罚款多少？"]));
        // Words count whole: "Europe" names no euro.
        assert!(grounded("The office is in Europe, in 柏林.", &["办公室在欧洲的柏林。"], &["Where is the office?"]));
        // 元 after no number names no currency (单元 is "unit").
        assert!(grounded("第三单元在二楼。", &["第三单元在二楼，电梯在东侧。"], &["第三单元在哪里？"]));
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
        // What it wrote for "What does it like to eat?" about the cat.
        assert!(!is_fluent(
            "The photo shows a cat, which is a common animal in the context of food. The cat is often served in dishes.",
            Language::En
        ));
        assert!(is_fluent("Cats like to eat fish and meat.", Language::En));
        assert!(is_sound("这是一只猫。它很可爱。", &cands, Language::Zh));
        assert!(is_sound("It is a cat. Cats like to sleep.", &cands, Language::En));
    }

    #[test]
    fn a_finer_kind_of_the_top_is_not_another_answer() {
        let cands = vec![c("cat", "猫", 0.9), c("tiger cat", "山猫", 0.05)];
        assert!(is_sound("It is a tiger cat.", &cands, Language::En));
    }

    #[test]
    fn citations_rest_on_the_passage_that_shares_the_rare_words() {
        let answer = "三楼的打印机叫HERON。";
        let note = "三楼饮水机的滤芯每两周更换一次。";
        let handbook = "The printer on the third floor is called HERON.";
        assert!(support(answer, handbook) > support(answer, note));
        // Across scripts an answer shares a passage's numbers only (what the model answered).
        let rules = "持读者证每次最多可借五本书，借书期限为三周。";
        assert!(support("You can borrow up to five books at once.", rules) > 0);
        assert_eq!(support("You can borrow books at the desk.", rules), 0);
        assert_eq!(support("One way is to ask at the desk.", "每一本书都可以一起借。"), 0, "one is no number");
        assert_eq!(numbers_across_scripts("the third floor, 5 rooms", "三楼有5个房间"), 1, "5 and 5 count as a word");
        assert_eq!(cited_numbers("a [2][3] b [1, 4] [x]"), vec![2, 3, 1, 4]);
        assert_eq!(without_marks("Mochi [1][3]. 叫摩卡 [2]。 [see]"), "Mochi. 叫摩卡。 [see]");
        assert!(!unsupported_names("每周三 at 10:00", &["Fire alarm test: Wednesday 10:00"]));
        assert!(unsupported_names("周四 11:00", &["Fire alarm test: Wednesday 10:00"]));
    }

    #[test]
    fn lead_ins_refusals_and_names() {
        assert_eq!(
            strip_lead_in("According to the context, the machine was descaled on March 4."),
            "the machine was descaled on March 4."
        );
        assert_eq!(strip_lead_in("根据上下文，猫叫摩卡。"), "猫叫摩卡。");
        assert_eq!(strip_lead_in("Mochi."), "Mochi.");
        assert!(is_refusal("The office cat is not described in the given context."));
        assert!(in_language("Priya Nair", Language::Zh));
        assert!(!in_language("The fire warden is Priya Nair, the office manager.", Language::Zh));
    }

    #[test]
    fn a_date_may_change_language() {
        let passage = ["The tomatoes were planted on 12 May and need watering every evening in July."];
        assert!(grounded("番茄是5月12日种的。", &passage, &["番茄是什么时候种的？"]));
        assert!(!grounded("番茄是6月12日种的。", &passage, &["番茄是什么时候种的？"]));
        // "may" the verb is no month.
        assert!(!grounded("可以停5个小时。", &["Visitors may park in our spaces."], &["访客可以停多久？"]));
        assert_eq!(month_numbers("due 3 sep 2025, or may 2024; you may go").collect::<Vec<_>>(), ["9", "5"]);
        // A name asked for must be a passage's.
        let club = ["## 会费 年费300元。会费交给财务负责人赵敏。", "The shed key is kept under the blue flowerpot."];
        assert!(names_the_unknown("俱乐部的会长是张三。", "俱乐部的会长是谁？", &club));
        assert!(!names_the_unknown("会费交给财务负责人赵敏。", "会费交给谁？", &club));
        assert!(!names_the_unknown("赵敏", "会费交给谁？", &club));
        let rooms = ["四楼最大的会议室是兰亭厅，可以坐20人。"];
        assert!(!names_the_unknown("最大的会议室叫兰亭厅。", "最大的会议室叫什么？", &rooms));
        assert!(names_the_unknown("最大的会议室叫松风厅。", "最大的会议室叫什么？", &rooms));
        assert!(!names_the_unknown("每周三", "火警测试是每周几？", &rooms), "not a question about a name");
        assert!(names_the_unknown("会长是李明。", "俱乐部的会长是谁？", &club));
        // Chinese numerals are numbers too.
        let club = ["每周六早上七点在人民公园北门集合，七点十五分准时出发。"];
        assert!(grounded("The club meets at 7 am and leaves at 7:15.", &club, &["When does the club meet?"]));
        assert!(!grounded("The club meets at 8 am.", &club, &["When does the club meet?"]));
        let values: Vec<String> = chinese_numerals("二十分钟，一百一十公里，两万三千，十五，零，二零二四年").collect();
        assert_eq!(values, ["20", "110", "23000", "15", "0", "2024"]);
    }
}
