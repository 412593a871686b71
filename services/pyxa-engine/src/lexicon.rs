//! A Chinese -> English word list (CC-CEDICT) that gives a Chinese label an English reading.
//!
//! The text tower places a Chinese word by its characters as much as by its meaning: "月球"
//! (the moon) lands next to the ball classes (排球, 冰球 ...) because of 球, so a photo of
//! bubbles or a golf ball goes to "月球" where "moon" would not take it. A zero-shot label in
//! Chinese is therefore embedded together with its dictionary reading ("the moon").

use std::collections::HashMap;

/// Headwords (simplified characters) and the English each one is read as.
#[derive(Debug, Default)]
pub struct Lexicon {
    glosses: HashMap<String, String>,
    longest: usize,
}

/// One pronunciation of a headword and its senses, in the dictionary's order (while parsing).
struct Reading {
    /// A capitalised pinyin marks a proper noun (a surname, a place).
    proper: bool,
    senses: Vec<String>,
}

/// Function words a label's meaning does not rest on ("一只猫" is "cat").
const PARTICLES: &[&str] = &["的", "地", "得", "之", "了", "着", "过", "吗", "呢", "吧", "啊"];
/// Numbers and demonstratives, and the measure words that follow them ("一只", "这张").
const COUNTERS: &[&str] = &["一", "两", "几", "这", "那", "每", "某"];
const MEASURE_WORDS: &[&str] = &["个", "只", "张", "条", "辆", "台", "匹", "枚", "件", "本", "支", "位", "座", "株", "朵", "棵"];

impl Lexicon {
    /// Parses CC-CEDICT's text format (`TRAD SIMP [pin1 yin1] /sense/sense/`, `#` comments)
    /// and keeps one English reading per headword.
    pub fn parse(text: &str) -> Lexicon {
        let mut entries: HashMap<&str, Vec<Reading>> = HashMap::new();
        for line in text.lines() {
            let Some((simplified, proper, senses)) = parse_line(line) else { continue };
            entries.entry(simplified).or_default().push(Reading { proper, senses });
        }
        let glosses: HashMap<String, String> =
            entries.keys().filter_map(|w| Some((w.to_string(), gloss(&entries, w, 2)?))).collect();
        let longest = glosses.keys().map(|w| w.chars().count()).max().unwrap_or(0);
        Lexicon { glosses, longest }
    }

    /// Headwords with a reading.
    pub fn len(&self) -> usize {
        self.glosses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.glosses.is_empty()
    }

    /// The English reading of a Chinese label: the label's own entry when it has one, else its
    /// words' (longest dictionary words first, function words left out) joined. Even a name
    /// spelled in characters ("萨塞克斯猎犬", "Bodhisattva to stop up to be able to this hound")
    /// is read: over the 1000 built-in classes' Chinese names, such readings still took a
    /// name to its class more often than the Chinese alone (README, "Zero-shot in Chinese").
    /// `None` for a label without Chinese, or with a character the dictionary lacks.
    pub fn english(&self, label: &str) -> Option<String> {
        let label = label.trim();
        if !label.chars().any(pyxa_core::text::is_han) {
            return None;
        }
        if let Some(gloss) = self.glosses.get(label) {
            return Some(gloss.clone());
        }
        let pieces = self.segment(label);
        let mut parts: Vec<String> = Vec::new();
        let mut previous = "";
        for word in pieces.iter().map(String::as_str) {
            if !word.chars().any(pyxa_core::text::is_han) {
                // Latin letters and digits carry over ("T恤衫" -> "T shirt"); punctuation does not.
                let kept: String = word.chars().filter(|c| c.is_ascii_alphanumeric() || *c == ' ' || *c == '-').collect();
                if !kept.trim().is_empty() {
                    parts.push(kept.trim().to_string());
                }
            } else if !(PARTICLES.contains(&word)
                || COUNTERS.contains(&word)
                || (MEASURE_WORDS.contains(&word) && COUNTERS.contains(&previous)))
            {
                // A word the dictionary lacks leaves the reading incomplete: better none.
                parts.push(self.glosses.get(word)?.clone());
            }
            previous = word;
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// Forward maximum matching over the headwords; a run without Chinese stays one piece, a
    /// character the dictionary lacks is a piece of its own.
    fn segment(&self, text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if !pyxa_core::text::is_han(chars[i]) {
                let start = i;
                while i < chars.len() && !pyxa_core::text::is_han(chars[i]) {
                    i += 1;
                }
                out.push(chars[start..i].iter().collect());
                continue;
            }
            let mut len = self.longest.min(chars.len() - i).max(1);
            while len > 1 && !self.glosses.contains_key(&chars[i..i + len].iter().collect::<String>()) {
                len -= 1;
            }
            out.push(chars[i..i + len].iter().collect());
            i += len;
        }
        out
    }
}

/// The English a headword is read as: the first plain sense of its main reading. The main
/// reading is the one with the most senses among those that are not a cross-reference
/// or a proper noun (鸟's "variant of 屌" reading is not its main one); a headword that is
/// only a cross-reference ("see 恒星系") is read as the word it points to, `hops` times at most.
fn gloss(entries: &HashMap<&str, Vec<Reading>>, word: &str, hops: u8) -> Option<String> {
    let readings = entries.get(word)?;
    let main = |proper_ok: bool| {
        let mut best: Option<&Reading> = None;
        for r in readings.iter().filter(|r| proper_ok || !r.proper) {
            let plain = r.senses.first().is_some_and(|s| reference(s).is_none());
            if plain && best.is_none_or(|b| r.senses.len() > b.senses.len()) {
                best = Some(r);
            }
        }
        best
    };
    match main(false).or_else(|| main(true)) {
        Some(reading) => reading.senses.iter().find_map(|s| plain_sense(s)),
        None if hops > 0 => {
            let target = readings.iter().filter_map(|r| r.senses.first()).find_map(|s| reference(s))?;
            gloss(entries, &target, hops - 1)
        }
        None => None,
    }
}

/// `TRAD SIMP [pinyin] /senses/` -> (simplified, proper noun, senses).
fn parse_line(line: &str) -> Option<(&str, bool, Vec<String>)> {
    if line.starts_with('#') {
        return None;
    }
    let (_traditional, rest) = line.split_once(' ')?;
    let (simplified, rest) = rest.split_once(' ')?;
    let (pinyin, rest) = rest.strip_prefix('[')?.split_once(']')?;
    let senses = rest.trim().strip_prefix('/')?.strip_suffix('/')?;
    let proper = pinyin.chars().next().is_some_and(char::is_uppercase);
    Some((simplified, proper, senses.split('/').map(str::to_string).collect()))
}

/// The headword a cross-reference sense points to ("see 恆星系|恒星系[...]" -> "恒星系"; the
/// simplified form when both are given), or `None` for a sense that is not a cross-reference.
/// A surname counts as one, pointing nowhere useful.
fn reference(sense: &str) -> Option<String> {
    const POINTERS: &[&str] = &["see also ", "see ", "used in ", "abbr. for ", "surname "];
    let lower = sense.to_lowercase();
    // All pointers are ASCII, so the byte offsets in `lower` are those in `sense`.
    let after = match POINTERS.iter().find(|p| lower.starts_with(**p)) {
        Some(p) => p.len(),
        None => lower.find("variant of ").filter(|at| *at < 24)? + "variant of ".len(),
    };
    let target = sense[after..].split('[').next().unwrap_or("").rsplit('|').next().unwrap_or("");
    Some(target.trim().to_string())
}

/// A sense as plain English: no parenthesised notes, no measure-word list ("CL:..."), no
/// cross-reference; the first of its ';'-separated alternatives.
fn plain_sense(sense: &str) -> Option<String> {
    if sense.starts_with("CL:") || reference(sense).is_some() {
        return None;
    }
    let mut plain = String::with_capacity(sense.len());
    let mut depth = 0usize;
    for c in sense.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let first = plain.split(';').map(str::trim).find(|s| !s.is_empty())?;
    let words: Vec<&str> = first.split_whitespace().collect();
    first.chars().any(|c| c.is_ascii_alphabetic()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# CC-CEDICT sample\n\
        月球 月球 [yue4 qiu2] /the moon/\n\
        星系 星系 [xing1 xi4] /see 恆星系|恒星系[heng2 xing1 xi4]/\n\
        恆星系 恒星系 [heng2 xing1 xi4] /stellar system/galaxy/\n\
        鳥 鸟 [diao3] /variant of 屌[diao3]/penis/\n\
        鳥 鸟 [niao3] /bird/CL:隻|只[zhi1],群[qun2]/\n\
        馬 马 [Ma3] /surname Ma/abbr. for Malaysia/\n\
        馬 马 [ma3] /horse/CL:匹[pi3]/\n\
        摩托車 摩托车 [mo2 tuo1 che1] /(loanword) motorbike; motorcycle/CL:輛|辆[liang4]/\n\
        中國 中国 [Zhong1 guo2] /China/\n\
        寺廟 寺庙 [si4 miao4] /temple/monastery/shrine/\n\
        的 的 [de5] /of; ~'s (possessive particle)/\n\
        一 一 [yi1] /one/single/\n\
        隻 只 [zhi1] /classifier for birds and certain animals/\n\
        只 只 [zhi3] /only/merely/\n\
        貓 猫 [mao1] /cat/CL:隻|只[zhi1]/\n\
        頁 页 [xie2] /head/\n\
        頁 页 [ye4] /page/leaf/\n\
        制服 制服 [zhi4 fu2] /to subdue/(in former times) what one is allowed to wear depending on social status/uniform/\n\
        穿 穿 [chuan1] /to wear/to put on/\n\
        女人 女人 [nu:3 ren2] /woman/\n\
        薩 萨 [sa4] /Bodhisattva/\n\
        塞 塞 [sai1] /to stop up/\n\
        克 克 [ke4] /to be able to/\n\
        斯 斯 [si1] /this/\n\
        獵犬 猎犬 [lie4 quan3] /hound/\n\
        磚 砖 [zhuan1] /brick/\n\
        牆 墙 [qiang2] /wall/\n\
        T恤 T恤 [T xu4] /T-shirt/\n";

    fn lexicon() -> Lexicon {
        Lexicon::parse(SAMPLE)
    }

    #[test]
    fn a_word_reads_as_its_main_sense() {
        let l = lexicon();
        assert_eq!(l.english("月球").as_deref(), Some("the moon"));
        assert_eq!(l.english(" 马 ").as_deref(), Some("horse"), "the surname reading is not the word's");
        assert_eq!(l.english("鸟").as_deref(), Some("bird"), "a reading that is only a variant is passed over");
        assert_eq!(l.english("摩托车").as_deref(), Some("motorbike"), "notes and later alternatives dropped");
        assert_eq!(l.english("星系").as_deref(), Some("stellar system"), "a cross-reference is followed");
        assert_eq!(l.english("页").as_deref(), Some("page"), "the reading with more senses is the main one");
        assert_eq!(l.english("中国").as_deref(), Some("China"), "a proper noun when there is nothing else");
        assert_eq!(l.english("制服").as_deref(), Some("to subdue"), "the dictionary's first sense, even when not the one meant");
    }

    #[test]
    fn a_phrase_reads_word_by_word_without_its_grammar() {
        let l = lexicon();
        assert_eq!(l.english("中国寺庙").as_deref(), Some("China temple"));
        assert_eq!(l.english("一只猫").as_deref(), Some("cat"), "number and measure word left out");
        assert_eq!(l.english("猫的页").as_deref(), Some("cat page"));
        assert_eq!(l.english("iPhone猫").as_deref(), Some("iPhone cat"));
        assert_eq!(l.english("穿制服的女人").as_deref(), Some("to wear to subdue woman"));
        assert_eq!(l.english("萨塞克斯猎犬").as_deref(), Some("Bodhisattva to stop up to be able to this hound"));
        assert_eq!(l.english("砖墙").as_deref(), Some("brick wall"));
        assert_eq!(l.english("猫（中国）").as_deref(), Some("cat China"), "punctuation dropped");
    }

    #[test]
    fn no_reading_for_what_it_does_not_cover() {
        let l = lexicon();
        assert_eq!(l.english("cat"), None, "not Chinese");
        assert_eq!(l.english("猫鼬"), None, "a character it lacks leaves the reading incomplete");
        assert_eq!(Lexicon::parse("").english("猫"), None);
        assert!(Lexicon::parse("garbage line\n[no]/x/\n").is_empty());
    }
}
